import {BaseCommand} from '../../src/cli/base-command.js'
import {renderLldpStats} from '../../src/cli/lldp-stats.js'
import type {LldpStatsView} from '../../src/control/views.js'
import {callDaemon} from '../../src/control/client.js'

export default class LldpStats extends BaseCommand {
  static override summary =
    'LLDP counters per interface: frames received, sent, and every discarded LLDPDU by the rule it broke.'
  static override description = `Rule names are those of \`vdp-agent lldp decode --strict\` (e.g. mandatory-tlv-order), plus the agent's own:
own-frame, unknown-destination, too-many-neighbors. The counters live in the running daemon (since its start).`
  static override examples = ['<%= config.bin %> lldp stats', '<%= config.bin %> lldp stats --json']

  async run(): Promise<LldpStatsView> {
    const {flags} = await this.parse(LldpStats)
    const {config} = this.agentConfig(flags.config)
    const view = await callDaemon(config.general.control_socket, 'lldp.stats')
    this.log(renderLldpStats(view))
    return view
  }
}
