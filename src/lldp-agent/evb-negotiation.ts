import type {EvbTlv} from '../lldp/index.js'
import type {EvbNegotiated, EvbValues} from '../model/evb.js'

/** This station's EVB policy: its own proposals, from [lldp] evb_*. */
export interface EvbPolicy extends EvbValues {
  rrRequest: boolean
  groupId: boolean
}

export interface EvbNegotiation {
  /** The EVB TLV this station advertises. */
  station: EvbTlv
  /** Undefined until a bridge EVB TLV has been received. */
  negotiated?: EvbNegotiated
}

/**
 * 802.1Qbg EVB negotiation from the station's side (docs/wire-notes.md §EVB negotiation; same results as lldpad,
 * checked against its own test vectors): R, RTE, RWD and RKA are the larger of ours and the bridge's, a ROL bit
 * says the bridge's value won (or tied); the bridge-status octet is echoed; RRSTAT is 3 ("don't know") until a
 * bridge TLV arrives, then whether the bridge enabled reflective relay.
 */
export function negotiateEvb(policy: EvbPolicy, bridge?: EvbTlv): EvbNegotiation {
  const pick = (local: number, remote: number | undefined) => (remote === undefined ? local : Math.max(local, remote))
  const station: EvbTlv = {
    bgid: bridge?.bgid ?? false,
    rrcap: bridge?.rrcap ?? false,
    rrctr: bridge?.rrctr ?? false,
    sgid: policy.groupId,
    rrreq: policy.rrRequest,
    rrstat: bridge ? (bridge.rrctr ? 1 : 0) : 3,
    retries: pick(policy.retries, bridge?.retries),
    rte: pick(policy.rte, bridge?.rte),
    mode: 'station',
    rolRwd: bridge !== undefined && bridge.rwd >= policy.rwd,
    rwd: pick(policy.rwd, bridge?.rwd),
    rolRka: bridge !== undefined && bridge.rka >= policy.rka,
    rka: pick(policy.rka, bridge?.rka),
  }
  if (!bridge) return {station}
  return {
    station,
    negotiated: {
      retries: station.retries,
      rte: station.rte,
      rwd: station.rwd,
      rka: station.rka,
      groupIds: bridge.bgid && policy.groupId,
      reflectiveRelay: bridge.rrctr,
    },
  }
}

/** A bridge's EVB policy (the ToR simulator's side). */
export interface EvbBridgePolicy extends EvbValues {
  /** RRCAP: the bridge can do reflective relay. */
  rrCapable: boolean
  /** BGID: the bridge supports VDP group IDs. */
  groupId: boolean
}

/**
 * The bridge's side of the negotiation (lldpad's bridge_tlv, checked against its bridge-role vectors):
 * the station-status octet is echoed, RRCTR is set when the station requests reflective relay and the
 * bridge can do it, and each value is the larger of both sides with ROL marking the station's win.
 */
export function negotiateEvbBridge(policy: EvbBridgePolicy, station?: EvbTlv): {bridge: EvbTlv; negotiated?: EvbNegotiated} {
  const pick = (local: number, remote: number | undefined) => (remote === undefined ? local : Math.max(local, remote))
  const bridge: EvbTlv = {
    bgid: policy.groupId,
    rrcap: policy.rrCapable,
    rrctr: policy.rrCapable && (station?.rrreq ?? false),
    sgid: station?.sgid ?? false,
    rrreq: station?.rrreq ?? false,
    rrstat: station?.rrstat ?? 0,
    retries: pick(policy.retries, station?.retries),
    rte: pick(policy.rte, station?.rte),
    mode: 'bridge',
    rolRwd: station !== undefined && station.rwd >= policy.rwd,
    rwd: pick(policy.rwd, station?.rwd),
    rolRka: station !== undefined && station.rka >= policy.rka,
    rka: pick(policy.rka, station?.rka),
  }
  if (!station) return {bridge}
  return {
    bridge,
    negotiated: {retries: bridge.retries, rte: bridge.rte, rwd: bridge.rwd, rka: bridge.rka, groupIds: policy.groupId && station.sgid, reflectiveRelay: bridge.rrctr},
  }
}
