import {describe, expect, it} from 'vitest'
import {
  decodeEthernetHeader,
  encodeEthernetFrame,
  ethertypeOffset,
  formatMac,
  isGroupMac,
  isMacText,
  isUsableUnicastMac,
  normalizeMac,
  parseMac,
  readVlanTags,
  validateEthertype,
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  LLDP_AGENT_ADDRESSES,
  NEAREST_BRIDGE,
  NEAREST_CUSTOMER_BRIDGE,
  NEAREST_NON_TPMR_BRIDGE,
} from '../../src/core/ethernet.js'

describe('MAC addresses', () => {
  it('parses and formats colon-separated MACs, normalizing case', () => {
    expect(parseMac('01:80:C2:00:00:0E')).toEqual(Buffer.from('0180c200000e', 'hex'))
    expect(formatMac(Buffer.from('0180c200000e', 'hex'))).toBe(NEAREST_BRIDGE)
    expect(normalizeMac('02:AA:bb:CC:dd:EE')).toBe('02:aa:bb:cc:dd:ee')
  })

  it.each([
    '',
    '01:80:c2:00:00',
    '01:80:c2:00:00:0e:ff',
    '0180c200000e',
    '01-80-c2-00-00-0e',
    '01:80:c2:00:00:0g',
    ' 01:80:c2:00:00:0e',
  ])('rejects %j with INVALID_MAC', (text) => {
    expect(() => parseMac(text)).toThrow(expect.objectContaining({code: 'INVALID_MAC'}))
  })

  it('formats six octets at an offset, and refuses fewer than six', () => {
    const frame = Buffer.from('ffff0180c200000302aabbccddee', 'hex')
    expect(formatMac(frame, 2)).toBe(NEAREST_NON_TPMR_BRIDGE)
    expect(formatMac(frame, 8)).toBe('02:aa:bb:cc:dd:ee')
    expect(() => formatMac(frame, 9)).toThrow(expect.objectContaining({code: 'INVALID_MAC'}))
    expect(() => formatMac(Buffer.alloc(5))).toThrow(expect.objectContaining({code: 'INVALID_MAC'}))
  })

  it('formats every octet value as two lower-case hex digits', () => {
    for (let v = 0; v < 256; v++) {
      const octets = Buffer.from([v, 255 - v, v ^ 0x5a, 0, 0xff, v])
      expect(formatMac(octets)).toBe(octets.toString('hex').match(/../g)!.join(':'))
      expect(parseMac(formatMac(octets))).toEqual(octets)
    }
  })

  it('takes the IEEE 802 hyphen form only when asked (the LLDP builder), separators mixed as before', () => {
    expect(isMacText('01-80-C2-00-00-0E')).toBe(false)
    expect(isMacText('01-80-C2-00-00-0E', {hyphens: true})).toBe(true)
    expect(isMacText('01-80:c2-00:00-0e', {hyphens: true})).toBe(true)
    expect(parseMac('01-80-C2-00-00-0E', {hyphens: true})).toEqual(Buffer.from('0180c200000e', 'hex'))
    for (const bad of ['01_80_c2_00_00_0e', '0180.c200.000e', '01-80-c2-00-00', '01--80-c2-00-00-0e']) {
      expect(isMacText(bad, {hyphens: true})).toBe(false)
      expect(() => parseMac(bad, {hyphens: true})).toThrow(expect.objectContaining({code: 'INVALID_MAC'}))
    }
  })

  it('tells group addresses from unicast ones by the I/G bit', () => {
    expect(isGroupMac(parseMac(NEAREST_CUSTOMER_BRIDGE))).toBe(true)
    expect(isGroupMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true)
    expect(isGroupMac(parseMac('02:00:00:00:01:01'))).toBe(false)
  })
})

describe('802.1Q group addresses', () => {
  it('are the three LLDP agent scopes of 802.1AB, all group addresses', () => {
    expect(NEAREST_CUSTOMER_BRIDGE).toBe('01:80:c2:00:00:00')
    expect(NEAREST_NON_TPMR_BRIDGE).toBe('01:80:c2:00:00:03')
    expect(NEAREST_BRIDGE).toBe('01:80:c2:00:00:0e')
    expect(LLDP_AGENT_ADDRESSES).toEqual([NEAREST_CUSTOMER_BRIDGE, NEAREST_NON_TPMR_BRIDGE, NEAREST_BRIDGE])
    for (const mac of LLDP_AGENT_ADDRESSES) expect(isGroupMac(parseMac(mac))).toBe(true)
  })
})

describe('usable unicast MAC (lldpad is_valid_mac, VDP filters)', () => {
  it.each([
    ['02:00:00:00:01:01', true],
    ['52:54:00:AA:bb:01', true],
    ['00:00:00:00:00:00', false],
    ['ff:ff:ff:ff:ff:ff', false],
    ['FF:FF:FF:FF:FF:FF', false],
    ['01:00:5e:00:00:01', false],
    ['01:00:5E:7f:00:01', false],
    ['33:33:00:00:00:01', false],
    ['52-54-00-aa-bb-01', false],
    ['', false],
  ])('%j -> %s', (mac, usable) => {
    expect(isUsableUnicastMac(mac)).toBe(usable)
  })
})

describe('Ethernet header', () => {
  it('round-trips through encode and decode, padding to 60 bytes by default', () => {
    const frame = encodeEthernetFrame(
      {dst: NEAREST_BRIDGE, src: '02:00:00:00:02:01', ethertype: ETHERTYPE_LLDP},
      Buffer.from([1, 2, 3]),
    )
    expect(frame.length).toBe(60)
    expect(frame.subarray(14, 17)).toEqual(Buffer.from([1, 2, 3]))
    expect(decodeEthernetHeader(frame)).toEqual({dst: NEAREST_BRIDGE, src: '02:00:00:00:02:01', ethertype: 0x88cc})
  })

  it('leaves frames unpadded when asked (lldpd does not pad on veth)', () => {
    const frame = encodeEthernetFrame(
      {dst: NEAREST_CUSTOMER_BRIDGE, src: '02:00:00:00:01:01', ethertype: ETHERTYPE_ECP},
      Buffer.alloc(4),
      {pad: false},
    )
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

describe('ethertype behind VLAN tags', () => {
  const header = Buffer.from('0180c200000e' + '020000000201', 'hex')
  const tag = (tpid: number, tci: number) => Buffer.from([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff])
  const type = (t: number) => Buffer.from([t >> 8, t & 0xff])

  it('finds the ethertype untagged, behind one tag and behind two (C, S and 0x9100 tags)', () => {
    expect(ethertypeOffset(Buffer.concat([header, type(ETHERTYPE_LLDP)]), ETHERTYPE_LLDP)).toBe(12)
    const one = Buffer.concat([header, tag(0x8100, 0xa00a), type(ETHERTYPE_ECP), Buffer.alloc(4)])
    expect(ethertypeOffset(one, ETHERTYPE_ECP)).toBe(16)
    expect(readVlanTags(one, 16)).toEqual([{tpid: 0x8100, pcp: 5, dei: false, vid: 10}])
    const two = Buffer.concat([header, tag(0x88a8, 0x1064), tag(0x9100, 0xeffe), type(ETHERTYPE_ECP)])
    expect(ethertypeOffset(two, ETHERTYPE_ECP)).toBe(20)
    expect(readVlanTags(two, 20)).toEqual([
      {tpid: 0x88a8, pcp: 0, dei: true, vid: 100},
      {tpid: 0x9100, pcp: 7, dei: false, vid: 0xffe},
    ])
    expect(readVlanTags(two, 12)).toEqual([])
  })

  it('returns -1 for another ethertype, more than two tags, a non-tag in front, or a frame cut short', () => {
    expect(ethertypeOffset(Buffer.concat([header, type(ETHERTYPE_LLDP)]), ETHERTYPE_ECP)).toBe(-1)
    const three = Buffer.concat([header, tag(0x8100, 1), tag(0x8100, 2), tag(0x8100, 3), type(ETHERTYPE_LLDP)])
    expect(ethertypeOffset(three, ETHERTYPE_LLDP)).toBe(-1)
    expect(ethertypeOffset(Buffer.concat([header, tag(0x0800, 1), type(ETHERTYPE_LLDP)]), ETHERTYPE_LLDP)).toBe(-1)
    expect(ethertypeOffset(Buffer.concat([header, tag(0x8100, 1)]), ETHERTYPE_LLDP)).toBe(-1)
    expect(ethertypeOffset(Buffer.concat([header, Buffer.from([0x88])]), ETHERTYPE_LLDP)).toBe(-1)
  })
})
