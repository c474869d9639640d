import {BaseCommand} from '../src/cli/base-command.js'
import {ago, renderTable} from '../src/cli/table.js'
import type {NeighborRecord} from '../src/store/neighbor-repo.js'

interface EvbView {
  mode?: string
  retries?: number
  rte?: number
  rwd?: number
  rka?: number
}

export default class Neighbors extends BaseCommand {
  static override summary = 'LLDP neighbours: LLDP agent, chassis, port, system name, management address, EVB mode and values, age.'
  static override examples = ['<%= config.bin %> neighbors', '<%= config.bin %> neighbors --json']

  async run(): Promise<{source: 'daemon' | 'database'; neighbors: NeighborRecord[]}> {
    const {flags} = await this.parse(Neighbors)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'neighbors', (store) => store.neighbors.list())
    this.noteSource(source)
    if (data.length === 0) {
      this.log('no LLDP neighbours')
    } else {
      const now = Date.now()
      this.log(
        renderTable(
          ['INTERFACE', 'AGENT', 'CHASSIS', 'PORT', 'SYSTEM', 'MGMT', 'EVB', 'AGE', 'EXPIRES'],
          data.map((n) => [n.ifname, agentName(n.destAddress), n.chassisId, n.portId, n.systemName, mgmtText(n.mgmtAddresses), evbText(n.evb as EvbView | null), ago(n.firstSeen, now), `${Math.max(0, Math.round((n.expiresAt - now) / 1000))}s`]),
        ),
      )
    }
    return {source, neighbors: data}
  }
}

/** The 802.1AB LLDP agent a neighbour was heard on, by its destination group address. */
function agentName(destAddress: string): string {
  return AGENT_NAMES[destAddress] ?? destAddress
}

const AGENT_NAMES: Record<string, string> = {
  '01:80:c2:00:00:0e': 'nearest-bridge',
  '01:80:c2:00:00:03': 'nearest-non-tpmr',
  '01:80:c2:00:00:00': 'nearest-customer',
}

function mgmtText(addresses: unknown[]): string {
  return addresses
    .map((a) => (typeof a === 'object' && a !== null && 'address' in a ? String((a as {address: unknown}).address) : String(a)))
    .join(',')
}

function evbText(evb: EvbView | null): string {
  if (!evb) return '-'
  return `${evb.mode} R=${evb.retries} RTE=${evb.rte} RWD=${evb.rwd} RKA=${evb.rka}`
}
