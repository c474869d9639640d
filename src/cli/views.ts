/**
 * The human output of the read-only commands (status, uplink show, neighbors, vsi list), shared by the oclif
 * commands and the start-up fast path (src/cli/fast-path.ts) so both print the same. Pure: data and the
 * time in, lines out. Imports nothing heavy (no oclif, SQLite or pino).
 */
import type {NeighborView, StatusView, UplinkShowData} from '../control/views.js'
import type {EvbTlv} from '../lldp/types.js'
import {NEAREST_BRIDGE, NEAREST_CUSTOMER_BRIDGE, NEAREST_NON_TPMR_BRIDGE} from '../core/ethernet.js'
import type {TaskView} from '../core/scheduler.js'
import type {NeighborMgmtAddress} from '../model/neighbor.js'
import type {VsiRecord, VsiState} from '../model/vsi.js'
import {type TableFit, ago, renderTable} from './table.js'

export function statusLines(status: StatusView, now = Date.now()): string[] {
  const u = status.uplink
  const out = [
    `daemon:    ${status.daemon.running ? `running (pid ${status.daemon.pid}, since ${status.daemon.startedAt})` : 'not running (state from its database)'}`,
    `uplink:    ${u.ifname ?? 'none'}  ${u.state}${u.source ? `  via ${u.source}` : ''}${u.reason ? `  (${u.reason})` : ''}`,
  ]
  if (u.changedAt) out.push(`           last change ${ago(Date.parse(u.changedAt), now)}`)
  if (status.override?.error) out.push(`override:  INVALID: ${status.override.error}`)
  out.push(`neighbors: ${status.neighbors.total} (${status.neighbors.evbBridges} EVB bridge)`)
  const drops = status.lldpDiscards
  if (drops && drops.total > 0)
    out.push(
      `lldp:      ${drops.total} LLDPDUs discarded (${Object.entries(drops.byRule)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}); see \`vdp-agent lldp stats\``,
    )
  const states = Object.entries(status.vsis.byState)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ')
  out.push(`vsis:      ${status.vsis.total}${states ? ` (${states})` : ''}`)
  const v = status.vdp
  if (v) {
    const evb = {
      waiting: "waiting for the switch's EVB TLV",
      negotiated: 'EVB negotiated',
      fallback: 'no EVB TLV from the switch: configured EVB values',
    }[v.evb]
    out.push(
      `vdp:       ${evb}${v.held ? `; held: ${v.held}` : ''}; ECP from ${v.acceptFrom ?? 'any source (no LLDP neighbour)'}, ${v.refusedFrames} refused`,
    )
  }
  if (status.queue) out.push(`queue:     ${status.queue.waiting} waiting, ${status.queue.inFlight} in flight`)
  out.push(`outbox:    ${status.outbox.pending} pending`)
  const rpc = status.rpc
  if (rpc) {
    out.push(
      `rpc:       ${rpc.transport === 'local' ? 'local (no controller)' : `${rpc.broker} ${rpc.connected ? 'connected' : 'NOT connected'}${rpc.lastHeartbeat ? `, heartbeat #${rpc.lastHeartbeat.seq} ${ago(Date.parse(rpc.lastHeartbeat.at), now)}` : ''}${rpc.lastError && !rpc.connected ? ` (${rpc.lastError})` : ''}`}`,
    )
  }
  if (status.tasks && status.tasks.length > 0)
    out.push(`tasks:     ${status.tasks.map((t) => taskSummary(t, now)).join('; ')}`)
  const st = status.store
  if (st && !st.writable)
    out.push(
      `store:     WRITES FAILING since ${st.failingSince ?? '?'} (${st.lastError ?? 'unknown error'}), ${st.pending} pending; database ${st.path}`,
    )
  return out
}

/** `reconcile every 30s, last 5s ago`, plus failures and runs without answer when there were any (counts: --json). */
function taskSummary(t: TaskView, now: number): string {
  const parts = [`${t.name} every ${t.periodS}s`]
  if (t.lastRunAt) parts.push(`last ${ago(Date.parse(t.lastRunAt), now)}`)
  if (t.errors > 0) parts.push(`${t.errors} failed${t.lastError ? ` (now: ${t.lastError})` : ''}`)
  if (t.noAnswer > 0) parts.push(`${t.noAnswer} without answer`)
  return parts.join(', ')
}

export function uplinkLines(data: UplinkShowData, now = Date.now()): string[] {
  const out = [
    `uplink:       ${data.ifname ?? 'none'}`,
    `state:        ${data.state}`,
    `chosen by:    ${data.source ? describeUplinkSource(data.source) : '-'}`,
  ]
  if (data.detectedOn && data.detectedOn !== data.ifname) out.push(`detected on:  ${data.detectedOn} (bond slave)`)
  if (data.bondMembers.length > 0) out.push(`bond members: ${data.bondMembers.join(', ')}`)
  if (data.reason) out.push(`reason:       ${data.reason}`)
  if (data.evb) {
    const e = data.evb
    out.push(
      `EVB:          R=${e.retries} RTE=${e.rte} RWD=${e.rwd} RKA=${e.rka} (negotiated)${e.groupIds ? ', group IDs' : ''}${e.reflectiveRelay ? ', reflective relay' : ''}`,
    )
  }
  out.push(`last change:  ${data.changedAt ? `${data.changedAt} (${ago(Date.parse(data.changedAt), now)})` : '-'}`)
  if (data.lldp)
    out.push(
      `LLDP:         listening on ${data.lldp.listening.join(', ') || 'none'}; transmitting on ${data.lldp.transmitting.join(', ') || 'none'}`,
    )
  if (data.override) {
    const o = data.override
    out.push(`override:     ${o.error ? `INVALID: ${o.error}` : (o.ifname ?? 'none')} (${o.path})`)
  }
  return out
}

function describeUplinkSource(source: string): string {
  if (source === 'override') return 'override file (vdp-agent uplink set)'
  if (source === 'config') return 'config ([uplink] static_interface)'
  return 'LLDP (neighbour advertises EVB bridge mode)'
}

/**
 * The neighbour table: EVB shows the neighbour's EVB mode (its values are in `neighbors -v`, the negotiated
 * ones in `uplink show`); cut to `maxWidth` columns (system, management address, port, chassis give way).
 */
export function neighborTable(list: NeighborView[], now = Date.now(), maxWidth?: number): string {
  if (list.length === 0) return 'no LLDP neighbours'
  return renderTable(
    ['IFNAME', 'AGENT', 'CHASSIS', 'PORT', 'SYSTEM', 'MGMT', 'EVB', 'AGE', 'EXPIRES'],
    list.map((n) => [
      n.ifname,
      agentName(n.destAddress),
      n.chassisId,
      n.portId,
      n.systemName,
      mgmtText(n.mgmtAddresses),
      evbMode(n.evb),
      ago(n.firstSeen, now),
      `${Math.max(0, Math.round((n.expiresAt - now) / 1000))}s`,
    ]),
    {maxWidth, shrink: [4, 5, 3, 2], more: '-v (every TLV) or --json'},
  )
}

/** The 802.1AB LLDP agent a neighbour was heard on (its LLDPDUs' destination group address), short. */
function agentName(destAddress: string): string {
  return AGENT_NAMES[destAddress] ?? destAddress
}

const AGENT_NAMES: Record<string, string> = {
  [NEAREST_BRIDGE]: 'bridge',
  [NEAREST_NON_TPMR_BRIDGE]: 'non-tpmr',
  [NEAREST_CUSTOMER_BRIDGE]: 'customer',
}

function mgmtText(addresses: NeighborMgmtAddress[]): string {
  return addresses.map((a) => a.address).join(',')
}

function evbText(evb: EvbTlv | null): string {
  if (!evb) return '-'
  return `${evb.mode} R=${evb.retries} RTE=${evb.rte} RWD=${evb.rwd} RKA=${evb.rka}`
}

const evbMode = (evb: EvbTlv | null) => evb?.mode ?? null

/**
 * `neighbors -v`: each neighbour like `lldpcli show neighbors details`, a header then every TLV of its last
 * LLDPDU (the LLDP formatter of `lldp decode -v`). `formatTlvs` turns a frame's hex into those lines; it is
 * passed in so this module stays free of the codec for the plain table.
 */
export function neighborDetails(
  list: NeighborView[],
  formatTlvs: (frameHex: string) => string,
  now = Date.now(),
): string {
  if (list.length === 0) return 'no LLDP neighbours'
  const rule = '-'.repeat(78)
  const out = [rule, 'LLDP neighbors:', rule]
  for (const n of list) {
    out.push(
      `Interface:    ${n.ifname}, via: LLDP (nearest ${agentName(n.destAddress)} agent), source MAC ${n.srcMac}, age ${ago(n.firstSeen, now).replace(' ago', '')}, expires in ${Math.max(0, Math.round((n.expiresAt - now) / 1000))}s`,
    )
    if (n.frame) out.push(formatTlvs(n.frame))
    else {
      out.push(`  Chassis ID: ${n.chassisId}`, `  Port ID: ${n.portId}`, `  TTL: ${n.ttl}s`)
      if (n.systemName) out.push(`  System Name: ${n.systemName}`)
      if (n.systemDescription) out.push(`  System Description: ${n.systemDescription}`)
      if (n.portDescription) out.push(`  Port Description: ${n.portDescription}`)
      if (n.mgmtAddresses.length > 0) out.push(`  Management Address: ${mgmtText(n.mgmtAddresses)}`)
      if (n.evb) out.push(`  EVB: ${evbText(n.evb)}`)
      out.push('  (the other TLVs are only known to the running daemon)')
    }
    out.push(rule)
  }
  return out.join('\n')
}

export const VSI_STATES: readonly VsiState[] = ['pending', 'associating', 'associated', 'deassociating', 'failed']

export interface VsiFilter {
  /** Keep these states (any of them). */
  state?: VsiState[]
  /** Network UUID, exact. */
  network?: string
  /** Port UUID or a prefix of it (the table may show it cut). */
  port?: string
}

export function filterVsis(list: VsiRecord[], filter: VsiFilter): VsiRecord[] {
  const port = filter.port?.toLowerCase()
  const network = filter.network?.toLowerCase()
  return list.filter(
    (v) =>
      (!filter.state?.length || filter.state.includes(v.state)) &&
      (network === undefined || v.netUuid.toLowerCase() === network) &&
      (port === undefined || v.portUuid.toLowerCase().startsWith(port)),
  )
}

/** The VSI table; cut to `maxWidth` columns (reason, then the port UUID give way: --port takes a prefix). */
export function vsiTable(
  list: VsiRecord[],
  now = Date.now(),
  maxWidth?: number,
  fit: Pick<TableFit, 'more'> = {},
): string {
  if (list.length === 0) return 'no VSIs'
  return renderTable(
    ['PORT', 'MAC', 'SEGMENT', 'VLAN', 'LOCAL', 'STATE', 'UPDATED', 'REASON'],
    list.map((v) => [
      v.portUuid,
      v.mac,
      v.segmentationId,
      v.vdpVlan,
      v.localVlan,
      v.desired === 'down' && v.state !== 'failed' ? `${v.state} (down)` : v.state,
      ago(v.updatedAt, now),
      v.failReason,
    ]),
    {maxWidth, shrink: [7, 0], more: fit.more ?? '--json'},
  )
}
