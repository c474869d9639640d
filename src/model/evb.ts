/**
 * The EVB values (802.1Qbg-2012 D.2.13, the EVB TLV): R, RTE, RWD, RKA. One type for the 4-tuple wherever it
 * appears: a station's proposals, what negotiation settled on, what ECP and VDP run with.
 */

/** R/RTE/RWD/RKA; every timer is 10 µs × 2^exponent (docs/wire-notes.md §EVB timers). */
export interface EvbValues {
  /** R: ECP maximum retries (0–7); an ECPDU goes out at most 1 + R times. */
  readonly retries: number
  /** RTE: ECP retransmission timer exponent (0–31). */
  readonly rte: number
  /** RWD: VDP resource-wait-delay exponent (0–31). */
  readonly rwd: number
  /** RKA: VDP reinit-keep-alive exponent (0–31). */
  readonly rka: number
}

/** What ECP and VDP run with once a bridge has answered (each value the larger of ours and the bridge's). */
export interface EvbNegotiated extends EvbValues {
  /** Group IDs are usable only when bridge (BGID) and station (SGID) both support them. */
  readonly groupIds: boolean
  readonly reflectiveRelay: boolean
}

/** Just the four values of `v` (drops negotiation flags, so the result compares and serialises as a 4-tuple). */
export function evbValuesOf(v: EvbValues): EvbValues {
  return {retries: v.retries, rte: v.rte, rwd: v.rwd, rka: v.rka}
}
