/**
 * The daemon's hot path: find the MSAP (chassis ID + port ID), the TTL and the EVB TLV of an LLDP frame
 * without building the TLV tree. The scan reads only integers and records offsets; MACs, IDs and the EVB
 * fields are decoded on demand by the getters of LldpHeaderScan.
 */
import {formatMac, readVlanTags, type VlanTag} from '../core/ethernet.js'
import {decodeIdTlv} from './basic.js'
import {DecodeContext} from './context.js'
import {evbFromOctets, EVB_INFO_LENGTH} from './evb.js'
import {lldpPayloadOffset} from './framing.js'
import {hex} from './octets.js'
import type {EvbTlv, LldpId, MacAddress} from './types.js'

const TLV_EVB_HEADER_HI = 0xfe // type 127, length 9 → header 0xfe09

export class LldpHeaderScan {
  constructor(
    /** The scanned frame (not copied). */
    readonly frame: Uint8Array,
    /** Offset of the LLDPDU (after the Ethernet header and any VLAN tags). */
    readonly lldpduOffset: number,
    /** Offset and length of the Chassis ID information string (subtype octet first). */
    readonly chassisIdOffset: number,
    readonly chassisIdLength: number,
    readonly portIdOffset: number,
    readonly portIdLength: number,
    readonly ttl: number,
    /** Offset of the first EVB TLV's header (type 127, length 9, 00-80-C2/0x0D), or -1. */
    readonly evbOffset: number,
    /** False when a TLV after the TTL runs past the end of the frame (802.1AB would discard the LLDPDU). */
    readonly tlvChainComplete: boolean,
  ) {}

  get dst(): MacAddress {
    return formatMac(this.frame, 0)
  }

  get src(): MacAddress {
    return formatMac(this.frame, 6)
  }

  /** Outermost first; empty when untagged. */
  get vlanTags(): VlanTag[] {
    return this.lldpduOffset === 14 ? [] : readVlanTags(this.frame, this.lldpduOffset - 2)
  }

  /** The innermost (customer) VLAN tag, or null when untagged. */
  get vlan(): VlanTag | null {
    const tags = this.vlanTags
    return tags.length === 0 ? null : tags[tags.length - 1]
  }

  get isShutdown(): boolean {
    return this.ttl === 0
  }

  get chassisId(): LldpId {
    return idAt(this.frame, this.chassisIdOffset, this.chassisIdLength, 1)
  }

  get portId(): LldpId {
    return idAt(this.frame, this.portIdOffset, this.portIdLength, 2)
  }

  /** A string key of the MSAP identifier (chassis subtype/octets + port subtype/octets), cheap to compare. */
  get msapKey(): string {
    const f = this.frame
    return (
      hex(f, this.chassisIdOffset, this.chassisIdOffset + this.chassisIdLength) +
      '/' +
      hex(f, this.portIdOffset, this.portIdOffset + this.portIdLength)
    )
  }

  get evb(): EvbTlv | undefined {
    return this.evbOffset < 0 ? undefined : evbFromOctets(this.frame, this.evbOffset + 6)
  }

  toJSON(): object {
    return {
      dst: this.dst,
      src: this.src,
      vlanTags: this.vlanTags,
      chassisId: this.chassisId,
      portId: this.portId,
      ttl: this.ttl,
      evbOffset: this.evbOffset,
      evb: this.evb,
      tlvChainComplete: this.tlvChainComplete,
    }
  }
}

function idAt(frame: Uint8Array, at: number, length: number, type: 1 | 2): LldpId {
  const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)
  const tlv = decodeIdTlv(type, buf, at - 2, at, at + length, new DecodeContext(false))
  // The scan only accepts lengths 2..256, for which decodeIdTlv always returns an ID TLV.
  return (tlv as {id: LldpId}).id
}

/**
 * Header-only scan of an LLDP frame. Returns null when the frame is not LLDP or its first three TLVs are not a
 * well-formed Chassis ID, Port ID and TTL; never throws.
 */
export function scanLldpHeader(frame: Uint8Array): LldpHeaderScan | null {
  const n = frame.length
  const p = n >= 14 ? lldpPayloadOffset(frame) : -1
  if (p < 0 || p + 2 > n) return null

  // Chassis ID: type 1, length 2..256
  let h = (frame[p] << 8) | frame[p + 1]
  let len = h & 0x1ff
  const chassisAt = p + 2
  if (h >>> 9 !== 1 || len < 2 || len > 256 || chassisAt + len > n) return null
  const chassisLength = len
  let q = chassisAt + len

  if (q + 2 > n) return null
  h = (frame[q] << 8) | frame[q + 1]
  len = h & 0x1ff
  const portAt = q + 2
  if (h >>> 9 !== 2 || len < 2 || len > 256 || portAt + len > n) return null
  const portLength = len
  q = portAt + len

  if (q + 2 > n) return null
  h = (frame[q] << 8) | frame[q + 1]
  len = h & 0x1ff
  if (h >>> 9 !== 3 || len < 2 || q + 2 + len > n) return null
  const ttl = (frame[q + 2] << 8) | frame[q + 3]
  q += 2 + len

  let evbOffset = -1
  let complete = false
  while (q + 2 <= n) {
    const hi = frame[q]
    const lo = frame[q + 1]
    len = ((hi & 1) << 8) | lo
    if (q + 2 + len > n) break
    if (hi < 2) {
      complete = true // End TLV
      break
    }
    if (
      evbOffset < 0 &&
      hi === TLV_EVB_HEADER_HI &&
      lo === EVB_INFO_LENGTH &&
      frame[q + 2] === 0x00 &&
      frame[q + 3] === 0x80 &&
      frame[q + 4] === 0xc2 &&
      frame[q + 5] === 0x0d
    ) {
      evbOffset = q
    }
    q += 2 + len
  }
  if (q === n) complete = true
  return new LldpHeaderScan(frame, p, chassisAt, chassisLength, portAt, portLength, ttl, evbOffset, complete)
}
