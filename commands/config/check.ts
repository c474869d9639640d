import {Flags} from '@oclif/core'

import {redactCredentials} from '../../src/rpc/transport-url.js'
import {BaseCommand} from '../../src/cli/base-command.js'
import {ConfigError, type ConfigProblem, EXIT_CONFIG, loadConfig} from '../../src/config/load.js'
import type {AgentConfig} from '../../src/config/schema.js'

interface CheckResult {
  ok: boolean
  file: string | null
  warnings: string[]
  problems: ConfigProblem[]
  config?: AgentConfig
}

export default class ConfigCheck extends BaseCommand {
  static override summary = 'Validate a config file without starting anything.'
  static override description =
    'Exit 0 when valid (warnings for unknown keys), 78 when not, naming file, line, section, key, value and what was expected.'
  static override examples = ['<%= config.bin %> config check --config /etc/vdp-agent/agent.ini']
  static override flags = {
    show: Flags.boolean({summary: 'Also print the effective configuration (defaults filled in).'}),
  }

  async run(): Promise<CheckResult> {
    const {flags} = await this.parse(ConfigCheck)
    try {
      const loaded = loadConfig(flags.config)
      const file = loaded.file ?? null
      for (const w of loaded.warnings) this.logToStderr(`warning: ${w}`)
      this.log(
        file
          ? `${file}: valid${loaded.warnings.length ? ` (${loaded.warnings.length} warning(s))` : ''}`
          : 'no config file: the built-in defaults are valid',
      )
      // the broker URL is shown without its credentials
      const shown = {...loaded.config, rpc: {...loaded.config.rpc, url: redactCredentials(loaded.config.rpc.url)}}
      if (flags.show) this.log(JSON.stringify(shown, null, 2))
      return {ok: true, file, warnings: loaded.warnings, problems: [], ...(flags.show ? {config: shown} : {})}
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      if (this.jsonEnabled()) {
        process.exitCode = EXIT_CONFIG
        return {ok: false, file: err.problems[0]?.file ?? null, warnings: [], problems: err.problems}
      }
      this.failConfig(err)
    }
  }
}
