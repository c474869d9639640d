/**
 * Octet-level helpers shared by the TLV codecs: IPv4/IPv6/hex/OID text forms and their inverses (MAC addresses
 * are core/ethernet.ts's), and text decoding that stays lossless. Formatting uses lookup tables and string
 * concatenation (V8 builds cheap rope strings) because it runs several times per frame on the decode path.
 */
import {isUtf8} from 'node:buffer'
import {isMacText, parseMac} from '../core/ethernet.js'
import {LldpEncodeError} from './errors.js'
import type {TextEncoding} from './types.js'

const HEX2: string[] = []
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'))
const DEC: string[] = []
for (let i = 0; i < 256; i++) DEC.push(String(i))

export function hex(buf: Uint8Array, start = 0, end = buf.length): string {
  let s = ''
  for (let i = start; i < end; i++) s += HEX2[buf[i]]
  return s
}

export function hexByte(value: number): string {
  return HEX2[value & 0xff]
}

/**
 * A MAC address as the LLDP encoder takes it: colon or IEEE 802 hyphen form (see isMacText), LldpEncodeError
 * when it is not one.
 */
export function macOctets(text: string): Buffer {
  if (!isMacText(text, {hyphens: true})) throw new LldpEncodeError(`not a MAC address: ${JSON.stringify(text)}`)
  return parseMac(text, {hyphens: true})
}

export function parseHex(text: string): Buffer {
  const clean = text.replace(/[:\s-]/g, '')
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new LldpEncodeError(`not a hex octet string: ${JSON.stringify(text)}`)
  }
  return Buffer.from(clean, 'hex')
}

export function formatIpv4(buf: Uint8Array, at: number): string {
  return DEC[buf[at]] + '.' + DEC[buf[at + 1]] + '.' + DEC[buf[at + 2]] + '.' + DEC[buf[at + 3]]
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

export function parseIpv4(text: string): Buffer {
  const m = IPV4_RE.exec(text)
  const parts = m ? m.slice(1).map(Number) : []
  if (!m || parts.some((p) => p > 255)) throw new LldpEncodeError(`not an IPv4 address: ${JSON.stringify(text)}`)
  return Buffer.from(parts)
}

/** RFC 5952 text form: lower case, longest run (≥ 2) of zero groups compressed, first such run on ties. */
export function formatIpv6(buf: Uint8Array, at: number): string {
  let bestStart = -1
  let bestLen = 0
  for (let i = 0, run = 0; i < 8; i++) {
    if (buf[at + 2 * i] === 0 && buf[at + 2 * i + 1] === 0) {
      run++
      if (run > bestLen) {
        bestLen = run
        bestStart = i - run + 1
      }
    } else {
      run = 0
    }
  }
  if (bestLen < 2) bestStart = -1
  let s = ''
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':'
      i += bestLen - 1
      continue
    }
    s += ((buf[at + 2 * i] << 8) | buf[at + 2 * i + 1]).toString(16)
    if (i < 7) s += ':'
  }
  return s
}

export function parseIpv6(text: string): Buffer {
  const bad = (): never => {
    throw new LldpEncodeError(`not an IPv6 address: ${JSON.stringify(text)}`)
  }
  let body = text
  const v4 = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body)
  let v4Tail: Buffer | undefined
  if (v4) {
    v4Tail = parseIpv4(v4[1])
    body = body.slice(0, v4.index + 1) + '0:0'
  }
  const halves = body.split('::')
  if (halves.length > 2) bad()
  const toGroups = (s: string): number[] =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()))
  const head = toGroups(halves[0])
  const tail = halves.length === 2 ? toGroups(halves[1]) : []
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) bad()
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i))
  if (v4Tail) v4Tail.copy(out, 12)
  return out
}

/** Buffer's internal slice decoders: the same as toString(encoding, start, end) without its argument checks. */
interface FastSlices {
  latin1Slice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}

/** The encoding chosen by the last decodeText call (a variable, not a result object: this runs per TLV). */
export let lastTextEncoding: TextEncoding = 'utf8'

/**
 * LLDP strings are SNMP DisplayString/SnmpAdminString: ASCII or UTF-8 in practice. We decode UTF-8 when the
 * octets are valid UTF-8 and fall back to Latin-1 (one char per octet) otherwise, so the octets can always be
 * recovered exactly; lastTextEncoding says which. NULs are kept here; display code stops at the first one.
 */
export function decodeText(buf: Buffer, start: number, end: number): string {
  const fast = buf as unknown as FastSlices
  if (end - start > 48) {
    // Long strings: the native UTF-8 decoder is faster than our ASCII pre-scan; U+FFFD in its output means
    // either a literal U+FFFD or invalid octets, which isUtf8 tells apart.
    const text = fast.utf8Slice(start, end)
    if (text.indexOf('\uFFFD') < 0 || isUtf8(buf.subarray(start, end))) {
      lastTextEncoding = 'utf8'
      return text
    }
    lastTextEncoding = 'latin1'
    return fast.latin1Slice(start, end)
  }
  let ascii = true
  for (let i = start; i < end; i++) {
    if (buf[i] > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii || isUtf8(buf.subarray(start, end))) {
    lastTextEncoding = 'utf8'
    return ascii ? fast.latin1Slice(start, end) : fast.utf8Slice(start, end)
  }
  lastTextEncoding = 'latin1'
  return fast.latin1Slice(start, end)
}

/** Printable ID text: valid UTF-8 with no control characters, except NUL padding at the end. */
export function isPrintableText(buf: Buffer, start: number, end: number): boolean {
  let stop = end
  while (stop > start && buf[stop - 1] === 0) stop--
  if (stop === start) return false
  let ascii = true
  for (let i = start; i < stop; i++) {
    const b = buf[i]
    if (b < 0x20 || b === 0x7f) return false
    if (b > 0x7f) ascii = false
  }
  return ascii || isUtf8(buf.subarray(start, end))
}

/**
 * A string as LLDP receivers display it: up to the first NUL. tcpdump, Wireshark, lldpd, systemd and
 * NetworkManager all treat these fields as C strings (many switches NUL-terminate them).
 */
export function displayText(value: string): string {
  const nul = value.indexOf('\0')
  return nul < 0 ? value : value.slice(0, nul)
}

/** BER object identifier → dotted text, or undefined when the encoding is not canonical (so it would not round-trip). */
export function decodeOid(buf: Uint8Array, start: number, end: number): string | undefined {
  if (start === end) return ''
  const arcs: number[] = []
  let value = 0
  let inArc = false
  for (let i = start; i < end; i++) {
    const b = buf[i]
    if (!inArc && b === 0x80) return undefined // leading 0x80 is a non-canonical (padded) arc
    value = value * 128 + (b & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER / 128) return undefined
    inArc = (b & 0x80) !== 0
    if (!inArc) {
      arcs.push(value)
      value = 0
    }
  }
  if (inArc) return undefined
  const first = arcs[0]
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
  return [...head, ...arcs.slice(1)].join('.')
}

export function encodeOid(text: string): Buffer {
  if (text === '') return Buffer.alloc(0)
  const arcs = text.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new LldpEncodeError(`not a dotted OID: ${JSON.stringify(text)}`)
    return Number(a)
  })
  if (arcs.length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40)) {
    throw new LldpEncodeError(`not a valid OID: ${JSON.stringify(text)}`)
  }
  const out: number[] = []
  const push = (n: number): void => {
    const septets = [n & 0x7f]
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) septets.unshift((v & 0x7f) | 0x80)
    out.push(...septets)
  }
  push(arcs[0] * 40 + arcs[1])
  for (const a of arcs.slice(2)) push(a)
  return Buffer.from(out)
}

/** Names of the set bits of `mask`, given bit → name; cached per mask so repeated decodes share one frozen array. */
export function bitNames(
  names: ReadonlyArray<readonly [number, string]>,
  cache: Map<number, readonly string[]>,
  mask: number,
): readonly string[] {
  let hit = cache.get(mask)
  if (hit === undefined) {
    hit = Object.freeze(names.filter(([bit]) => (mask & bit) !== 0).map(([, name]) => name))
    if (cache.size < 4096) cache.set(mask, hit)
  }
  return hit
}
