/**
 * How hard the station may push one bridge. Our own ToR simulator and (we expect) switches take full
 * batches; lldpad's bridge needs care, found by reading its source (docs/vdp.md, "Talking to lldpad"):
 *
 * - it parses every VSI TLV after one Manager ID TLV, so batching works, but it answers each VSI with its own
 *   ECPDU, and its ECP sends at most one ECPDU per T(RTE);
 * - it copies each VDPDU into one buffer and parses it 2 ms later: a second ECPDU arriving in between
 *   overwrites the first, whose VSIs are then lost although ECP acknowledged them;
 * - it parses until a type-0 TLV, past the received length into stale buffer contents, unless the VDPDU
 *   ends with an End TLV.
 */
import {evbTime, respWaitDelay} from './timers.js'
import type {EvbValues} from '../model/evb.js'

export interface PeerProfile {
  /** Cap on VSI TLVs per VDPDU; Infinity = as many as fit the MTU. */
  readonly maxVsisPerPdu: number
  /**
   * VDPDUs whose VSIs are not all answered (or timed out) yet. A new VDPDU is built only below this; with 1,
   * the bridge has finished parsing a VDPDU before the next one arrives.
   */
  readonly maxPdusAwaitingResponse: number
  /** End each VDPDU with an End TLV (2 octets, kept out of the packing budget). */
  readonly endTlv: boolean
}

export const FAST_PEER: PeerProfile = Object.freeze({maxVsisPerPdu: Infinity, maxPdusAwaitingResponse: 64, endTlv: true})

/**
 * For a bridge that is lldpad: one VDPDU in flight at VDP level, End TLV always, and no more VSIs per VDPDU
 * than lldpad can answer (one per T(RTE)) within half the station's respWaitDelay.
 */
export function lldpadPeerProfile(evb: EvbValues): PeerProfile {
  const answerable = Math.floor(respWaitDelay(evb.retries, evb.rte, evb.rwd) / (2 * evbTime(evb.rte)))
  return Object.freeze({maxVsisPerPdu: Math.max(1, answerable), maxPdusAwaitingResponse: 1, endTlv: true})
}
