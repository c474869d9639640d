/**
 * MAC addresses and the Ethernet II header, for every part of the agent: the LLDP and VDP codecs, the frame
 * sockets, the lab and the CLI. Pure: text and octets in, text and octets out.
 *
 * A MAC address as text is six colon-separated hex octets, shown lower case as `ip` prints it
 * ("52:54:00:aa:bb:01"); frames carry it as six raw octets. Formatting runs several times per frame on the
 * decode paths, so it builds the string in one call.
 */
import {VdpAgentError} from '../errors.js'

/** 802.1AB LLDP. */
export const ETHERTYPE_LLDP = 0x88cc
/** 802.1Qbg-2012 Edge Control Protocol, which carries VDP22 (cl. 43). */
export const ETHERTYPE_ECP = 0x8940
/** The lowest value that is an ethertype rather than an 802.3 length. */
const ETHERTYPE_MIN = 0x0600

/** 802.1Q C-tag, 802.1ad S-tag (an S-channel of 802.1Qbg cl. 42 CDCP), and the pre-standard QinQ 0x9100 some switches still use. */
const TPID_CTAG = 0x8100
const TPID_STAG = 0x88a8
const TPID_QINQ_LEGACY = 0x9100
/** Tags we look behind to find an ethertype. */
const MAX_VLAN_TAGS = 2

/**
 * IEEE 802.1Q group addresses that bridges never forward (802.1Q-2018 Table 8-1). LLDP agents are addressed
 * by scope (802.1AB-2016 cl. 7.1): the nearest bridge (what lldpd uses), the nearest non-TPMR bridge, and the
 * nearest customer bridge (where 802.1Qbg EVB, ECP and VDP live: lldpad's "-g ncb" agent).
 */
export const NEAREST_BRIDGE = '01:80:c2:00:00:0e'
export const NEAREST_NON_TPMR_BRIDGE = '01:80:c2:00:00:03'
export const NEAREST_CUSTOMER_BRIDGE = '01:80:c2:00:00:00'
/** The three LLDP agent addresses, nearest customer bridge first. */
export const LLDP_AGENT_ADDRESSES: readonly string[] = [
  NEAREST_CUSTOMER_BRIDGE,
  NEAREST_NON_TPMR_BRIDGE,
  NEAREST_BRIDGE,
]

export const ETHERNET_HEADER_LENGTH = 14
/** Minimum Ethernet frame without FCS; senders zero-pad shorter frames, receivers ignore the padding. */
export const ETHERNET_MIN_FRAME_LENGTH = 60

export class InvalidMacAddressError extends VdpAgentError {
  constructor(value: unknown) {
    super('INVALID_MAC', `invalid MAC address ${JSON.stringify(value)}: expected six colon-separated hex bytes`, {
      value,
    })
  }
}

class InvalidEthertypeError extends VdpAgentError {
  constructor(value: unknown) {
    super('INVALID_ETHERTYPE', `invalid ethertype ${String(value)}: expected an integer from 0x0600 to 0xffff`, {
      value,
    })
  }
}

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i
/** Also the IEEE 802 form with hyphens ("01-80-C2-00-00-0E", IEEE Std 802-2014 cl. 8.1); separators may mix. */
const MAC_TEXT_WITH_HYPHENS = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i

export interface MacTextOptions {
  /** Accept hyphens as separators too (the LLDP builder does, for chassis and port IDs). Default false. */
  readonly hyphens?: boolean
}

/** Whether `text` is a MAC address: "aa:bb:cc:dd:ee:ff", any case (hyphens too if asked). */
export function isMacText(text: string, {hyphens = false}: MacTextOptions = {}): boolean {
  return typeof text === 'string' && (hyphens ? MAC_TEXT_WITH_HYPHENS : MAC_TEXT).test(text)
}

/** "01:80:C2:00:00:0e" -> 6 octets. Throws InvalidMacAddressError (INVALID_MAC). */
export function parseMac(text: string, options: MacTextOptions = {}): Buffer {
  if (!isMacText(text, options)) throw new InvalidMacAddressError(text)
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex')
}

/** Char codes of the hex digits, for building MAC strings in one allocation. */
const HEX_CODE = new Uint16Array(16)
for (let i = 0; i < 16; i++) HEX_CODE[i] = '0123456789abcdef'.charCodeAt(i)

/**
 * Six octets at `offset` -> "01:80:c2:00:00:0e" (lower case). Throws InvalidMacAddressError when fewer than six
 * octets are there. One fromCharCode call: a chain of short concatenations would allocate a flat copy at every
 * step (V8 flattens strings < 13 chars).
 */
export function formatMac(octets: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + 6 > octets.length) {
    throw new InvalidMacAddressError(Buffer.from(octets.subarray(Math.max(0, offset))).toString('hex'))
  }
  const o = offset
  const h = HEX_CODE
  // prettier-ignore
  return String.fromCharCode(
    h[octets[o] >> 4], h[octets[o] & 15], 58,
    h[octets[o + 1] >> 4], h[octets[o + 1] & 15], 58,
    h[octets[o + 2] >> 4], h[octets[o + 2] & 15], 58,
    h[octets[o + 3] >> 4], h[octets[o + 3] & 15], 58,
    h[octets[o + 4] >> 4], h[octets[o + 4] & 15], 58,
    h[octets[o + 5] >> 4], h[octets[o + 5] & 15],
  )
}

/** Canonical lower-case form of a MAC given as text; throws InvalidMacAddressError. */
export function normalizeMac(text: string): string {
  return formatMac(parseMac(text))
}

/** A group (multicast or broadcast) address: the I/G bit, bit 0 of the first octet, is set. */
export function isGroupMac(mac: Uint8Array): boolean {
  return (mac[0] & 1) === 1
}

/**
 * lldpad's is_valid_mac rule for VDP filters: a MAC address, not all-zero, not broadcast, and not an IPv4
 * (01:00:5e) or IPv6 (33:33) multicast prefix. A bridge rejects other addresses with VDP error 5.
 */
export function isUsableUnicastMac(text: string): boolean {
  if (!isMacText(text)) return false
  const m = text.toLowerCase()
  if (m === '00:00:00:00:00:00' || m === 'ff:ff:ff:ff:ff:ff') return false
  return !m.startsWith('01:00:5e') && !m.startsWith('33:33')
}

export function validateEthertype(value: number): number {
  if (!Number.isInteger(value) || value < ETHERTYPE_MIN || value > 0xffff) throw new InvalidEthertypeError(value)
  return value
}

export interface EthernetHeader {
  dst: string
  src: string
  ethertype: number
}

/** The Ethernet II header of a frame, or undefined if the frame is shorter than one. */
export function decodeEthernetHeader(frame: Uint8Array): EthernetHeader | undefined {
  if (frame.length < ETHERNET_HEADER_LENGTH) return undefined
  return {
    dst: formatMac(frame, 0),
    src: formatMac(frame, 6),
    ethertype: (frame[12] << 8) | frame[13],
  }
}

/** dst + src + ethertype + payload. Pads to the 60-byte Ethernet minimum unless `pad` is false. */
export function encodeEthernetFrame(
  header: EthernetHeader,
  payload: Uint8Array,
  {pad = true}: {pad?: boolean} = {},
): Buffer {
  const length = ETHERNET_HEADER_LENGTH + payload.length
  const frame = Buffer.alloc(pad ? Math.max(ETHERNET_MIN_FRAME_LENGTH, length) : length)
  parseMac(header.dst).copy(frame, 0)
  parseMac(header.src).copy(frame, 6)
  frame.writeUInt16BE(validateEthertype(header.ethertype), 12)
  frame.set(payload, ETHERNET_HEADER_LENGTH)
  return frame
}

/** An 802.1Q/802.1ad tag as it sits between the source address and the ethertype. */
export interface VlanTag {
  /** The tag's ethertype (TPID): 0x8100 (C-tag), 0x88a8 (S-tag) or 0x9100. */
  readonly tpid: number
  readonly pcp: number
  readonly dei: boolean
  readonly vid: number
}

function isVlanTpid(value: number): boolean {
  return value === TPID_CTAG || value === TPID_STAG || value === TPID_QINQ_LEGACY
}

/**
 * Offset of `ethertype` in `frame`: 12 untagged, 16 or 20 behind one or two VLAN tags; -1 if the frame does not
 * carry it there. Allocation-free: the LLDP header scan runs it on every frame.
 */
export function ethertypeOffset(frame: Uint8Array, ethertype: number): number {
  let offset = 12
  for (let tags = 0; offset + 2 <= frame.length; tags++, offset += 4) {
    const type = (frame[offset] << 8) | frame[offset + 1]
    if (type === ethertype) return offset
    if (!isVlanTpid(type) || tags === MAX_VLAN_TAGS) return -1
  }
  return -1
}

/** The VLAN tags in front of the ethertype at `ethertypeAt` (from ethertypeOffset), outermost first. */
export function readVlanTags(frame: Uint8Array, ethertypeAt: number): VlanTag[] {
  const tags: VlanTag[] = []
  for (let off = 12; off < ethertypeAt; off += 4) {
    const tci = (frame[off + 2] << 8) | frame[off + 3]
    tags.push({tpid: (frame[off] << 8) | frame[off + 1], pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff})
  }
  return tags
}
