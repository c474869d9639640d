/**
 * Issue 10 item 7: values that contradict their own fields. A network address whose length does not fit its
 * address family (Chassis ID, Port ID, Management Address), a MAC-address ID that is not 6 octets, and enabled
 * capabilities that are not supported: a warning in lenient mode (the frame is kept, the octets shown as
 * such), an error under --strict. tshark 4.0 marks the first as "Malformed: Invalid Chassis ID Length (6) for
 * Type (Network address, IPv6), expected (18)"; tcpdump 4.99 stops with "[|lldp]".
 */
import {describe, expect, it} from 'vitest'
import {decodeLldpFrame, formatLldpTree, LldpDecodeError} from '../../src/lldp/index.js'
import {CHASSIS, END, frame, PORT, TTL, tlv} from './frames.js'

/** The two frames of the issue, verbatim. */
const IPV6_OF_4_OCTETS = '0180c200000e02000000000188cc020605020a0a0a0a0403057030060200780000'
const ENABLED_NOT_SUPPORTED = '0180c200000e02000000000188cc0207040200000000010403057030060200780e040018001c0000'

const bytes = (hex: string) => Buffer.from(hex, 'hex')
const strictRule = (hex: string) => {
  try {
    decodeLldpFrame(bytes(hex), {strict: true})
  } catch (err) {
    expect(err).toBeInstanceOf(LldpDecodeError)
    return (err as LldpDecodeError).rule
  }
  return undefined
}

describe('network addresses must fit their address family', () => {
  it('the issue frame: Chassis ID "IPv6" of 4 octets is a warning, kept as octets, and an error under strict', () => {
    const f = decodeLldpFrame(bytes(IPV6_OF_4_OCTETS))
    expect(f.warnings).toMatchObject([{rule: 'network-address-length', action: 'warning'}])
    expect(f.warnings[0].message).toMatch(/IPv6 address of 4 octets, expected 16/)
    expect(f.discardRequired).toBe(false)
    expect(f.chassisId.value).toEqual({family: 2, familyName: 'IPv6', address: '0a0a0a0a'})
    expect(strictRule(IPV6_OF_4_OCTETS)).toBe('network-address-length')
    // shown as malformed octets, never as an IPv6 address
    const tree = formatLldpTree(f)
    expect(tree).not.toMatch(/IPv6 0a0a0a0a/)
    expect(tree).toMatch(/IPv6 \(4 octets, expected 16\) 0x0a0a0a0a/)
  })

  it.each([
    ['IPv4 of 3 octets', '01' + 'c00002', 'IPv4 address of 3 octets, expected 4'],
    ['IEEE 802 of 5 octets', '06' + '0200000002', 'IEEE 802 address of 5 octets, expected 6'],
    ['no address at all', '01', 'address of 0 octets'],
  ])('Port ID network address: %s', (_name, address, message) => {
    const hex = frame(CHASSIS, tlv(2, '04' + address), TTL, END).toString('hex')
    const f = decodeLldpFrame(bytes(hex))
    expect(f.warnings.map((w) => w.rule)).toEqual(['network-address-length'])
    expect(f.warnings[0].message).toContain(message)
    expect(strictRule(hex)).toBe('network-address-length')
  })

  it('Management Address whose address string does not fit the family: warning, error under strict', () => {
    // address string length 5: family IPv6 + 4 octets; ifIndex 2; no OID
    const hex = frame(CHASSIS, PORT, TTL, tlv(8, '05' + '02' + 'c0000201' + '02' + '00000002' + '00'), END).toString(
      'hex',
    )
    const f = decodeLldpFrame(bytes(hex))
    expect(f.warnings.map((w) => w.rule)).toEqual(['network-address-length'])
    expect(f.managementAddresses).toHaveLength(1)
    expect(strictRule(hex)).toBe('network-address-length')
  })

  it('well-formed addresses raise nothing', () => {
    const hex = frame(
      tlv(1, '05' + '01' + 'c0000201'),
      tlv(2, '04' + '02' + 'fe800000000000000000000000000001'),
      TTL,
      tlv(8, '05' + '01' + 'c0000201' + '02' + '00000002' + '00'),
      END,
    ).toString('hex')
    expect(decodeLldpFrame(bytes(hex), {strict: true}).warnings).toEqual([])
  })

  it('a MAC-address ID that is not 6 octets: the same kind, a warning, an error under strict', () => {
    const hex = frame(tlv(1, '04' + '0200000002'), PORT, TTL, END).toString('hex')
    expect(decodeLldpFrame(bytes(hex)).warnings).toMatchObject([{rule: 'id-value-format', action: 'warning'}])
    expect(strictRule(hex)).toBe('id-value-format')
  })
})

describe('enabled capabilities must be a subset of the supported ones', () => {
  it('the issue frame: enabled Bridge is not supported: a warning, an error under strict', () => {
    const f = decodeLldpFrame(bytes(ENABLED_NOT_SUPPORTED))
    expect(f.warnings).toMatchObject([{rule: 'capabilities-not-supported', action: 'warning'}])
    expect(f.warnings[0].message).toMatch(/Bridge/)
    expect(f.discardRequired).toBe(false)
    expect(f.capabilities).toMatchObject({supported: 0x18, enabled: 0x1c})
    expect(strictRule(ENABLED_NOT_SUPPORTED)).toBe('capabilities-not-supported')
  })

  it('enabled equal to or inside supported raises nothing', () => {
    const hex = frame(CHASSIS, PORT, TTL, tlv(7, '0014' + '0010'), END).toString('hex')
    expect(decodeLldpFrame(bytes(hex), {strict: true}).warnings).toEqual([])
  })
})
