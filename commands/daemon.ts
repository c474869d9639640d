import {Flags} from '@oclif/core'

import {DaemonProcess} from '../src/daemon/main.js'
import {VdpCommand} from '../src/cli/vdp-command.js'
import {ConfigError, EXIT_CONFIG, loadConfig} from '../src/config/load.js'
import {exitCodeFor} from '../src/error-codes.js'
import {VdpAgentError, errorMessage} from '../src/errors.js'
import {type LogLevel, createLogger} from '../src/log/logger.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

export default class DaemonCommand extends VdpCommand {
  static override summary = 'Run the vdp-agent daemon in the foreground (systemd runs it this way).'
  static override description = `Loads the config (exit 78 if it is invalid), opens the state database, and serves the CLI on the
control socket. SIGTERM or SIGINT drain in-flight work and stop cleanly; SIGHUP reloads the config
(a bad file is reported and the running config kept).`
  static override flags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file (default /etc/vdp-agent/agent.ini, else built-in defaults).',
      env: 'VDP_AGENT_CONFIG',
    }),
    'log-level': Flags.option({options: LEVELS, summary: 'Override [log] level.'})(),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DaemonCommand)
    let loaded
    try {
      loaded = loadConfig(flags.config)
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`vdp-agent: invalid configuration\n${err.message}\n`)
        process.exit(EXIT_CONFIG)
      }
      throw err
    }
    const level: LogLevel = flags['log-level'] ?? loaded.config.log.level
    const log = createLogger({level, format: loaded.config.log.format})
    for (const w of loaded.warnings) log.warn(w)
    const daemon = new DaemonProcess({loaded, log, configPath: flags.config})

    const stop = (signal: string) => {
      log.info({signal}, 'stop requested')
      daemon.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.fatal({err: errorMessage(err)}, 'clean stop failed')
          process.exit(1)
        },
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    process.on('SIGHUP', () => daemon.reload())

    try {
      await daemon.start()
    } catch (err) {
      log.fatal(
        {err: errorMessage(err), code: err instanceof VdpAgentError ? err.code : undefined},
        'vdp-agent daemon failed to start',
      )
      await daemon.stop().catch(() => {})
      process.exit(startFailureExitCode(err))
    }
  }
}

/** Failures a restart cannot fix get their own codes (65, 77: the systemd unit does not restart on them); else 1. */
function startFailureExitCode(err: unknown): number {
  return err instanceof VdpAgentError ? exitCodeFor(err.code) : 1
}
