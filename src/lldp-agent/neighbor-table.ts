import type {LldpId, Lldpdu} from '../lldp/index.js'
import type {NeighborRecord} from '../store/neighbor-repo.js'

export type NeighborRemovalReason = 'shutdown' | 'aged' | 'link-down' | 'interface-gone'

export type NeighborEvent =
  | {type: 'added'; neighbor: NeighborRecord}
  /** `changed`: something other than the expiry moved (a new EVB TLV, a new name...). */
  | {type: 'updated'; neighbor: NeighborRecord; changed: boolean}
  | {type: 'removed'; neighbor: NeighborRecord; reason: NeighborRemovalReason}

/** 802.1AB's tooManyNeighbors: a port is point to point; more than this is a flood or a misconfiguration. */
export const MAX_NEIGHBORS_PER_INTERFACE = 16

/** A neighbour whose EVB TLV says it is a bridge: the kind of neighbour an uplink is found by. */
export function isEvbBridgeNeighbor(n: Pick<NeighborRecord, 'evb'>): boolean {
  return typeof n.evb === 'object' && n.evb !== null && (n.evb as {mode?: unknown}).mode === 'bridge'
}

export function idText(id: LldpId): string {
  return typeof id.value === 'string' ? id.value : id.value.address
}

function msapKey(ifname: string, chassisSubtype: number, chassisId: string, portSubtype: number, portId: string): string {
  return `${ifname}\u0000${chassisSubtype}:${chassisId}\u0000${portSubtype}:${portId}`
}

export function neighborKey(n: Pick<NeighborRecord, 'ifname' | 'chassisSubtype' | 'chassisId' | 'portSubtype' | 'portId'>): string {
  return msapKey(n.ifname, n.chassisSubtype, n.chassisId, n.portSubtype, n.portId)
}

/** JSON-safe copies of the parts we keep (decoded values may be views into a reused receive buffer). */
function toRecord(ifname: string, srcMac: string, pdu: Lldpdu, now: number, firstSeen: number): NeighborRecord {
  return {
    ifname,
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
    mgmtAddresses: pdu.managementAddresses.map((m) => ({family: m.address.familyName, address: m.address.address, ifSubtype: m.interfaceSubtype, ifNumber: m.interfaceNumber})),
    capabilities: pdu.capabilities ? {supported: pdu.capabilities.supportedNames, enabled: pdu.capabilities.enabledNames} : null,
    evb: pdu.evb ? {...pdu.evb} : null,
    firstSeen,
    lastSeen: now,
  }
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
 * The LLDP remote MIB: neighbours per local interface, keyed by MSAP (chassis ID + port ID), aged by
 * their TTL, dropped at once on a shutdown LLDPDU (TTL 0) or when the link goes down. Pure: the caller
 * passes the time and applies the events (persistence, uplink detection).
 */
export class NeighborTable {
  private readonly byKey = new Map<string, NeighborRecord>()
  /** Frames refused because a port already had MAX_NEIGHBORS_PER_INTERFACE neighbours. */
  tooManyNeighbors = 0

  /** Seed from the database at start-up (records whose TTL has not run out). */
  restore(records: NeighborRecord[], now: number): void {
    for (const r of records) if (r.expiresAt > now) this.byKey.set(neighborKey(r), r)
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

  /** Apply a received LLDPDU. */
  receive(ifname: string, srcMac: string, pdu: Lldpdu, now: number): NeighborEvent[] {
    const key = msapKey(ifname, pdu.chassisId.subtype, idText(pdu.chassisId), pdu.portId.subtype, idText(pdu.portId))
    const existing = this.byKey.get(key)
    if (pdu.isShutdown) {
      if (!existing) return []
      this.byKey.delete(key)
      return [{type: 'removed', neighbor: existing, reason: 'shutdown'}]
    }
    if (!existing && this.onInterface(ifname).length >= MAX_NEIGHBORS_PER_INTERFACE) {
      this.tooManyNeighbors++
      return []
    }
    const record = toRecord(ifname, srcMac, pdu, now, existing?.firstSeen ?? now)
    this.byKey.set(key, record)
    if (!existing) return [{type: 'added', neighbor: record}]
    return [{type: 'updated', neighbor: record, changed: !sameContent(existing, record)}]
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
