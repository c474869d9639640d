import type {UplinkRecord} from '../model/uplink.js'
import {matchesAny} from './glob.js'

/** What the decision needs to know about a link (the link monitor's LinkInfo provides it). */
export interface LinkFacts {
  name: string
  index: number
  kind: string
  physical: boolean
  operstate: string
  carrier: boolean
  master?: {name: string; kind: string}
  bondMembers?: string[]
}

export interface UplinkPolicy {
  mode: 'auto' | 'static'
  staticInterface: string
  include: readonly string[]
  exclude: readonly string[]
  candidateKinds: readonly string[]
  downDebounceMs: number
}

export interface UplinkWorld {
  /** The override file's interface (the last valid one). */
  override?: string
  links: ReadonlyMap<string, LinkFacts>
  /** Ports with an LLDP neighbour that advertises EVB bridge mode, with a description of that neighbour. */
  evbBridges: ReadonlyMap<string, string>
  now: number
}

export interface UplinkDecision {
  record: UplinkRecord
  /** When to decide again if nothing else happens first (the end of a debounce). */
  recheckAt?: number
}

/** Masters a candidate port may be enslaved to. */
const UPLINK_PORT_MASTERS = new Set(['bond', 'bridge', 'openvswitch'])

/** A port may carry the uplink (and is listened to for LLDP) when this holds. */
export function isCandidatePort(
  link: LinkFacts,
  policy: Pick<UplinkPolicy, 'include' | 'exclude' | 'candidateKinds'>,
): boolean {
  if (link.kind === 'loopback' || link.kind === 'bond') return false
  const kindOk =
    (link.physical && policy.candidateKinds.includes('physical')) || policy.candidateKinds.includes(link.kind)
  if (!kindOk) return false
  // A port enslaved to a bridge or to Open vSwitch still faces the switch and is heard (the frame sockets tap
  // every frame before the master's rx_handler, docs/net.md); a bond slave also hears it, but the bond is the
  // uplink (resolveBond). Other masters (team, vrf...) are not supported as uplinks.
  if (link.master && !UPLINK_PORT_MASTERS.has(link.master.kind)) return false
  return matchesAny(link.name, policy.include) && !matchesAny(link.name, policy.exclude)
}

/** Carrier plus an operational state that carries traffic ("unknown" is what some drivers report when up). */
export function linkUsable(link: LinkFacts | undefined): boolean {
  return link !== undefined && link.carrier && (link.operstate === 'up' || link.operstate === 'unknown')
}

/** The uplink a port belongs to: its bond when it is a bond slave (by exact name), else itself. */
export function resolveBond(port: string, links: ReadonlyMap<string, LinkFacts>): {uplink: string; members: string[]} {
  const link = links.get(port)
  const bondName = link?.master?.kind === 'bond' ? link.master.name : link?.kind === 'bond' ? link.name : undefined
  if (!bondName) return {uplink: port, members: []}
  const bond = links.get(bondName)
  const members = bond?.bondMembers ?? [...links.values()].filter((l) => l.master?.name === bondName).map((l) => l.name)
  return {uplink: bondName, members: [...members].sort()}
}

/**
 * The uplink state machine. Precedence: override file > config static interface > LLDP (the candidate
 * port whose neighbour advertises EVB bridge mode; the current one is kept while it stays valid).
 * A bond slave resolves to its bond. Carrier loss is down at once; the loss of the EVB neighbour is
 * down only after `downDebounceMs` (a switch restarting its LLDP agent is not an outage).
 */
export class UplinkDecider {
  /** When the current LLDP uplink's EVB neighbour was last missing, if it is missing now. */
  private evbLostSince?: number

  constructor(private current: UplinkRecord | undefined) {}

  get record(): UplinkRecord | undefined {
    return this.current
  }

  decide(world: UplinkWorld, policy: UplinkPolicy): UplinkDecision {
    const decision = this.compute(world, policy)
    const prev = this.current
    const changed =
      !prev ||
      prev.ifname !== decision.record.ifname ||
      prev.state !== decision.record.state ||
      prev.source !== decision.record.source
    if (!changed) decision.record.changedAt = prev.changedAt
    this.current = decision.record
    return decision
  }

  private compute(world: UplinkWorld, policy: UplinkPolicy): UplinkDecision {
    const {now, links} = world
    const base = {changedAt: now, updatedAt: now}
    // The fixed sources first: the override file, then the config's static interface.
    const fixed = world.override
      ? {port: world.override, source: 'override' as const}
      : policy.mode === 'static' && policy.staticInterface
        ? {port: policy.staticInterface, source: 'config' as const}
        : undefined
    if (fixed) {
      this.evbLostSince = undefined
      const {uplink, members} = resolveBond(fixed.port, links)
      const link = links.get(uplink)
      const state = linkUsable(link) ? 'up' : 'down'
      const how = fixed.source === 'override' ? 'pinned by the override file' : 'set by [uplink] static_interface'
      const reason = !link
        ? `${how}; interface ${uplink} does not exist`
        : state === 'up'
          ? how
          : `${how}; ${uplink} has no carrier`
      return {
        record: {
          ifname: uplink,
          source: fixed.source,
          state,
          detectedOn: fixed.port,
          bondMembers: members,
          reason,
          ...base,
        },
      }
    }
    if (policy.mode !== 'auto') {
      return {
        record: {
          ifname: null,
          source: null,
          state: 'none',
          detectedOn: null,
          bondMembers: [],
          reason: 'no uplink configured',
          ...base,
        },
      }
    }

    const evbPorts = [...world.evbBridges.keys()].filter((p) => {
      const l = links.get(p)
      return l !== undefined && isCandidatePort(l, policy) && linkUsable(l)
    })
    const cur = this.current
    if (cur?.source === 'lldp' && cur.ifname) {
      const {members} = resolveBond(cur.ifname, links)
      const ports = members.length > 0 ? members : [cur.ifname]
      const heard = ports.find((p) => evbPorts.includes(p))
      const uplinkLink = links.get(cur.ifname)
      if (cur.state === 'up' && !linkUsable(uplinkLink)) {
        this.evbLostSince = undefined
        return {
          record: {
            ...cur,
            state: 'down',
            bondMembers: members,
            reason: uplinkLink ? `${cur.ifname} lost carrier` : `${cur.ifname} disappeared`,
            ...base,
          },
        }
      }
      if (heard && linkUsable(uplinkLink)) {
        this.evbLostSince = undefined
        return {
          record: {
            ifname: cur.ifname,
            source: 'lldp',
            state: 'up',
            detectedOn: heard,
            bondMembers: members,
            reason: `EVB bridge ${world.evbBridges.get(heard)} on ${heard}`,
            ...base,
          },
        }
      }
      if (cur.state === 'up') {
        this.evbLostSince ??= now
        const downAt = this.evbLostSince + policy.downDebounceMs
        if (now < downAt) {
          const lostFor = Math.round((now - this.evbLostSince) / 1000)
          return {
            record: {
              ...cur,
              bondMembers: members,
              reason: `EVB neighbour missing for ${lostFor}s; down after ${policy.downDebounceMs / 1000}s`,
              updatedAt: now,
            },
            recheckAt: downAt,
          }
        }
      }
    }
    this.evbLostSince = undefined
    const port = evbPorts.sort()[0]
    if (port) {
      const {uplink, members} = resolveBond(port, links)
      return {
        record: {
          ifname: uplink,
          source: 'lldp',
          state: 'up',
          detectedOn: port,
          bondMembers: members,
          reason: `EVB bridge ${world.evbBridges.get(port)} on ${port}`,
          ...base,
        },
      }
    }
    if (cur?.source === 'lldp' && cur.ifname) {
      const reason =
        cur.state === 'up'
          ? `EVB neighbour on ${cur.detectedOn ?? cur.ifname} lost for ${policy.downDebounceMs / 1000}s`
          : cur.reason
      return {record: {...cur, state: 'down', reason, ...base}}
    }
    return {
      record: {
        ifname: null,
        source: null,
        state: 'none',
        detectedOn: null,
        bondMembers: [],
        reason: 'waiting for an LLDP neighbour advertising EVB bridge mode',
        ...base,
      },
    }
  }
}
