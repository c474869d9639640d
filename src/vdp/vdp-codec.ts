/**
 * VDP22 TLV codec (802.1Qbg-2012 cl. 41; docs/wire-notes.md §VDPDU to §Organisational TLVs in a VDPDU). A
 * VDPDU is the ULPDU of an ECPDU with subtype 1: a sequence of TLVs with LLDP's 7-bit type / 9-bit length header.
 *
 *   type 5   VSI Manager ID (16 octets); must come first, applies to the VSI TLVs after it
 *   type 1–4 VSI TLV: Pre-Associate, Pre-Associate with RR, Associate, De-Associate
 *   type 127 organisational (Cisco 00-00-0C typed, others raw)
 *   type 0   End (optional: lldpad never sends it; receivers also stop at zero padding)
 *
 * Decoding is strict: any overrun, wrong length, N = 0, unknown VSIID or filter format, or a TLV before the
 * first Manager ID throws VdpDecodeError and nothing else. (lldpad ignores a single bad VSI TLV and keeps the
 * rest; we reject the VDPDU, which the receiver counts; the per-VSI response timer covers the loss.)
 */
import type {ErrorCode} from '../error-codes.js'
import {CISCO_OUI, decodeCiscoBody, encodeCiscoBody, type CiscoTlv} from './cisco-oui.js'
import {VdpDecodeError, VdpEncodeError} from './errors.js'
import {MANAGER_ID_LENGTH} from './manager-id.js'
import {
  checkFilterFormat,
  filterEntryLength,
  filterLength,
  readFilterEntries,
  writeFilter,
  type VsiFilter,
} from './vsi-filter.js'
import {decodeStatus, encodeStatus, type VsiStatus} from './vsi-status.js'
import {readVsiid, VSIID_LENGTH, vsiidFormatCode, writeVsiid, type Vsiid} from './vsiid.js'

export type VsiMode = 'preassoc' | 'preassoc-rr' | 'assoc' | 'deassoc'

const TLV_TYPE = Object.freeze({end: 0, preassoc: 1, preassocRr: 2, assoc: 3, deassoc: 4, managerId: 5, org: 127})
const MODE_BY_TYPE: readonly (VsiMode | undefined)[] = [undefined, 'preassoc', 'preassoc-rr', 'assoc', 'deassoc']
const VSI_MODE_TLV_TYPE: Readonly<Record<VsiMode, number>> = {preassoc: 1, 'preassoc-rr': 2, assoc: 3, deassoc: 4}

interface ManagerIdTlv {
  readonly kind: 'manager-id'
  /** 16 octets; see manager-id.ts for vdptool's text rules. */
  readonly managerId: Buffer
}

export interface VsiTlv {
  readonly kind: 'vsi'
  readonly mode: VsiMode
  readonly status: VsiStatus
  /** VSI Type ID, 24 bits. */
  readonly typeId: number
  readonly typeVersion: number
  readonly vsiid: Vsiid
  readonly filter: VsiFilter
}

/** An organisational TLV this codec does not type; `data` is everything after the OUI. */
interface RawOrgTlv {
  readonly kind: 'org'
  /** "00-00-0c" style, lower case. */
  readonly oui: string
  readonly data: Buffer
}

/** A TLV type VDP22 does not define (6–126): kept so it re-encodes unchanged; receivers skip it. */
interface UnknownTlv {
  readonly kind: 'unknown'
  readonly tlvType: number
  readonly info: Buffer
}

export type VdpOrgTlv = CiscoTlv | RawOrgTlv
export type VdpTlv = ManagerIdTlv | VsiTlv | VdpOrgTlv | UnknownTlv

/**
 * Invariant: `encodeVdpdu(d.tlvs, {endTlv: d.endTlv})` equals the first `d.length` input octets; the rest of
 * the input is padding that follows an End TLV.
 */
export interface DecodedVdpdu {
  readonly tlvs: VdpTlv[]
  /** Whether an End TLV (or zero padding, which reads the same) closed the TLV list. */
  readonly endTlv: boolean
  /** Octets the TLVs occupy, End TLV included. */
  readonly length: number
}

/** A VSI TLV with the Manager ID it falls under and the organisational TLVs that follow it. */
export interface VsiTlvGroup {
  readonly managerId: Buffer
  readonly vsi: VsiTlv
  readonly org: VdpOrgTlv[]
}

/**
 * Attach each VSI TLV to the Manager ID before it and the org TLVs after it. A VDPDU may hold several
 * managers' sections here; lldpad drops a VDPDU with a second Manager ID, so our senders never build one.
 */
export function groupVsiTlvs(tlvs: readonly VdpTlv[]): VsiTlvGroup[] {
  const groups: VsiTlvGroup[] = []
  let managerId: Buffer | undefined
  let current: VsiTlvGroup | undefined
  for (const tlv of tlvs) {
    if (tlv.kind === 'manager-id') {
      managerId = tlv.managerId
      current = undefined
    } else if (tlv.kind === 'vsi' && managerId !== undefined) {
      current = {managerId, vsi: tlv, org: []}
      groups.push(current)
    } else if ((tlv.kind === 'org' || tlv.kind.startsWith('cisco-')) && current !== undefined) {
      current.org.push(tlv as VdpOrgTlv)
    }
  }
  return groups
}

const HEADER = 2
const MAX_INFO = 0x1ff
/** Fixed part of a VSI TLV before the filter entries (docs/wire-notes.md §VSI TLV). */
const VSI_FIXED = 1 + 3 + 1 + 1 + VSIID_LENGTH + 1 + 2

export function decodeVdpdu(bytes: Uint8Array): DecodedVdpdu {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tlvs: VdpTlv[] = []
  let offset = 0
  let sawManager = false
  while (offset < buf.length) {
    if (buf.length - offset < HEADER) {
      // A lone zero octet is padding, not a TLV.
      if (buf[offset] === 0) return {tlvs, endTlv: false, length: offset}
      fail('VDP_TLV_TRUNCATED', `1 octet left at offset ${offset}, too short for a TLV header`, offset)
    }
    const header = buf.readUInt16BE(offset)
    const type = header >> 9
    const length = header & MAX_INFO
    if (type === TLV_TYPE.end) return {tlvs, endTlv: true, length: offset + HEADER}
    const start = offset + HEADER
    if (start + length > buf.length) {
      fail(
        'VDP_TLV_TRUNCATED',
        `TLV type ${type} at offset ${offset} claims ${length} octets, only ${buf.length - start} left`,
        offset,
      )
    }
    const info = buf.subarray(start, start + length)
    if (!sawManager && type !== TLV_TYPE.managerId) {
      fail('VDP_NO_MANAGER_ID', `the first TLV must be a VSI Manager ID TLV (type 5), got type ${type}`, offset)
    }
    tlvs.push(decodeTlv(type, info, offset))
    if (type === TLV_TYPE.managerId) sawManager = true
    offset = start + length
  }
  return {tlvs, endTlv: false, length: offset}
}

export function encodeVdpdu(tlvs: readonly VdpTlv[], options: {endTlv?: boolean} = {}): Buffer {
  const parts = tlvs.map(encodeTlv)
  if (options.endTlv) parts.push(Buffer.alloc(HEADER))
  return Buffer.concat(parts)
}

/** One TLV with its header. */
export function encodeTlv(tlv: VdpTlv): Buffer {
  switch (tlv.kind) {
    case 'manager-id': {
      if (tlv.managerId.length !== MANAGER_ID_LENGTH) invalid(`a manager ID is 16 octets, got ${tlv.managerId.length}`)
      return withHeader(TLV_TYPE.managerId, tlv.managerId)
    }
    case 'vsi':
      return encodeVsiTlv(tlv)
    case 'cisco-vm-name':
    case 'cisco-ipv4-address':
      return withHeader(TLV_TYPE.org, Buffer.concat([ouiOctets(CISCO_OUI), encodeCiscoBody(tlv)]))
    case 'org':
      return withHeader(TLV_TYPE.org, Buffer.concat([ouiOctets(tlv.oui), tlv.data]))
    case 'unknown':
      if (!Number.isInteger(tlv.tlvType) || tlv.tlvType < 6 || tlv.tlvType > 126) {
        invalid(`an unknown TLV type must be 6–126, got ${tlv.tlvType}`)
      }
      return withHeader(tlv.tlvType, tlv.info)
  }
}

/** Encoded size of a TLV including its header, without encoding it. */
export function vsiTlvLength(filter: VsiFilter): number {
  return HEADER + VSI_FIXED + filterLength(filter) - 3
}

function encodeVsiTlv(tlv: VsiTlv): Buffer {
  const out = Buffer.alloc(vsiTlvLength(tlv.filter))
  const type = VSI_MODE_TLV_TYPE[tlv.mode]
  if (type === undefined) invalid(`unknown VSI mode "${tlv.mode}"`)
  if (out.length - HEADER > MAX_INFO) invalid(`a VSI TLV of ${tlv.filter.entries.length} entries exceeds 511 octets`)
  if (!Number.isInteger(tlv.typeId) || tlv.typeId < 0 || tlv.typeId > 0xffffff)
    invalid(`type ID must be 0–16777215, got ${tlv.typeId}`)
  if (!Number.isInteger(tlv.typeVersion) || tlv.typeVersion < 0 || tlv.typeVersion > 0xff) {
    invalid(`type version must be 0–255, got ${tlv.typeVersion}`)
  }
  out.writeUInt16BE((type << 9) | (out.length - HEADER), 0)
  out[2] = encodeStatus(tlv.status)
  out.writeUIntBE(tlv.typeId, 3, 3)
  out[6] = tlv.typeVersion
  out[7] = vsiidFormatCode(tlv.vsiid)
  writeVsiid(tlv.vsiid, out, 8)
  writeFilter(tlv.filter, out, 8 + VSIID_LENGTH)
  return out
}

function decodeTlv(type: number, info: Buffer, offset: number): VdpTlv {
  if (type === TLV_TYPE.managerId) {
    if (info.length !== MANAGER_ID_LENGTH) {
      fail('VDP_TLV_LENGTH', `a Manager ID TLV has 16 octets, got ${info.length}`, offset)
    }
    return {kind: 'manager-id', managerId: Buffer.from(info)}
  }
  const mode = MODE_BY_TYPE[type]
  if (mode !== undefined) return decodeVsiTlv(mode, info, offset)
  if (type === TLV_TYPE.org) {
    if (info.length < 3)
      fail('VDP_TLV_LENGTH', `an organisational TLV needs a 3-octet OUI, got ${info.length} octets`, offset)
    const oui = formatOui(info)
    const body = Buffer.from(info.subarray(3))
    const cisco = oui === CISCO_OUI ? decodeCiscoBody(body) : undefined
    return cisco ?? {kind: 'org', oui, data: body}
  }
  return {kind: 'unknown', tlvType: type, info: Buffer.from(info)}
}

function decodeVsiTlv(mode: VsiMode, info: Buffer, offset: number): VsiTlv {
  if (info.length < VSI_FIXED) {
    fail('VDP_TLV_LENGTH', `a VSI TLV has at least ${VSI_FIXED} octets, got ${info.length}`, offset)
  }
  const format = checkFilterFormat(info[22])
  const count = info.readUInt16BE(23)
  if (count === 0) fail('VDP_BAD_FIELD', 'a VSI TLV must carry at least one filter entry', offset)
  const expected = VSI_FIXED + count * (filterEntryLength(format) as number)
  if (info.length !== expected) {
    fail(
      'VDP_TLV_LENGTH',
      `VSI TLV with ${count} format-${format} entries must be ${expected} octets, got ${info.length}`,
      offset,
    )
  }
  return {
    kind: 'vsi',
    mode,
    status: decodeStatus(info[0]),
    typeId: info.readUIntBE(1, 3),
    typeVersion: info[4],
    vsiid: readVsiid(info[5], info, 6),
    filter: {format, entries: readFilterEntries(format, count, info, VSI_FIXED)},
  }
}

function withHeader(type: number, info: Buffer): Buffer {
  if (info.length > MAX_INFO) invalid(`TLV type ${type} info of ${info.length} octets exceeds 511`)
  const out = Buffer.alloc(HEADER + info.length)
  out.writeUInt16BE((type << 9) | info.length, 0)
  info.copy(out, HEADER)
  return out
}

function formatOui(octets: Uint8Array): string {
  return [octets[0], octets[1], octets[2]].map((b) => b.toString(16).padStart(2, '0')).join('-')
}

function ouiOctets(oui: string): Buffer {
  if (!/^[0-9a-f]{2}([-:][0-9a-f]{2}){2}$/i.test(oui)) invalid(`OUI "${oui}" is not xx-xx-xx`)
  return Buffer.from(oui.replace(/[-:]/g, ''), 'hex')
}

function fail(code: ErrorCode, message: string, offset: number): never {
  throw new VdpDecodeError(code, `malformed VDPDU: ${message}`, {offset})
}

function invalid(message: string): never {
  throw new VdpEncodeError('VDP_ENCODE_INVALID', message)
}
