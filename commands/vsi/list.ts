import {BaseCommand} from '../../src/cli/base-command.js'
import {ago, renderTable} from '../../src/cli/table.js'
import type {VsiRecord} from '../../src/store/vsi-repo.js'

export default class VsiList extends BaseCommand {
  static override summary = 'VM ports (VSIs): MAC, network, segment, local and switch VLAN, state and failure reason.'
  static override examples = ['<%= config.bin %> vsi list', '<%= config.bin %> vsi list --json']

  async run(): Promise<{source: 'daemon' | 'database'; vsis: VsiRecord[]}> {
    const {flags} = await this.parse(VsiList)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'vsi.list', (store) => store.vsis.list())
    this.noteSource(source)
    if (data.length === 0) {
      this.log('no VSIs')
    } else {
      const now = Date.now()
      this.log(
        renderTable(
          ['PORT', 'MAC', 'SEGMENT', 'VLAN', 'LOCAL', 'STATE', 'UPDATED', 'REASON'],
          data.map((v) => [v.portUuid, v.mac, v.segmentationId, v.vdpVlan, v.localVlan, v.desired === 'down' && v.state !== 'failed' ? `${v.state} (down)` : v.state, ago(v.updatedAt, now), v.failReason]),
        ),
      )
    }
    return {source, vsis: data}
  }
}
