/**
 * Offline decoding of captured ECP22/VDP22 frames, for `vdp-agent vdp decode` (802.1Qbg-2012 cl. 43 for ECP,
 * cl. 41 for VDP; docs/vdp.md). Pure: octets and timestamps in, objects out.
 *
 * Unlike the transport, which drops what it cannot use, this keeps everything visible: VLAN tags in front
 * of the ECP EtherType, unknown ECP versions and subtypes (flagged, since a receiver drops them without an
 * ACK), the TLVs of a VDPDU up to the first malformed one, and the padding after the VDPDU.
 *
 * `EcpExchangeTracker` follows a capture in order and links each frame to its peers: a retransmitted
 * request to its first transmission, an ACK to the request it acknowledges, a VDP response to the request
 * it answers (same mode and VSIID, from the other end), with the time between them.
 */
import {EcpDecodeError, VdpDecodeError} from './errors.js'
import {ETHERTYPE_ECP, ethertypeOffset, readVlanTags, type VlanTag} from '../core/ethernet.js'
import {decodeEcpFrame, ECP_SUBTYPE_PECSP, ECP_SUBTYPE_VDP, ECP_VERSION, type EcpOperation} from './ecp-codec.js'
import {decodeVdpdu, type VdpTlv} from './vdp-codec.js'
import {vsiidKey} from './vsiid.js'

interface VdpduDecodeFailure {
  /** VdpDecodeError code: VDP_TLV_TRUNCATED, VDP_TLV_LENGTH, VDP_NO_MANAGER_ID, VDP_BAD_FORMAT, VDP_BAD_FIELD. */
  readonly code: string
  readonly message: string
  /** Offset of the offending TLV in the VDPDU. */
  readonly offset: number
  /** The TLVs before the offending one, and their length fields. */
  readonly tlvs: VdpTlv[]
  readonly tlvLengths: number[]
}

interface DecodedVdpdu {
  readonly tlvs: VdpTlv[]
  /** The length field of each TLV, as sent. */
  readonly tlvLengths: number[]
  readonly endTlv: boolean
  /** Octets the TLVs occupy (End TLV included). */
  readonly length: number
  /** Octets after the VDPDU (Ethernet padding). */
  readonly padding: number
  /** Whether any padding octet is non-zero. */
  readonly paddingNonZero: boolean
  /** The status octet of each VSI TLV as sent (the decoded status drops reserved bit 7). */
  readonly statusOctets: number[]
}

export interface DecodedEcpVdpFrame {
  readonly dst: string
  readonly src: string
  readonly vlanTags: VlanTag[]
  readonly version: number
  readonly operation: EcpOperation
  readonly subtype: number
  readonly sequence: number
  /** Octets after the ECP header. */
  readonly ulpduLength: number
  /** Subtype VDP requests only: the VDPDU, or why it is malformed. */
  readonly vdp?: DecodedVdpdu
  readonly vdpError?: VdpduDecodeFailure
  /** Other ULPDUs (ACK padding, other subtypes), octets as captured. */
  readonly ulpdu?: Buffer
  /** Why an ECP receiver drops this frame without an ACK (cl. 43.3.7): unknown version or subtype, reserved operation. */
  readonly dropReason?: string
  /** Oddities a receiver tolerates: data in an ACK, an End TLV with a length, reserved status bits. */
  readonly notes: string[]
}

export function ecpSubtypeName(subtype: number): string {
  if (subtype === ECP_SUBTYPE_VDP) return 'VDP'
  if (subtype === ECP_SUBTYPE_PECSP) return 'PE-CSP'
  return `subtype ${subtype}`
}

/**
 * Decode one captured Ethernet frame carrying ECP (possibly VLAN-tagged). Throws EcpDecodeError (ECP_TRUNCATED,
 * ECP_BAD_ETHERTYPE) when the frame is not ECP or too short for the ECP header; a malformed VDPDU is not an
 * error here but reported in `vdpError`.
 */
export function decodeEcpVdpFrame(bytes: Uint8Array): DecodedEcpVdpFrame {
  const frame = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = ethertypeOffset(frame, ETHERTYPE_ECP)
  const vlanTags = at > 12 ? readVlanTags(frame, at) : []
  let untagged = frame
  if (at > 12) {
    untagged = Buffer.concat([frame.subarray(0, 12), frame.subarray(at)])
  } else if (at < 0 && frame.length >= 14) {
    const type = frame.readUInt16BE(12)
    throw new EcpDecodeError(
      'ECP_BAD_ETHERTYPE',
      `EtherType 0x${type.toString(16).padStart(4, '0')} is not ECP22 (0x8940)`,
      {ethertype: type},
    )
  }
  const ecp = decodeEcpFrame(untagged)
  const notes: string[] = []
  const dropReason =
    ecp.version !== ECP_VERSION
      ? `ECP version ${ecp.version} is not 1`
      : ecp.operation !== 'request' && ecp.operation !== 'ack'
        ? `ECP operation ${ecp.operation} is reserved`
        : ecp.subtype !== ECP_SUBTYPE_VDP && ecp.subtype !== ECP_SUBTYPE_PECSP
          ? `ECP subtype ${ecp.subtype} is not assigned`
          : undefined
  const base = {
    dst: ecp.dst,
    src: ecp.src,
    vlanTags,
    version: ecp.version,
    operation: ecp.operation,
    subtype: ecp.subtype,
    sequence: ecp.sequence,
    ulpduLength: ecp.ulpdu.length,
    ...(dropReason ? {dropReason} : {}),
    notes,
  }
  if (ecp.operation === 'request' && ecp.subtype === ECP_SUBTYPE_VDP) {
    try {
      const pdu = decodeVdpdu(ecp.ulpdu)
      const tail = ecp.ulpdu.subarray(pdu.length)
      // The codec stops at a type-0 header whatever its length field says; 802.1Qbg (as 802.1AB) wants 0.
      const endLength = pdu.endTlv ? ecp.ulpdu.readUInt16BE(pdu.length - 2) & 0x1ff : 0
      if (endLength !== 0) notes.push(`the End TLV's length is ${endLength}, not 0`)
      const {lengths, statusOctets} = walkTlvs(ecp.ulpdu, pdu.length)
      statusOctets.forEach((octet, i) => {
        if (octet & 0x80) notes.push(`VSI TLV ${i + 1}: reserved bit 7 of the status octet is set (ignored on receive)`)
      })
      return {
        ...base,
        vdp: {
          tlvs: pdu.tlvs,
          tlvLengths: lengths,
          endTlv: pdu.endTlv,
          length: pdu.length,
          padding: tail.length,
          paddingNonZero: tail.some((b) => b !== 0),
          statusOctets,
        },
      }
    } catch (err) {
      if (!(err instanceof VdpDecodeError)) throw err
      const offset = Number(err.details.offset ?? 0)
      const tlvs = tlvsBefore(ecp.ulpdu, offset)
      return {
        ...base,
        vdpError: {
          code: err.code,
          message: err.message,
          offset,
          tlvs,
          tlvLengths: walkTlvs(ecp.ulpdu, offset).lengths.slice(0, tlvs.length),
        },
      }
    }
  }
  if (ecp.operation === 'ack' && ecp.ulpdu.some((b) => b !== 0))
    notes.push(`the ACK carries ${ecp.ulpdu.length} octets that are not zero padding`)
  return {...base, ulpdu: Buffer.from(ecp.ulpdu)}
}

/** The length field of each TLV before `end` (End TLV excluded), and each VSI TLV's status octet as sent. */
function walkTlvs(ulpdu: Buffer, end: number): {lengths: number[]; statusOctets: number[]} {
  const lengths: number[] = []
  const statusOctets: number[] = []
  for (let off = 0; off + 2 <= end;) {
    const type = ulpdu[off] >> 1
    if (type === 0) break
    const length = ulpdu.readUInt16BE(off) & 0x1ff
    lengths.push(length)
    if (type >= 1 && type <= 4) statusOctets.push(ulpdu[off + 2])
    off += 2 + length
  }
  return {lengths, statusOctets}
}

/** The well-formed TLVs before `offset`, where decoding failed (the prefix always decodes: it did once). */
function tlvsBefore(ulpdu: Buffer, offset: number): VdpTlv[] {
  if (offset <= 0) return []
  try {
    return decodeVdpdu(ulpdu.subarray(0, offset)).tlvs
  } catch {
    return []
  }
}

/** What the tracker found out about one frame. */
export interface EcpExchange {
  /** Requests: 1 for the first transmission, 2 for the first retransmission... */
  transmission?: number
  /** Requests: the frame number of the first transmission of this sequence number, when this is a retransmission. */
  retransmissionOf?: number
  /** ACKs: the request acknowledged (the latest one from another station with this subtype and sequence). */
  acknowledges?: number
  /** ACKs: nanoseconds since that request (its latest transmission). */
  ackDelayNs?: bigint
  /** VDP responses: per VSI TLV (in order), the frame of the request it answers, and the time since its first transmission. */
  answers?: ({frame: number; delayNs: bigint} | undefined)[]
}

interface PendingRequest {
  first: number
  latest: number
  latestNs: bigint
  transmissions: number
  acked: boolean
}

export interface ExchangeTotals {
  requests: number
  retransmissions: number
  acks: number
  /** ACKs for which no request was seen (the capture started after it, or another station's). */
  unmatchedAcks: number
  /** Distinct requests (by station, subtype and sequence) never acknowledged in the capture. */
  unacknowledged: number
  /** VDP responses matched to a request. */
  answered: number
}

type BySender<T, K = string> = Map<K, Map<string, T>>

function entry<T, K>(table: BySender<T, K>, key: K): Map<string, T> {
  let bySender = table.get(key)
  if (!bySender) table.set(key, (bySender = new Map()))
  return bySender
}

/** The latest entry from a sender other than `src`. */
function latestFromOthers<T extends object>(
  bySender: Map<string, T> | undefined,
  src: string,
  order: (t: T) => number,
): T | undefined {
  let best: T | undefined
  for (const [sender, r] of bySender ?? []) if (sender !== src && (!best || order(r) > order(best))) best = r
  return best
}

/**
 * Follows ECP exchanges through a capture (frames in capture order). Memory is bounded: only the latest
 * request per station, subtype and sequence number is kept (at most 65,536 per station and subtype), and the
 * latest request per station, mode and VSIID.
 */
export class EcpExchangeTracker {
  /** subtype × 65536 + sequence → sender → request */
  private readonly requests: BySender<PendingRequest, number> = new Map()
  /** mode|VSIID → sender → request */
  private readonly vsiRequests: BySender<{frame: number; ns: bigint}> = new Map()
  private retransmissions = 0
  private requestCount = 0
  private acks = 0
  private unmatchedAcks = 0
  private answered = 0

  observe(number: number, timeNs: bigint, f: DecodedEcpVdpFrame): EcpExchange {
    if (f.operation === 'request') return this.request(number, timeNs, f)
    if (f.operation === 'ack') return this.ack(timeNs, f)
    return {}
  }

  totals(): ExchangeTotals {
    let unacknowledged = 0
    for (const bySender of this.requests.values()) for (const r of bySender.values()) if (!r.acked) unacknowledged++
    return {
      requests: this.requestCount,
      retransmissions: this.retransmissions,
      acks: this.acks,
      unmatchedAcks: this.unmatchedAcks,
      unacknowledged,
      answered: this.answered,
    }
  }

  private request(number: number, timeNs: bigint, f: DecodedEcpVdpFrame): EcpExchange {
    this.requestCount++
    const bySender = entry(this.requests, f.subtype * 0x10000 + f.sequence)
    const known = bySender.get(f.src)
    const exchange: EcpExchange = {}
    // The same sequence number again before its ACK is a retransmission (cl. 43.3.7); after the ACK it is a
    // new exchange (sequence numbers wrap after 65,536 requests).
    if (known && !known.acked) {
      known.transmissions++
      known.latest = number
      known.latestNs = timeNs
      this.retransmissions++
      exchange.transmission = known.transmissions
      exchange.retransmissionOf = known.first
    } else {
      bySender.set(f.src, {first: number, latest: number, latestNs: timeNs, transmissions: 1, acked: false})
      exchange.transmission = 1
    }
    if (f.vdp && exchange.transmission === 1) exchange.answers = this.vdpTlvs(number, timeNs, f)
    return exchange
  }

  private ack(timeNs: bigint, f: DecodedEcpVdpFrame): EcpExchange {
    this.acks++
    const request = latestFromOthers(this.requests.get(f.subtype * 0x10000 + f.sequence), f.src, (r) => r.latest)
    if (!request) {
      this.unmatchedAcks++
      return {}
    }
    request.acked = true
    return {acknowledges: request.latest, ackDelayNs: timeNs - request.latestNs}
  }

  /** Record VSI requests; match responses to the other end's latest request with the same mode and VSIID. */
  private vdpTlvs(number: number, timeNs: bigint, f: DecodedEcpVdpFrame): EcpExchange['answers'] {
    const answers: NonNullable<EcpExchange['answers']> = []
    let any = false
    for (const tlv of f.vdp?.tlvs ?? []) {
      if (tlv.kind !== 'vsi') continue
      const bySender = entry(this.vsiRequests, `${tlv.mode}|${vsiidKey(tlv.vsiid)}`)
      if (tlv.status.kind === 'request') {
        bySender.set(f.src, {frame: number, ns: timeNs})
        answers.push(undefined)
        continue
      }
      const match = latestFromOthers(bySender, f.src, (r) => r.frame)
      if (!match) {
        answers.push(undefined)
        continue
      }
      any = true
      this.answered++
      for (const [sender, r] of bySender) if (r === match) bySender.delete(sender)
      if (bySender.size === 0) this.vsiRequests.delete(`${tlv.mode}|${vsiidKey(tlv.vsiid)}`)
      answers.push({frame: match.frame, delayNs: timeNs - match.ns})
    }
    return any ? answers : undefined
  }
}
