/**
 * VSI filter info (docs/wire-notes.md §Filter info): format octet, 2-octet entry count N ≥ 1, then N entries of
 *   format 1 VID · 2 MAC+VID · 3 GroupID+VID · 4 GroupID+MAC+VID  (E = 2 / 8 / 6 / 12 octets)
 * with the VID field PS(1) | PCP(3) | VID(12); VID 0 asks the bridge to assign one.
 */
import {VdpDecodeError, VdpEncodeError} from './errors.js'
import {formatMac, isMacText, parseMac} from '../core/ethernet.js'

export type FilterFormat = 1 | 2 | 3 | 4

export const FILTER_FORMAT_NAME: Readonly<Record<FilterFormat, string>> = {
  1: 'VID',
  2: 'MAC/VID',
  3: 'GroupID/VID',
  4: 'GroupID/MAC/VID',
}

export interface FilterEntry {
  /** Priority significant: PCP is requested / meaningful. */
  readonly ps: boolean
  /** Priority code point 0–7. */
  readonly pcp: number
  /** 0 = null VID (the bridge assigns), else 1–4095 (a station must not request 1 or 4095). */
  readonly vid: number
  /** Formats 2 and 4 only. */
  readonly mac?: string
  /** Formats 3 and 4 only: the group (for Cisco DFA, the network's segmentation ID). */
  readonly groupId?: number
}

export interface VsiFilter {
  readonly format: FilterFormat
  readonly entries: readonly FilterEntry[]
}

const ENTRY_LENGTH: Readonly<Record<FilterFormat, number>> = {1: 2, 2: 8, 3: 6, 4: 12}

export function filterEntryLength(format: number): number | undefined {
  return ENTRY_LENGTH[format as FilterFormat]
}

export function hasMac(format: FilterFormat): boolean {
  return format === 2 || format === 4
}

export function hasGroup(format: FilterFormat): boolean {
  return format === 3 || format === 4
}

/** Octets of the filter info: format + count + entries. */
export function filterLength(filter: VsiFilter): number {
  return 3 + filter.entries.length * ENTRY_LENGTH[filter.format]
}

function encodeVidField(entry: Pick<FilterEntry, 'ps' | 'pcp' | 'vid'>): number {
  if (!Number.isInteger(entry.vid) || entry.vid < 0 || entry.vid > 0xfff)
    invalid(`VID must be 0–4095, got ${entry.vid}`)
  if (!Number.isInteger(entry.pcp) || entry.pcp < 0 || entry.pcp > 7) invalid(`PCP must be 0–7, got ${entry.pcp}`)
  return (entry.ps ? 0x8000 : 0) | (entry.pcp << 12) | entry.vid
}

export function writeFilter(filter: VsiFilter, target: Buffer, offset: number): number {
  const {format, entries} = filter
  if (!ENTRY_LENGTH[format]) invalid(`filter format must be 1–4, got ${format}`)
  if (entries.length < 1 || entries.length > 0xffff) invalid(`a filter needs 1–65535 entries, got ${entries.length}`)
  let o = offset
  target[o++] = format
  target.writeUInt16BE(entries.length, o)
  o += 2
  for (const entry of entries) {
    if (hasGroup(format)) {
      const g = entry.groupId
      if (g === undefined || !Number.isInteger(g) || g < 0 || g > 0xffffffff) {
        invalid(`format ${format} entries need a 32-bit groupId, got ${g}`)
      }
      target.writeUInt32BE(g, o)
      o += 4
    } else if (entry.groupId !== undefined) {
      invalid(`format ${format} (${FILTER_FORMAT_NAME[format]}) has no group ID`)
    }
    if (hasMac(format)) {
      if (entry.mac === undefined || !isMacText(entry.mac))
        invalid(`format ${format} entries need a MAC, got ${entry.mac}`)
      parseMac(entry.mac).copy(target, o)
      o += 6
    } else if (entry.mac !== undefined) {
      invalid(`format ${format} (${FILTER_FORMAT_NAME[format]}) has no MAC`)
    }
    target.writeUInt16BE(encodeVidField(entry), o)
    o += 2
  }
  return o - offset
}

/** Read N entries of `format` starting at `offset`; the caller has checked the length. */
export function readFilterEntries(format: FilterFormat, count: number, source: Buffer, offset: number): FilterEntry[] {
  const entries: FilterEntry[] = []
  let o = offset
  for (let i = 0; i < count; i++) {
    let groupId: number | undefined
    let mac: string | undefined
    if (hasGroup(format)) {
      groupId = source.readUInt32BE(o)
      o += 4
    }
    if (hasMac(format)) {
      mac = formatMac(source, o)
      o += 6
    }
    const field = source.readUInt16BE(o)
    o += 2
    // Built field by field, not spread: this loop runs for every entry of every VDPDU received.
    const entry: {ps: boolean; pcp: number; vid: number; mac?: string; groupId?: number} = {
      ps: (field & 0x8000) !== 0,
      pcp: (field >> 12) & 0x7,
      vid: field & 0xfff,
    }
    if (mac !== undefined) entry.mac = mac
    if (groupId !== undefined) entry.groupId = groupId
    entries.push(entry)
  }
  return entries
}

export function checkFilterFormat(format: number): FilterFormat {
  if (!ENTRY_LENGTH[format as FilterFormat]) {
    throw new VdpDecodeError('VDP_BAD_FORMAT', `unknown filter info format ${format} (expected 1–4)`, {
      filterFormat: format,
    })
  }
  return format as FilterFormat
}

function invalid(message: string): never {
  throw new VdpEncodeError('VDP_ENCODE_INVALID', message)
}
