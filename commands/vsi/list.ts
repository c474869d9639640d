import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {outputWidth} from '../../src/cli/table.js'
import {VSI_STATES, filterVsis, vsiTable} from '../../src/cli/views.js'
import type {VsiRecord} from '../../src/model/vsi.js'

export default class VsiList extends BaseCommand {
  static override summary = 'VM ports (VSIs): MAC, network, segment, local and switch VLAN, state and failure reason.'
  static override examples = [
    '<%= config.bin %> vsi list',
    '<%= config.bin %> vsi list --state failed --state pending',
    '<%= config.bin %> vsi list --network 5f3c1a9e-0d2b-4c6f-9a71-2e8b4d0c7f15',
    '<%= config.bin %> vsi list --port 1f0c4e2a --json',
  ]
  static override flags = {
    state: Flags.option({
      options: VSI_STATES,
      multiple: true,
      summary: 'Only VSIs in this state (repeat for several).',
    })(),
    network: Flags.string({summary: 'Only VSIs of this network (UUID).'}),
    port: Flags.string({summary: 'Only the VSI of this port (UUID, or its first characters as the table shows them).'}),
  }

  async run(): Promise<{source: 'daemon' | 'database'; vsis: VsiRecord[]}> {
    const {flags} = await this.parse(VsiList)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'vsi.list', (store) => store.vsis.list())
    const vsis = filterVsis(data, {state: flags.state, network: flags.network, port: flags.port})
    this.noteSource(source)
    this.log(vsiTable(vsis, Date.now(), outputWidth(), {more: '--port PREFIX or --json'}))
    return {source, vsis}
  }
}
