import {describe, expect, it} from 'vitest'
import {
  decodeEthernetHeader,
  encodeEthernetFrame,
  formatMac,
  isGroupMac,
  normalizeMac,
  parseMac,
  validateEthertype,
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  NEAREST_BRIDGE,
  NEAREST_CUSTOMER_BRIDGE,
} from '../../src/net/ethernet.js'

describe('MAC addresses', () => {
  it('parses and formats colon-separated MACs, normalizing case', () => {
    expect(parseMac('01:80:C2:00:00:0E')).toEqual(Buffer.from('0180c200000e', 'hex'))
    expect(formatMac(Buffer.from('0180c200000e', 'hex'))).toBe(NEAREST_BRIDGE)
    expect(normalizeMac('02:AA:bb:CC:dd:EE')).toBe('02:aa:bb:cc:dd:ee')
  })

  it.each(['', '01:80:c2:00:00', '01:80:c2:00:00:0e:ff', '0180c200000e', '01-80-c2-00-00-0e', '01:80:c2:00:00:0g', ' 01:80:c2:00:00:0e'])(
    'rejects %j with INVALID_MAC',
    (text) => {
      expect(() => parseMac(text)).toThrow(expect.objectContaining({code: 'INVALID_MAC'}))
    },
  )

  it('tells group addresses from unicast ones by the I/G bit', () => {
    expect(isGroupMac(parseMac(NEAREST_CUSTOMER_BRIDGE))).toBe(true)
    expect(isGroupMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true)
    expect(isGroupMac(parseMac('02:00:00:00:01:01'))).toBe(false)
  })
})

describe('Ethernet header', () => {
  it('round-trips through encode and decode, padding to 60 bytes by default', () => {
    const frame = encodeEthernetFrame({dst: NEAREST_BRIDGE, src: '02:00:00:00:02:01', ethertype: ETHERTYPE_LLDP}, Buffer.from([1, 2, 3]))
    expect(frame.length).toBe(60)
    expect(frame.subarray(14, 17)).toEqual(Buffer.from([1, 2, 3]))
    expect(decodeEthernetHeader(frame)).toEqual({dst: NEAREST_BRIDGE, src: '02:00:00:00:02:01', ethertype: 0x88cc})
  })

  it('leaves frames unpadded when asked (lldpd does not pad on veth)', () => {
    const frame = encodeEthernetFrame({dst: NEAREST_CUSTOMER_BRIDGE, src: '02:00:00:00:01:01', ethertype: ETHERTYPE_ECP}, Buffer.alloc(4), {pad: false})
    expect(frame.length).toBe(18)
    expect(decodeEthernetHeader(frame)?.ethertype).toBe(0x8940)
  })

  it('returns undefined for a frame shorter than the header instead of throwing', () => {
    expect(decodeEthernetHeader(Buffer.alloc(13))).toBeUndefined()
  })

  it('accepts only real ethertypes (>= 0x0600, <= 0xffff, integers)', () => {
    expect(validateEthertype(0x0600)).toBe(0x0600)
    for (const bad of [0x05ff, 0x10000, 0x88cc + 0.5, Number.NaN, -1]) {
      expect(() => validateEthertype(bad)).toThrow(expect.objectContaining({code: 'INVALID_ETHERTYPE'}))
    }
  })
})
