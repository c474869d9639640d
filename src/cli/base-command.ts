import {Flags} from '@oclif/core'

import {EXIT_CONFIG, ConfigError, type LoadedConfig, loadConfig} from '../config/load.js'
import {DaemonUnreachableError, callDaemon} from '../control/client.js'
import type {ControlMethod, ControlParams, ControlResult} from '../control/protocol.js'
import {exitCodeFor} from '../error-codes.js'
import {Store, databasePath} from '../store/store.js'
import {VdpCommand} from './vdp-command.js'

/**
 * Shared by the commands that read the agent's config: `--config`, `--json`, config errors exiting 78, and
 * reading state from the running daemon or, when it is down, straight from its database (read-only, never
 * blocking it). Typed errors and their exit codes: VdpCommand.
 */
export abstract class BaseCommand extends VdpCommand {
  static override enableJsonFlag = true
  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file (default /etc/vdp-agent/agent.ini, else built-in defaults).',
      env: 'VDP_AGENT_CONFIG',
      helpGroup: 'GLOBAL',
    }),
  }

  private loadedConfig?: LoadedConfig

  protected agentConfig(configPath: string | undefined): LoadedConfig {
    if (this.loadedConfig) return this.loadedConfig
    try {
      this.loadedConfig = loadConfig(configPath)
    } catch (err) {
      if (err instanceof ConfigError) this.failConfig(err)
      throw err
    }
    for (const w of this.loadedConfig.warnings) this.logToStderr(`warning: ${w}`)
    return this.loadedConfig
  }

  /** Config problems go out verbatim, one per line (oclif would wrap and prefix them), then exit 78. */
  protected failConfig(err: ConfigError): never {
    if (this.jsonEnabled()) this.logJson({error: {code: err.code, message: err.message, problems: err.problems}})
    else process.stderr.write(`vdp-agent: invalid configuration\n${err.message}\n`)
    return this.exit(EXIT_CONFIG)
  }

  /** Ask the daemon; if it is not running, answer from the database and say so. */
  protected async daemonOrDatabase<M extends ControlMethod>(
    configPath: string | undefined,
    method: M,
    fromStore: (store: Store) => ControlResult<M>,
    params?: ControlParams<M>,
  ): Promise<{source: 'daemon' | 'database'; data: ControlResult<M>}> {
    const {config} = this.agentConfig(configPath)
    try {
      return {source: 'daemon', data: await callDaemon(config.general.control_socket, method, params)}
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
    }
    let store: Store
    try {
      store = Store.open(databasePath(config.general.state_dir), {readonly: true})
    } catch (err) {
      this.error(`the daemon is not running and its database cannot be read: ${(err as Error).message}`, {
        exit: exitCodeFor('NO_STATE'),
        code: 'NO_STATE',
      })
    }
    try {
      return {source: 'database', data: fromStore(store)}
    } finally {
      store.close()
    }
  }

  protected noteSource(source: 'daemon' | 'database'): void {
    if (source === 'database') this.log('(daemon not running: showing the last state recorded in its database)\n')
  }
}
