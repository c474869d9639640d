/** Ethernet II framing for LLDP: destination, source, up to two 802.1Q/802.1ad tags, EtherType 0x88CC. */
import {parseMac} from './octets.js'
import type {MacAddress, VlanTag} from './types.js'
import {bit, checkRange, type OctetWriter} from './writer.js'

export const ETHERTYPE_LLDP = 0x88cc
const TPID_CTAG = 0x8100
const TPID_STAG = 0x88a8
/** Pre-standard QinQ TPID some switches still use. */
const TPID_QINQ_LEGACY = 0x9100
/** Minimum Ethernet frame without FCS; shorter frames are zero-padded on transmit. */
export const MIN_FRAME_LENGTH = 60
const MAX_TAGS = 2

export const LLDP_MULTICAST = {
  nearestBridge: '01:80:c2:00:00:0e',
  nearestNonTpmrBridge: '01:80:c2:00:00:03',
  nearestCustomerBridge: '01:80:c2:00:00:00',
} as const

function isTpid(value: number): boolean {
  return value === TPID_CTAG || value === TPID_STAG || value === TPID_QINQ_LEGACY
}

/**
 * Offset of the LLDPDU in `frame`, or -1 if the frame is not Ethernet II carrying LLDP (directly or behind
 * up to two VLAN tags). Allocation-free: shared by the full decoder and the header scan.
 */
export function lldpPayloadOffset(frame: Uint8Array): number {
  let off = 12
  for (let tags = 0; ; tags++) {
    if (off + 2 > frame.length) return -1
    const type = (frame[off] << 8) | frame[off + 1]
    if (type === ETHERTYPE_LLDP) return off + 2
    if (!isTpid(type) || tags === MAX_TAGS) return -1
    off += 4
  }
}

export function readVlanTags(frame: Uint8Array, payloadOffset: number): VlanTag[] {
  const tags: VlanTag[] = []
  for (let off = 12; off + 2 < payloadOffset; off += 4) {
    const tci = (frame[off + 2] << 8) | frame[off + 3]
    tags.push({tpid: (frame[off] << 8) | frame[off + 1], pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff})
  }
  return tags
}

export function writeEthernetHeader(w: OctetWriter, dst: MacAddress, src: MacAddress, tags: readonly VlanTag[]): void {
  if (tags.length > MAX_TAGS) checkRange(tags.length, MAX_TAGS, 'number of VLAN tags')
  w.bytes(parseMac(dst))
  w.bytes(parseMac(src))
  for (const tag of tags) {
    checkRange(tag.pcp, 7, 'VLAN PCP')
    checkRange(tag.vid, 0xfff, 'VLAN ID')
    w.u16(tag.tpid, 'VLAN TPID')
    w.u16((tag.pcp << 13) | bit(tag.dei, 0x1000) | tag.vid)
  }
  w.u16(ETHERTYPE_LLDP)
}
