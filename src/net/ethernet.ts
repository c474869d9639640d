import {VdpAgentError} from '../errors.js'

/** Ethertypes of the frames the agent speaks. */
export const ETHERTYPE_LLDP = 0x88cc
/** 802.1Qbg-2012 Edge Control Protocol, which carries VDP22. */
export const ETHERTYPE_ECP = 0x8940

/**
 * IEEE 802.1Q group addresses that bridges never forward. LLDP agents are addressed by scope: the nearest
 * bridge (what lldpd uses), the nearest non-TPMR bridge, and the nearest customer bridge (where 802.1Qbg
 * EVB, ECP and VDP live: lldpad's "-g ncb" agent).
 */
export const NEAREST_BRIDGE = '01:80:c2:00:00:0e'
export const NEAREST_NON_TPMR_BRIDGE = '01:80:c2:00:00:03'
export const NEAREST_CUSTOMER_BRIDGE = '01:80:c2:00:00:00'

export const ETHERNET_HEADER_LENGTH = 14
/** The lowest value that is an ethertype rather than an 802.3 length. */
export const ETHERTYPE_MIN = 0x0600

export class InvalidMacAddressError extends VdpAgentError {
  constructor(value: unknown) {
    super('INVALID_MAC', `invalid MAC address ${JSON.stringify(value)}: expected six colon-separated hex bytes`, {
      value,
    })
  }
}

export class InvalidEthertypeError extends VdpAgentError {
  constructor(value: unknown) {
    super('INVALID_ETHERTYPE', `invalid ethertype ${String(value)}: expected an integer from 0x0600 to 0xffff`, {
      value,
    })
  }
}

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

/** "01:80:C2:00:00:0e" -> 6-byte Buffer. */
export function parseMac(text: string): Buffer {
  if (typeof text !== 'string' || !MAC_PATTERN.test(text)) throw new InvalidMacAddressError(text)
  return Buffer.from(text.replaceAll(':', ''), 'hex')
}

/** 6 bytes -> "01:80:c2:00:00:0e" (lower case, the form `ip` prints). */
export function formatMac(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new InvalidMacAddressError(Buffer.from(bytes).toString('hex'))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':')
}

/** Canonical lower-case form of a MAC given as text; throws InvalidMacAddressError. */
export function normalizeMac(text: string): string {
  return formatMac(parseMac(text))
}

export function isGroupMac(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 1
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
    dst: formatMac(frame.subarray(0, 6)),
    src: formatMac(frame.subarray(6, 12)),
    ethertype: (frame[12]! << 8) | frame[13]!,
  }
}

/** dst + src + ethertype + payload. Pads to the 60-byte Ethernet minimum unless `pad` is false. */
export function encodeEthernetFrame(
  header: EthernetHeader,
  payload: Uint8Array,
  {pad = true}: {pad?: boolean} = {},
): Buffer {
  const length = ETHERNET_HEADER_LENGTH + payload.length
  const frame = Buffer.alloc(pad ? Math.max(60, length) : length)
  parseMac(header.dst).copy(frame, 0)
  parseMac(header.src).copy(frame, 6)
  frame.writeUInt16BE(validateEthertype(header.ethertype), 12)
  frame.set(payload, ETHERNET_HEADER_LENGTH)
  return frame
}
