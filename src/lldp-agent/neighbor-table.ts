import type {LldpId, Lldpdu} from '../lldp/index.js'
import type {NeighborRecord} from '../model/neighbor.js'

/** `evicted`: made room for an EVB bridge on a full port (MAX_NEIGHBORS_PER_INTERFACE). */
type NeighborRemovalReason = 'shutdown' | 'aged' | 'link-down' | 'interface-gone' | 'evicted'

export type NeighborEvent =
  | {type: 'added'; neighbor: NeighborRecord}
  /** `changed`: something other than the expiry moved (a new EVB TLV, a new name...). */
  | {type: 'updated'; neighbor: NeighborRecord; changed: boolean}
  | {type: 'removed'; neighbor: NeighborRecord; reason: NeighborRemovalReason}

/**
 * 802.1AB's tooManyNeighbors: a port is point to point; more than this is a flood or a misconfiguration.
 * The bound counts every LLDP agent of the port together.
 */
export const MAX_NEIGHBORS_PER_INTERFACE = 16

/** A neighbour whose EVB TLV says it is a bridge: the kind of neighbour an uplink is found by. */
export function isEvbBridgeNeighbor(n: Pick<NeighborRecord, 'evb'>): boolean {
  return n.evb?.mode === 'bridge'
}

function idText(id: LldpId): string {
  return typeof id.value === 'string' ? id.value : id.value.address
}

/** One remote-database entry: local port, LLDP agent (destination group address), MSAP. */
function msapKey(
  ifname: string,
  destAddress: string,
  chassisSubtype: number,
  chassisId: string,
  portSubtype: number,
  portId: string,
): string {
  return `${ifname}\u0000${destAddress}\u0000${chassisSubtype}:${chassisId}\u0000${portSubtype}:${portId}`
}

export function neighborKey(
  n: Pick<NeighborRecord, 'ifname' | 'destAddress' | 'chassisSubtype' | 'chassisId' | 'portSubtype' | 'portId'>,
): string {
  return msapKey(n.ifname, n.destAddress, n.chassisSubtype, n.chassisId, n.portSubtype, n.portId)
}

/** JSON-safe copies of the parts we keep (decoded values may be views into a reused receive buffer). */
function toRecord(
  ifname: string,
  destAddress: string,
  srcMac: string,
  pdu: Lldpdu,
  now: number,
  firstSeen: number,
): NeighborRecord {
  return {
    ifname,
    destAddress,
    chassisId: idText(pdu.chassisId),
    portId: idText(pdu.portId),
    chassisSubtype: pdu.chassisId.subtype,
    portSubtype: pdu.portId.subtype,
    srcMac,
    ttl: pdu.ttl,
    expiresAt: now + pdu.ttl * 1000,
    systemName: pdu.systemName ?? null,
    systemDescription: pdu.systemDescription ?? null,
    portDescription: pdu.portDescription ?? null,
    mgmtAddresses: pdu.managementAddresses.map((m) => ({
      family: m.address.familyName,
      address: m.address.address,
      ifSubtype: m.interfaceSubtype,
      ifNumber: m.interfaceNumber,
    })),
    capabilities: pdu.capabilities
      ? {supported: pdu.capabilities.supportedNames, enabled: pdu.capabilities.enabledNames}
      : null,
    evb: pdu.evb ? {...pdu.evb} : null,
    firstSeen,
    lastSeen: now,
  }
}

/** The neighbour a full port gives up for an EVB bridge: a non-EVB one, heard least recently, then expiring last. */
function evictionCandidate(onPort: NeighborRecord[]): NeighborRecord | undefined {
  let victim: NeighborRecord | undefined
  for (const n of onPort) {
    if (isEvbBridgeNeighbor(n)) continue
    if (!victim || n.lastSeen < victim.lastSeen || (n.lastSeen === victim.lastSeen && n.expiresAt > victim.expiresAt))
      victim = n
  }
  return victim
}

function sameContent(a: NeighborRecord, b: NeighborRecord): boolean {
  return (
    a.srcMac === b.srcMac &&
    a.ttl === b.ttl &&
    a.systemName === b.systemName &&
    a.systemDescription === b.systemDescription &&
    a.portDescription === b.portDescription &&
    JSON.stringify(a.mgmtAddresses) === JSON.stringify(b.mgmtAddresses) &&
    JSON.stringify(a.capabilities) === JSON.stringify(b.capabilities) &&
    JSON.stringify(a.evb) === JSON.stringify(b.evb)
  )
}

/**
 * The LLDP remote MIB: neighbours per local interface and LLDP agent (802.1AB-2009 §7.1: each agent, named by
 * its destination group address, keeps its own remote database), keyed by MSAP (chassis ID + port ID), aged
 * by their TTL, dropped at once on a shutdown LLDPDU (TTL 0) to the same agent or when the link goes down.
 * A port holds at most MAX_NEIGHBORS_PER_INTERFACE; when full, an EVB bridge still gets in by evicting the
 * non-EVB neighbour heard least recently (spoofed neighbours must not lock the switch out). Pure: the caller
 * passes the time and applies the events (persistence, uplink detection).
 */
export class NeighborTable {
  private readonly byKey = new Map<string, NeighborRecord>()
  /** Frames refused because a port already had MAX_NEIGHBORS_PER_INTERFACE neighbours. */
  tooManyNeighbors = 0

  /**
   * Seed from the database at start-up: records whose TTL has not run out, at most the bound per port (EVB
   * bridges first, then the most recently heard). Returns the records left out, for the caller to delete.
   */
  restore(records: NeighborRecord[], now: number): NeighborRecord[] {
    const ranked = [...records].sort(
      (a, b) => Number(isEvbBridgeNeighbor(b)) - Number(isEvbBridgeNeighbor(a)) || b.lastSeen - a.lastSeen,
    )
    const perPort = new Map<string, number>()
    const skipped: NeighborRecord[] = []
    for (const r of ranked) {
      const count = perPort.get(r.ifname) ?? 0
      if (r.expiresAt <= now || count >= MAX_NEIGHBORS_PER_INTERFACE) {
        skipped.push(r)
        continue
      }
      perPort.set(r.ifname, count + 1)
      this.byKey.set(neighborKey(r), r)
    }
    return skipped
  }

  list(): NeighborRecord[] {
    return [...this.byKey.values()]
  }

  onInterface(ifname: string): NeighborRecord[] {
    return this.list().filter((n) => n.ifname === ifname)
  }

  has(key: string): boolean {
    return this.byKey.has(key)
  }

  /** Apply a received LLDPDU; `pdu.dst` (its destination group address) names the LLDP agent. */
  receive(ifname: string, srcMac: string, pdu: Lldpdu & {dst: string}, now: number): NeighborEvent[] {
    const key = msapKey(
      ifname,
      pdu.dst,
      pdu.chassisId.subtype,
      idText(pdu.chassisId),
      pdu.portId.subtype,
      idText(pdu.portId),
    )
    const existing = this.byKey.get(key)
    if (pdu.isShutdown) {
      if (!existing) return []
      this.byKey.delete(key)
      return [{type: 'removed', neighbor: existing, reason: 'shutdown'}]
    }
    const record = toRecord(ifname, pdu.dst, srcMac, pdu, now, existing?.firstSeen ?? now)
    const events: NeighborEvent[] = []
    if (!existing) {
      const onPort = this.onInterface(ifname)
      if (onPort.length >= MAX_NEIGHBORS_PER_INTERFACE) {
        const victim = isEvbBridgeNeighbor(record) ? evictionCandidate(onPort) : undefined
        if (!victim) {
          this.tooManyNeighbors++
          return []
        }
        this.byKey.delete(neighborKey(victim))
        events.push({type: 'removed', neighbor: victim, reason: 'evicted'})
      }
    }
    this.byKey.set(key, record)
    events.push(
      existing
        ? {type: 'updated', neighbor: record, changed: !sameContent(existing, record)}
        : {type: 'added', neighbor: record},
    )
    return events
  }

  /** An identical LLDPDU again: only the expiry moves (the receive fast path skips the decode). */
  refresh(key: string, now: number): NeighborEvent[] {
    const existing = this.byKey.get(key)
    if (!existing) return []
    const record = {...existing, expiresAt: now + existing.ttl * 1000, lastSeen: now}
    this.byKey.set(key, record)
    return [{type: 'updated', neighbor: record, changed: false}]
  }

  /** Remove neighbours whose TTL ran out. */
  expire(now: number): NeighborEvent[] {
    const events: NeighborEvent[] = []
    for (const [key, n] of this.byKey) {
      if (n.expiresAt <= now) {
        this.byKey.delete(key)
        events.push({type: 'removed', neighbor: n, reason: 'aged'})
      }
    }
    return events
  }

  /** The port went down or away: 802.1AB clears its remote MIB. */
  dropInterface(ifname: string, reason: 'link-down' | 'interface-gone'): NeighborEvent[] {
    const events: NeighborEvent[] = []
    for (const [key, n] of this.byKey) {
      if (n.ifname === ifname) {
        this.byKey.delete(key)
        events.push({type: 'removed', neighbor: n, reason})
      }
    }
    return events
  }

  /** When the next neighbour would age out, for a single timer instead of polling. */
  nextExpiry(): number | undefined {
    let next: number | undefined
    for (const n of this.byKey.values()) if (next === undefined || n.expiresAt < next) next = n.expiresAt
    return next
  }
}
