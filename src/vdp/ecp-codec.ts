/**
 * ECP22 framing (802.1Qbg-2012 cl. 43; docs/wire-notes.md §ECP framing, §ECP header): Ethernet header, EtherType
 * 0x8940, a 4-octet ECP header (version 4 bits | operation 2 bits | subtype 10 bits, then a 16-bit sequence
 * number), then the ULPDU. Pure: bytes in, objects out.
 *
 * The decoder is structural only. Whether a version or subtype is acceptable is the transport's decision
 * (it must drop such frames without an ACK), so both are returned as numbers.
 */
import {EcpDecodeError, VdpEncodeError} from './errors.js'
import {ETHERNET_HEADER_LENGTH, ETHERTYPE_ECP, formatMac, parseMac} from '../core/ethernet.js'

export const ECP_VERSION = 1
/** ECP subtypes (docs/wire-notes.md §ECP header). */
export const ECP_SUBTYPE_VDP = 1
export const ECP_SUBTYPE_PECSP = 2

export const ECP_HEADER_LENGTH = 4
/** An ACK is header-only: 14 + 4 octets. lldpad sends exactly this, unpadded, on veth. */
const ECP_MIN_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + ECP_HEADER_LENGTH

export type EcpOperation = 'request' | 'ack' | 'reserved-2' | 'reserved-3'
const OPERATIONS: readonly EcpOperation[] = ['request', 'ack', 'reserved-2', 'reserved-3']

export interface EcpFrame {
  /** Destination MAC, "01:80:c2:00:00:00" for VDP. */
  readonly dst: string
  readonly src: string
  readonly version: number
  readonly operation: EcpOperation
  readonly subtype: number
  readonly sequence: number
  /**
   * Everything after the ECP header. ECP has no length field, so Ethernet padding is part of it: for an ACK
   * this is the padding (usually empty or zeros); for a VDP request it is the VDPDU plus any padding.
   */
  readonly ulpdu: Buffer
}

export function decodeEcpFrame(frame: Uint8Array): EcpFrame {
  const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)
  if (buf.length < ECP_MIN_FRAME_LENGTH) {
    throw new EcpDecodeError(
      'ECP_TRUNCATED',
      `ECP frame of ${buf.length} octets is shorter than the ${ECP_MIN_FRAME_LENGTH}-octet Ethernet + ECP header`,
      {length: buf.length},
    )
  }
  const ethertype = buf.readUInt16BE(12)
  if (ethertype !== ETHERTYPE_ECP) {
    throw new EcpDecodeError(
      'ECP_BAD_ETHERTYPE',
      `EtherType 0x${ethertype.toString(16).padStart(4, '0')} is not ECP22 (0x8940)`,
      {ethertype},
    )
  }
  const word = buf.readUInt16BE(14)
  return {
    dst: formatMac(buf, 0),
    src: formatMac(buf, 6),
    version: word >> 12,
    operation: OPERATIONS[(word >> 10) & 0x3],
    subtype: word & 0x3ff,
    sequence: buf.readUInt16BE(16),
    ulpdu: buf.subarray(ECP_MIN_FRAME_LENGTH),
  }
}

export interface EcpFrameInit {
  readonly dst: string
  readonly src: string
  readonly version?: number
  readonly operation: EcpOperation
  readonly subtype: number
  readonly sequence: number
  readonly ulpdu?: Uint8Array
  /** Pad with zeros up to this many octets (60 = Ethernet minimum); 0 = never pad. */
  readonly padTo?: number
}

export function encodeEcpFrame(init: EcpFrameInit): Buffer {
  const version = init.version ?? ECP_VERSION
  checkField('version', version, 0xf)
  checkField('subtype', init.subtype, 0x3ff)
  checkField('sequence', init.sequence, 0xffff)
  const op = OPERATIONS.indexOf(init.operation)
  if (op < 0) throw new VdpEncodeError('ECP_ENCODE_INVALID', `unknown ECP operation "${init.operation}"`)
  const ulpdu = init.ulpdu ?? Buffer.alloc(0)
  const length = Math.max(ECP_MIN_FRAME_LENGTH + ulpdu.length, init.padTo ?? 0)
  const frame = Buffer.alloc(length)
  parseMac(init.dst).copy(frame, 0)
  parseMac(init.src).copy(frame, 6)
  frame.writeUInt16BE(ETHERTYPE_ECP, 12)
  frame.writeUInt16BE((version << 12) | (op << 10) | init.subtype, 14)
  frame.writeUInt16BE(init.sequence, 16)
  frame.set(ulpdu, ECP_MIN_FRAME_LENGTH)
  return frame
}

/**
 * The ULPDU budget for a link MTU: the Ethernet payload minus the ECP header and the 2 octets lldpad keeps
 * for an End TLV (docs/wire-notes.md §ECP framing: 1500 → 1494).
 */
export function ulpduBudget(mtu: number): number {
  return mtu - ECP_HEADER_LENGTH - 2
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new VdpEncodeError('ECP_ENCODE_INVALID', `ECP ${name} must be an integer 0–${max}, got ${value}`, {
      name,
      value,
    })
  }
}
