/**
 * The VSI TLV status octet (802.1Qbg-2012 cl. 41; docs/wire-notes.md §VSI status octet) and the bridge's
 * error codes.
 *
 *   bit 7 reserved · bit 6 Req/Ack (1 = response)
 *   request:  bit 5 S ("migrating from" / suspended) · bit 4 M ("migrating to") · bits 3..0 reason
 *   response: bit 5 Keep · bit 4 Hard · bits 3..0 error code
 */
import {VdpEncodeError} from './errors.js'

export type VsiStatus =
  | {
      readonly kind: 'request'
      /** M-bit (0x10), vdptool "hints=to": the VSI is migrating to this port. */
      readonly migratingTo: boolean
      /** S-bit (0x20), vdptool "hints=from": the VSI is migrating away / suspended. */
      readonly migratingFrom: boolean
      /** Low nibble; 0 in station requests. */
      readonly reason: number
    }
  | {
      readonly kind: 'response'
      /** The bridge rejected the request but keeps the VSI in its previous state. */
      readonly keep: boolean
      /** The error is not transient: retrying the same request will fail again. */
      readonly hard: boolean
      /** 0 = success; see vdpErrorText. */
      readonly error: number
    }

export const SUCCESS_STATUS: VsiStatus = Object.freeze({kind: 'response', keep: false, hard: false, error: 0})

const RESPONSE_BIT = 0x40
const BIT5 = 0x20
const BIT4 = 0x10

export function encodeStatus(status: VsiStatus): number {
  const low = status.kind === 'request' ? status.reason : status.error
  if (!Number.isInteger(low) || low < 0 || low > 15) {
    throw new VdpEncodeError('VDP_ENCODE_INVALID', `status code must be 0–15, got ${low}`, {code: low})
  }
  if (status.kind === 'request') {
    return (status.migratingFrom ? BIT5 : 0) | (status.migratingTo ? BIT4 : 0) | low
  }
  return RESPONSE_BIT | (status.keep ? BIT5 : 0) | (status.hard ? BIT4 : 0) | low
}

/** Bit 7 is reserved: ignored on receive, sent as 0. */
export function decodeStatus(octet: number): VsiStatus {
  const low = octet & 0x0f
  if (octet & RESPONSE_BIT) {
    return {kind: 'response', keep: (octet & BIT5) !== 0, hard: (octet & BIT4) !== 0, error: low}
  }
  return {kind: 'request', migratingFrom: (octet & BIT5) !== 0, migratingTo: (octet & BIT4) !== 0, reason: low}
}

/** Bridge error codes (low nibble of a response), as lldpad, Wireshark and Spirent agree. */
export const VDP_ERROR = Object.freeze({
  success: 0,
  invalidFormat: 1,
  insufficientResources: 2,
  vsiManagerUnreachable: 3,
  otherFailure: 4,
  invalidVidGroupOrMac: 5,
})

const ERROR_TEXT: readonly string[] = [
  'success',
  'invalid format',
  'insufficient resources at the bridge',
  'unable to contact the VSI manager',
  'other failure',
  'invalid VID, group ID or MAC address',
]

/** Human text for a bridge error code (0–15). */
export function vdpErrorText(code: number): string {
  return ERROR_TEXT[code] ?? `reserved error code ${code}`
}

/** "insufficient resources at the bridge (error 2, hard, keep)": the text the station reports. */
export function describeResponseError(status: {error: number; hard: boolean; keep: boolean}): string {
  const flags = [status.hard ? 'hard' : 'soft', status.keep ? 'keep' : undefined].filter(Boolean).join(', ')
  return `${vdpErrorText(status.error)} (error ${status.error}, ${flags})`
}
