// Paths to our own lldpad captures (test/corpus/generated), lldpad's qbg22 vectors (shared corpus), and ECP frames.
import {corpusPath, thirdPartyPath} from '../../helpers/corpus.js'
import {readPcap, type PcapRecord} from './read-pcap.js'

export const CORPUS = corpusPath()
export const ASSOC_DEASSOC_PCAP = `${CORPUS}/generated/lldpad-vdp22-assoc-deassoc.pcap`
export const KEEPALIVE_PCAP = `${CORPUS}/generated/lldpad-vdp22-keepalive-and-bridge-loss.pcap`
export const LLDPD_PLUS_LLDPAD_PCAP = `${CORPUS}/generated/lldpd-plus-lldpad-vdp22.pcap`
export const ECP22_VECTORS = thirdPartyPath('openlldp-qbg22/ecp22.json')

/** MACs of the lab topology the captures were made on. */
export const STATION_MAC = '02:00:00:00:01:01'
export const BRIDGE_MAC = '02:00:00:00:02:01'

export function ecpFrames(path: string): PcapRecord[] {
  return readPcap(path).filter((r) => r.frame.length >= 14 && r.frame.readUInt16BE(12) === 0x8940)
}
