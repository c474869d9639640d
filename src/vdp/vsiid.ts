/**
 * VSIIDs (docs/wire-notes.md §VSIID formats): a format octet plus 16 octets. Typed per format so callers never
 * handle raw octets; `vsiidKey` gives the canonical text the engine keys its tables by.
 */
import {isIPv4, isIPv6} from 'node:net'
import {VdpDecodeError, VdpEncodeError} from './errors.js'
import {formatMac, isMacText, parseMac} from '../core/ethernet.js'

export type Vsiid =
  | {readonly format: 'ipv4'; readonly address: string}
  | {readonly format: 'ipv6'; readonly address: string}
  | {readonly format: 'mac'; readonly mac: string}
  /** Locally defined: any 16 octets, shown as 32 lower-case hex digits. */
  | {readonly format: 'local'; readonly id: string}
  /** RFC 4122 UUID: the only format vdptool can send, and what Cisco DFA uses (the Neutron port id). */
  | {readonly format: 'uuid'; readonly uuid: string}

export type VsiidFormat = Vsiid['format']

export const VSIID_FORMAT_CODE: Readonly<Record<VsiidFormat, number>> = {ipv4: 1, ipv6: 2, mac: 3, local: 4, uuid: 5}
const FORMAT_BY_CODE: readonly (VsiidFormat | undefined)[] = [undefined, 'ipv4', 'ipv6', 'mac', 'local', 'uuid']

export const VSIID_LENGTH = 16

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const LOCAL_TEXT = /^[0-9a-f]{32}$/i

export function uuidVsiid(uuid: string): Vsiid {
  return {format: 'uuid', uuid: uuid.toLowerCase()}
}

export function macVsiid(mac: string): Vsiid {
  return {format: 'mac', mac: mac.toLowerCase()}
}

/** Canonical text of a VSIID, unique per (format, octets): "uuid:a7b5c4d2-…", "mac:52:54:00:aa:bb:01". */
export function vsiidKey(vsiid: Vsiid): string {
  return `${vsiid.format}:${vsiidText(vsiid)}`
}

export function vsiidText(vsiid: Vsiid): string {
  switch (vsiid.format) {
    case 'ipv4':
    case 'ipv6':
      return vsiid.address
    case 'mac':
      return vsiid.mac
    case 'local':
      return vsiid.id
    case 'uuid':
      return vsiid.uuid
  }
}

export function vsiidFormatCode(vsiid: Vsiid): number {
  return VSIID_FORMAT_CODE[vsiid.format]
}

/** Write the 16 VSIID octets (not the format octet) at `offset`. */
export function writeVsiid(vsiid: Vsiid, target: Buffer, offset: number): void {
  const out = target.subarray(offset, offset + VSIID_LENGTH)
  out.fill(0)
  switch (vsiid.format) {
    case 'ipv4': {
      // IPv4-mapped IPv6: 10 × 00, ff ff, the address.
      if (!isIPv4(vsiid.address)) invalid(`"${vsiid.address}" is not an IPv4 address`)
      out[10] = 0xff
      out[11] = 0xff
      vsiid.address.split('.').forEach((part, i) => (out[12 + i] = Number(part)))
      return
    }
    case 'ipv6':
      if (!isIPv6(vsiid.address)) invalid(`"${vsiid.address}" is not an IPv6 address`)
      ipv6ToOctets(vsiid.address).copy(out)
      return
    case 'mac':
      if (!isMacText(vsiid.mac)) invalid(`"${vsiid.mac}" is not a MAC address`)
      parseMac(vsiid.mac).copy(out, 10)
      return
    case 'local':
      if (!LOCAL_TEXT.test(vsiid.id)) invalid(`local VSIID "${vsiid.id}" must be 32 hex digits`)
      Buffer.from(vsiid.id, 'hex').copy(out)
      return
    case 'uuid':
      if (!UUID_TEXT.test(vsiid.uuid)) invalid(`"${vsiid.uuid}" is not a UUID`)
      Buffer.from(vsiid.uuid.replaceAll('-', ''), 'hex').copy(out)
      return
  }
}

/**
 * Read a VSIID of format code `code` from 16 octets. Strict: IPv4 and MAC VSIIDs must carry their zero /
 * ffff prefix. (lldpad's check is looser, accepting an IPv4 VSIID if either octet 10 or 11 is ff; we do not
 * copy that, so every VSIID we accept re-encodes to the same octets.)
 */
export function readVsiid(code: number, source: Buffer, offset: number): Vsiid {
  const octets = source.subarray(offset, offset + VSIID_LENGTH)
  const format = FORMAT_BY_CODE[code]
  switch (format) {
    case 'ipv4':
      if (!isZero(octets, 0, 10) || octets[10] !== 0xff || octets[11] !== 0xff) {
        malformed('an IPv4 VSIID must be 10 × 00, ff ff, then the address', octets)
      }
      return {format, address: `${octets[12]}.${octets[13]}.${octets[14]}.${octets[15]}`}
    case 'ipv6':
      return {format, address: octetsToIpv6(octets)}
    case 'mac':
      if (!isZero(octets, 0, 10)) malformed('a MAC VSIID must be 10 × 00 then the MAC', octets)
      return {format, mac: formatMac(octets, 10)}
    case 'local':
      return {format, id: octets.toString('hex')}
    case 'uuid':
      return {format, uuid: formatUuid(octets)}
    default:
      throw new VdpDecodeError('VDP_BAD_FORMAT', `unknown VSIID format ${code} (expected 1–5)`, {vsiidFormat: code})
  }
}

export function formatUuid(octets: Uint8Array): string {
  const hex = Buffer.from(octets.buffer, octets.byteOffset, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function parseUuid(text: string): Buffer {
  if (!UUID_TEXT.test(text)) invalid(`"${text}" is not a UUID`)
  return Buffer.from(text.replaceAll('-', ''), 'hex')
}

function isZero(octets: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (octets[i] !== 0) return false
  return true
}

function ipv6ToOctets(text: string): Buffer {
  // isIPv6 has validated the text; expand "::" and an embedded dotted IPv4 tail.
  let body = text
  const dotted = body.match(/(\d+\.\d+\.\d+\.\d+)$/)
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number)
    body = body.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = body.includes('::') ? body.split('::') : [body, undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0')
  const out = Buffer.alloc(16)
  ;[...headGroups, ...zeros, ...tailGroups].forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i))
  return out
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run (≥ 2) of zero groups as "::". */
function octetsToIpv6(octets: Uint8Array): string {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((octets[i] << 8) | octets[i + 1])
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const text = groups.map((g) => g.toString(16))
  if (bestStart < 0) return text.join(':')
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`
}

function invalid(message: string): never {
  throw new VdpEncodeError('VDP_ENCODE_INVALID', message)
}

function malformed(message: string, octets: Uint8Array): never {
  throw new VdpDecodeError('VDP_BAD_FIELD', message, {vsiid: Buffer.from(octets).toString('hex')})
}
