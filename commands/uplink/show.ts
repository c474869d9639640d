import {type UplinkView, uplinkView} from '../../src/agent/status.js'
import {BaseCommand} from '../../src/cli/base-command.js'
import {ago} from '../../src/cli/table.js'
import {errorMessage} from '../../src/errors.js'
import {readOverrideFile} from '../../src/uplink/override-file.js'

type UplinkShowData = UplinkView & {
  mode?: string
  override?: {path: string; ifname: string | null; error: string | null}
  lldp?: {listening: string[]; transmitting: string[]}
}

export default class UplinkShow extends BaseCommand {
  static override summary = 'Show the uplink, why it was chosen, its bond members and the last change.'
  static override examples = ['<%= config.bin %> uplink show', '<%= config.bin %> uplink show --json']

  async run(): Promise<UplinkShowData & {answeredBy: 'daemon' | 'database'}> {
    const {flags} = await this.parse(UplinkShow)
    const {config} = this.agentConfig(flags.config)
    const {source, data} = await this.daemonOrDatabase<UplinkShowData>(flags.config, 'uplink.show', (store) => {
      const path = config.general.uplink_override_file
      let override: UplinkShowData['override']
      try {
        override = {path, ifname: readOverrideFile(path) ?? null, error: null}
      } catch (err) {
        override = {path, ifname: null, error: errorMessage(err)}
      }
      return {...uplinkView(store.uplink.get()), mode: config.uplink.mode, override}
    })
    this.noteSource(source)
    this.log(`uplink:       ${data.ifname ?? 'none'}`)
    this.log(`state:        ${data.state}`)
    this.log(`chosen by:    ${data.source ? describeSource(data.source) : '-'}`)
    if (data.detectedOn && data.detectedOn !== data.ifname) this.log(`detected on:  ${data.detectedOn} (bond slave)`)
    if (data.bondMembers.length > 0) this.log(`bond members: ${data.bondMembers.join(', ')}`)
    if (data.reason) this.log(`reason:       ${data.reason}`)
    if (data.evb) {
      const e = data.evb
      this.log(`EVB:          R=${e.retries} RTE=${e.rte} RWD=${e.rwd} RKA=${e.rka} (negotiated)${e.groupIds ? ', group IDs' : ''}${e.reflectiveRelay ? ', reflective relay' : ''}`)
    }
    this.log(`last change:  ${data.changedAt ? `${data.changedAt} (${ago(Date.parse(data.changedAt))})` : '-'}`)
    if (data.lldp) this.log(`LLDP:         listening on ${data.lldp.listening.join(', ') || 'none'}; transmitting on ${data.lldp.transmitting.join(', ') || 'none'}`)
    if (data.override) {
      const o = data.override
      this.log(`override:     ${o.error ? `INVALID: ${o.error}` : (o.ifname ?? 'none')} (${o.path})`)
    }
    return {...data, answeredBy: source}
  }
}

function describeSource(source: string): string {
  if (source === 'override') return 'override file (vdp-agent uplink set)'
  if (source === 'config') return 'config ([uplink] static_interface)'
  return 'LLDP (neighbour advertises EVB bridge mode)'
}
