import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base-command.js'
import {formatNeighborTlvs, withTlvs} from '../src/cli/neighbor-tlvs.js'
import {outputWidth} from '../src/cli/table.js'
import {neighborDetails, neighborTable} from '../src/cli/views.js'
import type {NeighborView} from '../src/control/views.js'

export default class Neighbors extends BaseCommand {
  static override summary =
    'LLDP neighbours: chassis, port, system name, management address, EVB mode, age; -v: every TLV.'
  static override description =
    'With -v, every TLV of each neighbour’s last LLDPDU, like `lldpcli show neighbors details` (from a running daemon; its database keeps only the table’s fields).'
  static override examples = [
    '<%= config.bin %> neighbors',
    '<%= config.bin %> neighbors -v',
    '<%= config.bin %> neighbors --json',
  ]
  static override flags = {
    verbose: Flags.boolean({
      char: 'v',
      summary: 'Every TLV of each neighbour (with --json: `frame` in hex and the decoded `tlvs`).',
    }),
  }

  async run(): Promise<{source: 'daemon' | 'database'; neighbors: NeighborView[]}> {
    const {flags} = await this.parse(Neighbors)
    const {source, data} = await this.daemonOrDatabase(
      flags.config,
      'neighbors',
      (store) => store.neighbors.list(),
      flags.verbose ? {frames: true} : undefined,
    )
    this.noteSource(source)
    this.log(flags.verbose ? neighborDetails(data, formatNeighborTlvs) : neighborTable(data, Date.now(), outputWidth()))
    return {source, neighbors: flags.verbose ? withTlvs(data) : data}
  }
}
