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
import {evbTime, respWaitDelay, toutKeepAlive} from './timers.js'
import type {EvbValues} from '../model/evb.js'

export interface PeerProfile {
  /** Cap on VSI TLVs per VDPDU; Infinity = as many as fit the MTU. */
  readonly maxVsisPerPdu: number
  /**
   * VDPDUs the bridge may not have parsed yet. A new VDPDU is built only below this; with 1, the bridge has
   * finished parsing a VDPDU before the next one arrives. A VDPDU counts as parsed once any of its VSIs is
   * answered, or `parseGraceMs` after its ECP ACK, or when ECP gave up on it.
   */
  readonly maxPdusAwaitingResponse: number
  /**
   * How long after its ECP ACK a VDPDU none of whose VSIs has been answered yet is taken as parsed. Bounds
   * how long one unanswered request (a bridge that silently ignores it) holds back everything else,
   * keep-alives included. Default 0: parsed when ACKed.
   */
  readonly parseGraceMs?: number
  /** VSI requests on the wire and unanswered, across VDPDUs; default unbounded (the VSI table bounds it). */
  readonly maxVsisAwaitingResponse?: number
  /**
   * How long the bridge keeps a VSI after confirming its De-Associate. A new life of that VSIID with another
   * filter (VLAN, MAC, group) waits this long, since the bridge ignores it meanwhile. Default 0.
   */
  readonly deassocLingerMs?: number
  /**
   * Keep-alives wait respWaitDelay like any request, rather than (toutKeepAlive − T(RKA)) / 2: for a bridge
   * that answers slowly (lldpad: one VSI per T(RTE)), a batch of keep-alives takes that long to answer.
   */
  readonly fullKeepaliveWait?: boolean
  /** End each VDPDU with an End TLV (2 octets, kept out of the packing budget). */
  readonly endTlv: boolean
}

export const FAST_PEER: PeerProfile = Object.freeze({
  maxVsisPerPdu: Infinity,
  maxPdusAwaitingResponse: 64,
  endTlv: true,
})

/**
 * lldpad parses a VDPDU on its event loop 2 ms after receiving it (`vdp22_from_ecp22`). A VDPDU ACKed this
 * long ago and still unanswered has been parsed: its VSIs were ignored (a busy VSI, or one whose filter
 * differs from the stored one) or their answers wait in lldpad's ECP queue. The margin covers a busy loop.
 */
const LLDPAD_PARSE_GRACE_MS = 50

/**
 * For a bridge that is lldpad: one VDPDU at a time until lldpad has parsed it, End TLV always, and no more
 * VSIs awaiting answers than lldpad can answer (one per T(RTE)) within half the station's respWaitDelay.
 * An unanswered VDPDU holds the next one back for at most LLDPAD_PARSE_GRACE_MS after its ACK, so one
 * request lldpad ignores never costs the other VSIs their keep-alives (docs/vdp.md, "Restarts and faults").
 */
export function lldpadPeerProfile(evb: EvbValues): PeerProfile {
  const answerable = Math.max(1, Math.floor(respWaitDelay(evb.retries, evb.rte, evb.rwd) / (2 * evbTime(evb.rte))))
  return Object.freeze({
    maxVsisPerPdu: answerable,
    maxPdusAwaitingResponse: 1,
    parseGraceMs: LLDPAD_PARSE_GRACE_MS,
    maxVsisAwaitingResponse: answerable,
    // lldpad answers a De-Associate but drops the VSI only when its keep-alive timer runs out (docs/vdp.md
    // "Restarts and faults of either side"); half as long again covers when its timer started and how late
    // its event loop runs it.
    deassocLingerMs: 1.5 * toutKeepAlive(evb.retries, evb.rte, evb.rka),
    fullKeepaliveWait: true,
    endTlv: true,
  })
}
