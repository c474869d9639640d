/** Ethernet II framing for LLDP: destination, source, up to two 802.1Q/802.1ad tags, EtherType 0x88CC. */
import {ETHERTYPE_LLDP, ethertypeOffset, type VlanTag} from '../core/ethernet.js'
import {macOctets} from './octets.js'
import type {MacAddress} from './types.js'
import {bit, checkRange, type OctetWriter} from './writer.js'

const MAX_TAGS = 2

/**
 * Offset of the LLDPDU in `frame`, or -1 if the frame is not Ethernet II carrying LLDP (directly or behind
 * up to two VLAN tags). Allocation-free: shared by the full decoder and the header scan.
 */
export function lldpPayloadOffset(frame: Uint8Array): number {
  const at = ethertypeOffset(frame, ETHERTYPE_LLDP)
  return at < 0 ? -1 : at + 2
}

export function writeEthernetHeader(w: OctetWriter, dst: MacAddress, src: MacAddress, tags: readonly VlanTag[]): void {
  if (tags.length > MAX_TAGS) checkRange(tags.length, MAX_TAGS, 'number of VLAN tags')
  w.bytes(macOctets(dst))
  w.bytes(macOctets(src))
  for (const tag of tags) {
    checkRange(tag.pcp, 7, 'VLAN PCP')
    checkRange(tag.vid, 0xfff, 'VLAN ID')
    w.u16(tag.tpid, 'VLAN TPID')
    w.u16((tag.pcp << 13) | bit(tag.dei, 0x1000) | tag.vid)
  }
  w.u16(ETHERTYPE_LLDP)
}
