/** Small hand-assembled frames for the rule tests: every octet is spelled out, nothing comes from our encoder. */

export const ETH_NCB = '0180c2000000' + '525400502440' + '88cc'
export const CHASSIS = '0207' + '04' + '525400502440' // MAC subtype
export const PORT = '0405' + '05' + '65746830' // ifname 'eth0'
export const TTL = '0602' + '0078'
export const END = '0000'

export function frame(...tlvHex: string[]): Buffer {
  return Buffer.from(ETH_NCB + tlvHex.join(''), 'hex')
}

export function tlv(type: number, infoHex: string): string {
  const len = infoHex.length / 2
  return ((type << 9) | len).toString(16).padStart(4, '0') + infoHex
}
