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
export function negotiateEvbBridge(
  policy: EvbBridgePolicy,
  station?: EvbTlv,
): {bridge: EvbTlv; negotiated?: EvbNegotiated} {
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
    negotiated: {
      retries: bridge.retries,
      rte: bridge.rte,
      rwd: bridge.rwd,
      rka: bridge.rka,
      groupIds: policy.groupId && station.sgid,
      reflectiveRelay: bridge.rrctr,
    },
  }
}

/**
 * Whether a bridge's EVB TLV carries what it heard from a station (`negotiateEvbBridge`, lldpad's bridge_tlv;
 * docs/wire-notes.md §EVB negotiation): the echoed station-status octet (SGID, RRREQ, RRSTAT), RRCTR (granted
 * to a station's RRREQ) and the ROL bits (the station's value won or tied). A bridge that has heard no station
 * yet, as after its (re)start, clears them all (lldpad: `02 00 6e 54 14`).
 */
export function echoesStation(bridge: EvbTlv): boolean {
  return bridge.sgid || bridge.rrreq || bridge.rrstat !== 0 || bridge.rrctr || bridge.rolRwd || bridge.rolRka
}

/**
 * Why a bridge whose EVB TLV went from `before` to `now` must be taken for restarted (it forgot the station's
 * VSIs), or undefined when the change is only the bridge hearing the station (docs/vdp.md "Restarts and faults
 * of either side"). A restart shows as its own settings changing (mode, BGID, RRCAP; R, RTE, RWD, RKA while it
 * has heard no station, when they are its own proposal), or as the echo of the station going (a restarted
 * bridge has not heard us yet; lldpad killed and started again sends no shutdown LLDPDU first). The echo
 * appearing, or following the station's TLV (RRSTAT 3 then 0/1, values rising to the station's), is not one.
 */
export function bridgeRestartSign(before: EvbTlv, now: EvbTlv): string | undefined {
  if (before.mode !== now.mode || before.bgid !== now.bgid || before.rrcap !== now.rrcap)
    return 'its own EVB settings changed (mode, BGID, RRCAP)'
  const heardBefore = echoesStation(before)
  const heardNow = echoesStation(now)
  if (heardBefore && !heardNow) return 'its EVB TLV no longer echoes our station status'
  const sameValues =
    before.retries === now.retries && before.rte === now.rte && before.rwd === now.rwd && before.rka === now.rka
  if (!heardBefore && !heardNow && !sameValues) return 'its own R, RTE, RWD or RKA changed'
  return undefined
}
