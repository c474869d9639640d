/**
 * The encoder: the inverse of decode.ts. Typed TLVs are re-encoded from their fields (including the reserved
 * bits and raw octets the decoder kept); malformed, unrecognized and unknown org TLVs are written back from
 * their octets; the trailer (padding, FCS) is appended as decoded. encode(decode(frame)) reproduces every
 * frame the decoder accepts, byte for byte.
 */
import {encodeIdValue, encodeManagementAddress} from './basic.js'
import {LldpEncodeError} from './errors.js'
import {writeEthernetHeader} from './framing.js'
import {writeOrgInfo} from './org.js'
import type {LldpFrame, LldpTlv, Lldpdu} from './types.js'
import {checkRange, OctetWriter} from './writer.js'

const MAX_TLV_LENGTH = 0x1ff

/** What the encoder needs from a frame: a decoded LldpFrame qualifies, and so does a hand-built one. */
export type EncodableLldpFrame = Pick<LldpFrame, 'dst' | 'src' | 'tlvs'> & {
  vlanTags?: LldpFrame['vlanTags']
  trailer?: Uint8Array
}

export function encodeLldpFrame(frame: EncodableLldpFrame): Buffer {
  const w = new OctetWriter(256)
  writeEthernetHeader(w, frame.dst, frame.src, frame.vlanTags ?? [])
  writeTlvs(w, frame.tlvs)
  if (frame.trailer) w.bytes(frame.trailer)
  return w.toBuffer()
}

export function encodeLldpdu(pdu: Pick<Lldpdu, 'tlvs'> & {trailer?: Uint8Array}): Buffer {
  const w = new OctetWriter(256)
  writeTlvs(w, pdu.tlvs)
  if (pdu.trailer) w.bytes(pdu.trailer)
  return w.toBuffer()
}

/** One TLV, header included. */
export function encodeTlv(tlv: LldpTlv): Buffer {
  const w = new OctetWriter(64)
  writeTlv(w, tlv)
  return w.toBuffer()
}

function writeTlvs(w: OctetWriter, tlvs: readonly LldpTlv[]): void {
  for (const tlv of tlvs) writeTlv(w, tlv)
}

function writeTlv(w: OctetWriter, tlv: LldpTlv): void {
  if (tlv.kind === 'malformed') {
    // Written back as received, header included: its declared length may not match its octets.
    checkRange(tlv.type, 127, 'TLV type')
    checkRange(tlv.declaredLength, MAX_TLV_LENGTH, 'TLV length')
    w.u16((tlv.type << 9) | tlv.declaredLength)
    w.bytes(tlv.data)
    return
  }
  const headerAt = w.pos
  w.u16(0)
  let type: number
  switch (tlv.kind) {
    case 'end':
      type = 0
      break
    case 'chassisId':
    case 'portId':
      type = tlv.kind === 'chassisId' ? 1 : 2
      encodeIdValue(w, tlv.id)
      break
    case 'ttl':
      type = 3
      w.u16(tlv.seconds, 'TTL')
      if (tlv.extra) w.bytes(tlv.extra)
      break
    case 'portDescription':
    case 'systemName':
    case 'systemDescription':
      type = tlv.kind === 'portDescription' ? 4 : tlv.kind === 'systemName' ? 5 : 6
      w.text(tlv.value, tlv.encoding)
      break
    case 'systemCapabilities':
      type = 7
      w.u16(tlv.supported, 'supported capabilities')
      w.u16(tlv.enabled, 'enabled capabilities')
      break
    case 'managementAddress':
      type = 8
      encodeManagementAddress(w, tlv)
      break
    case 'unrecognized':
      type = tlv.type
      if (type <= 8 || type >= 127) throw new LldpEncodeError(`an unrecognized TLV cannot have type ${type}`)
      w.bytes(tlv.data)
      break
    default:
      type = 127
      writeOrgInfo(w, tlv)
  }
  const length = w.pos - headerAt - 2
  if (length > MAX_TLV_LENGTH)
    throw new LldpEncodeError(`${tlv.kind} TLV information string is ${length} octets, more than 511`)
  w.patchU16(headerAt, (type << 9) | length)
}
