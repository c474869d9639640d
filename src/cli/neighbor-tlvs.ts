import {decodeLldpFrame, formatLldpTree, toJsonValue} from '../lldp/index.js'

/** Every TLV of a neighbour's last LLDP frame (hex), in the `lldp decode -v` tree (src/lldp/format.ts). */
export function formatNeighborTlvs(frameHex: string): string {
  return formatLldpTree(decodeLldpFrame(Buffer.from(frameHex, 'hex')))
}

/** The same TLVs as JSON (`neighbors -v --json`): the decoder's objects, octets as hex. */
function neighborTlvsJson(frameHex: string): unknown[] {
  return toJsonValue(decodeLldpFrame(Buffer.from(frameHex, 'hex')).tlvs) as unknown[]
}

/** `neighbors -v --json`: each neighbour with the decoded TLVs of its last frame (when the daemon has it). */
export function withTlvs<N extends {frame?: string}>(list: N[]): (N & {tlvs?: unknown[]})[] {
  return list.map((n) => (n.frame ? {...n, tlvs: neighborTlvsJson(n.frame)} : n))
}
