import {Command, Errors, Flags} from '@oclif/core'

import {EXIT_CONFIG, ConfigError, type LoadedConfig, loadConfig} from '../config/load.js'
import {DaemonUnreachableError, callDaemon} from '../control/client.js'
import {VdpAgentError} from '../errors.js'
import {Store, databasePath} from '../store/store.js'

/**
 * Shared by every vdp-agent command: `--config`, `--json`, config errors exiting 78, and reading state
 * from the running daemon or, when it is down, straight from its database (read-only, never blocking it).
 */
export abstract class BaseCommand extends Command {
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
  protected async daemonOrDatabase<T>(
    configPath: string | undefined,
    method: string,
    fromStore: (store: Store) => T,
    params?: unknown,
  ): Promise<{source: 'daemon' | 'database'; data: T}> {
    const {config} = this.agentConfig(configPath)
    try {
      return {source: 'daemon', data: (await callDaemon(config.general.control_socket, method, params)) as T}
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
    }
    let store: Store
    try {
      store = Store.open(databasePath(config.general.state_dir), {readonly: true})
    } catch (err) {
      this.error(`the daemon is not running and its database cannot be read: ${(err as Error).message}`, {exit: 3, code: 'NO_STATE'})
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

  /** Typed errors become clean messages with meaningful exit codes (oclif's --json mode would exit 1). */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    let e = err
    if (err instanceof VdpAgentError) e = Object.assign(new Errors.CLIError(err.message, {exit: exitCodeFor(err.code)}), {code: err.code})
    if (this.jsonEnabled() && e.oclif?.exit !== undefined) process.exitCode = e.oclif.exit
    return super.catch(e)
  }
}

/** 2: bad usage or argument, 3: daemon not reachable, 77: no permission, 78: bad configuration, 1: anything else. */
export function exitCodeFor(code: string): number {
  if (code === 'CONFIG_INVALID') return EXIT_CONFIG
  if (code === 'INVALID_IFNAME' || code === 'BAD_ARGUMENT' || code === 'UNKNOWN_PORT') return 2
  if (code === 'DAEMON_UNREACHABLE' || code === 'DAEMON_TIMEOUT') return 3
  if (code === 'DAEMON_ACCESS_DENIED') return 77 // EX_NOPERM (sysexits.h)
  return 1
}
