/**
 * The 802.1AB receive rules (src/lldp/rules.ts): strict mode throws the typed error naming the rule, lenient
 * mode decodes what it can and reports the same rule as a warning.
 */
import {describe, expect, it} from 'vitest'
import {decodeLldpFrame, decodeLldpdu, LldpDecodeError, type LldpFrame} from '../../src/lldp/index.js'
import {HAVE_THIRD_PARTY, readFrames, THIRD_PARTY_DIR} from './corpus.js'
import {CHASSIS, END, ETH_NCB, frame, PORT, TTL, tlv} from './frames.js'

function thrown(run: () => unknown): LldpDecodeError {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(LldpDecodeError)
    return err as LldpDecodeError
  }
  throw new Error('expected an LldpDecodeError')
}

function rules(f: LldpFrame): string[] {
  return f.warnings.map((w) => w.rule)
}

describe('not LLDP at all: rejected in both modes', () => {
  it.each([
    ['empty', ''],
    ['shorter than an Ethernet header', '0180c200000e525400'],
    ['IPv4', '0180c200000e5254005024400800' + '4500'],
    ['a VLAN tag around IPv4', '0180c200000e525400502440' + '81000064' + '0800'],
    [
      'three VLAN tags',
      '0180c200000e525400502440' + '88a80001' + '81000002' + '81000003' + '88cc' + CHASSIS + PORT + TTL + END,
    ],
  ])('%s', (_name, hex) => {
    for (const strict of [false, true]) {
      const err = thrown(() => decodeLldpFrame(Buffer.from(hex, 'hex'), {strict}))
      expect(err.rule).toBe('not-lldp')
      expect(err.code).toBe('LLDP_DECODE')
      expect(err.toJSON().details).toEqual({rule: 'not-lldp', offset: err.offset})
    }
  })
})

describe('Ethernet framing', () => {
  it('decodes 802.1Q and 802.1ad tags and keeps the padding as the trailer', () => {
    const body = CHASSIS + PORT + TTL + END
    const tagged = Buffer.from(
      '0180c200000e525400502440' + '88a8' + '3064' + '8100' + 'a0c8' + '88cc' + body + '000000',
      'hex',
    )
    const f = decodeLldpFrame(tagged, {strict: true})
    expect(f.vlanTags).toEqual([
      {tpid: 0x88a8, pcp: 1, dei: true, vid: 100},
      {tpid: 0x8100, pcp: 5, dei: false, vid: 200},
    ])
    expect(f.trailer.toString('hex')).toBe('000000')
    expect(f.chassisId.value).toBe('52:54:00:50:24:40')
  })

  it('accepts a plain Uint8Array as well as a Buffer', () => {
    const b = frame(CHASSIS, PORT, TTL, END)
    const f = decodeLldpFrame(new Uint8Array(b))
    expect(f.portId.value).toBe('eth0')
  })
})

describe('mandatory TLVs (802.1AB 9.2.7.7: discard the LLDPDU)', () => {
  it('wrong order: strict throws mandatory-tlv-order; lenient decodes and flags discardRequired', () => {
    const b = frame(PORT, CHASSIS, TTL, END)
    const err = thrown(() => decodeLldpFrame(b, {strict: true}))
    expect(err.rule).toBe('mandatory-tlv-order')
    expect(err.offset).toBe(14)
    const f = decodeLldpFrame(b)
    expect(rules(f)).toEqual(['mandatory-tlv-order'])
    expect(f.discardRequired).toBe(true)
    expect([f.chassisId.value, f.portId.value, f.ttl]).toEqual(['52:54:00:50:24:40', 'eth0', 120])
  })

  it('missing TTL: mandatory-tlv-missing in both modes, with the partial decode attached in lenient mode', () => {
    const b = frame(CHASSIS, PORT, END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('mandatory-tlv-missing')
    const err = thrown(() => decodeLldpFrame(b))
    expect(err.rule).toBe('mandatory-tlv-missing')
    expect(err.message).toContain('Time To Live')
    expect(err.partial?.tlvs.map((t) => t.kind)).toEqual(['chassisId', 'portId', 'end'])
  })

  it.each([
    ['chassis-id-length', 'Chassis ID info length 1', tlv(1, '04') + PORT + TTL + END],
    ['port-id-length', 'Port ID info length 1', CHASSIS + tlv(2, '05') + TTL + END],
    ['ttl-length', 'TTL info length 1', CHASSIS + PORT + tlv(3, '00') + END],
  ])('%s: %s is unusable in both modes', (rule, _what, body) => {
    const b = Buffer.from(ETH_NCB + body, 'hex')
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe(rule)
    const lenient = thrown(() => decodeLldpFrame(b))
    expect(lenient.rule).toBe('mandatory-tlv-missing')
    expect(lenient.partial?.warnings.map((w) => w.rule)).toContain(rule)
  })

  it('an over-long TTL: strict throws ttl-length, lenient reads the first two octets', () => {
    const b = frame(CHASSIS, PORT, tlv(3, '00780000'), END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('ttl-length')
    const f = decodeLldpFrame(b)
    expect(f.ttl).toBe(120)
    expect(rules(f)).toEqual(['ttl-length'])
  })

  it('a 257-octet chassis ID: strict throws chassis-id-length, lenient keeps it', () => {
    const b = frame(tlv(1, '07' + '41'.repeat(256)), PORT, TTL, END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('chassis-id-length')
    expect(decodeLldpFrame(b).chassisId.value).toBe('A'.repeat(256))
  })

  it.skipIf(!HAVE_THIRD_PARTY)(
    'lldp.minimal.pcap: four TTL TLVs; strict rejects, lenient keeps the first (120 s)',
    async () => {
      const [{data}] = await readFrames(`${THIRD_PARTY_DIR}wireshark-samplecaptures/lldp.minimal.pcap`)
      expect(thrown(() => decodeLldpFrame(data, {strict: true})).rule).toBe('duplicate-mandatory-tlv')
      const f = decodeLldpFrame(data)
      expect(f.ttl).toBe(120)
      expect(rules(f)).toEqual(['duplicate-mandatory-tlv', 'duplicate-mandatory-tlv', 'duplicate-mandatory-tlv'])
      expect(f.trailer.toString('hex')).toBe('ff'.repeat(15) + 'aabb')
    },
  )
})

describe('TLV overrun (discard the LLDPDU)', () => {
  it.skipIf(!HAVE_THIRD_PARTY)(
    'procurve.lldp.pcap, cut by the snaplen: strict throws tlv-overrun; lenient keeps the cut TLV as malformed',
    async () => {
      const [{data, originalLength}] = await readFrames(`${THIRD_PARTY_DIR}wireshark-samplecaptures/procurve.lldp.pcap`)
      expect(originalLength).toBeGreaterThan(data.length)
      const err = thrown(() => decodeLldpFrame(data, {strict: true}))
      expect(err.rule).toBe('tlv-overrun')
      expect(err.offset).toBe(14 + 9 + 5 + 4 + 4 + 22) // the System Description TLV header
      const f = decodeLldpFrame(data)
      expect(f.discardRequired).toBe(true)
      expect(f.systemName).toBe('ProCurve Switch 2824')
      expect(f.systemDescription).toBeUndefined()
      expect(f.tlvs.at(-1)).toMatchObject({kind: 'malformed', type: 6, declaredLength: 89, rule: 'tlv-overrun'})
    },
  )

  it('one stray octet after the last TLV', () => {
    const b = frame(CHASSIS, PORT, TTL, 'fe')
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('tlv-overrun')
    const f = decodeLldpFrame(b)
    expect(f.trailer.toString('hex')).toBe('fe')
    expect(rules(f)).toEqual(['tlv-overrun'])
  })
})

describe('optional TLVs (discard the TLV)', () => {
  it('System Capabilities of length 5: tlv-length; lenient keeps it as malformed and leaves capabilities unset', () => {
    const b = frame(CHASSIS, PORT, TTL, tlv(7, '0014001400'), END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('tlv-length')
    const f = decodeLldpFrame(b)
    expect(f.capabilities).toBeUndefined()
    expect(f.discardRequired).toBe(false)
    expect(f.warnings[0]).toMatchObject({rule: 'tlv-length', action: 'discard-tlv', offset: 14 + 9 + 7 + 4})
  })

  it('a second System Name is ignored (duplicate-tlv)', () => {
    const b = frame(CHASSIS, PORT, TTL, tlv(5, '6f6e65'), tlv(5, '74776f'), END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('duplicate-tlv')
    const f = decodeLldpFrame(b)
    expect(f.systemName).toBe('one')
    expect(f.tlvs.filter((t) => t.kind === 'systemName')).toHaveLength(2)
  })

  it('several Management Address TLVs are allowed (lldpad wrongly drops the LLDPDU, wire-notes §Management Address TLV)', () => {
    const mgmt4 = tlv(8, '05' + '01' + 'c000020a' + '02' + '00000002' + '00')
    const mgmt6 = tlv(8, '11' + '02' + '20010db8000000000000000000000001' + '02' + '00000002' + '00')
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL, mgmt4, mgmt6, END), {strict: true})
    expect(f.managementAddresses.map((m) => m.address.address)).toEqual(['192.0.2.10', '2001:db8::1'])
  })

  it('Management Address with an OID', () => {
    // OID 1.3.6.1.4.1.9 (BER 2b 06 01 04 01 09)
    const f = decodeLldpFrame(
      frame(CHASSIS, PORT, TTL, tlv(8, '05' + '01' + 'c000020a' + '02' + '00000002' + '06' + '2b0601040109'), END),
      {strict: true},
    )
    expect(f.managementAddresses[0]).toMatchObject({oid: '1.3.6.1.4.1.9', oidEncoding: 'oid'})
  })

  it.each([
    ['address string length 1', tlv(8, '01' + '01' + '02' + '00000002' + '00' + '0000')],
    ['OID length past the TLV', tlv(8, '05' + '01' + 'c000020a' + '02' + '00000002' + '05' + '2b06')],
  ])('Management Address with %s: tlv-length', (_what, t) => {
    const b = frame(CHASSIS, PORT, TTL, t, END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('tlv-length')
    expect(decodeLldpFrame(b).managementAddresses).toEqual([])
  })

  it('an organizationally specific TLV shorter than OUI + subtype: org-tlv-length', () => {
    const b = frame(CHASSIS, PORT, TTL, tlv(127, '0080c2'), END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('org-tlv-length')
    expect(decodeLldpFrame(b).tlvs[3]).toMatchObject({kind: 'malformed', rule: 'org-tlv-length'})
  })

  it.each([
    ['EVB with 6 body octets', tlv(127, '0080c20d' + '020068541400')],
    ['PVID with 3 octets', tlv(127, '0080c201' + '006400')],
    ['VLAN name whose length octet disagrees', tlv(127, '0080c203' + '0064' + '09' + '74656e616e742d61')],
    ['CDCP with a partial channel entry', tlv(127, '0080c20e' + '000000a7' + '0010')],
    ['802.3 power via MDI of 5 octets', tlv(127, '00120f02' + '0701000000')],
    ['MED civic location with a CA element past the LCI', tlv(127, '0012bb03' + '02' + '06' + '02' + '4445' + '0305')],
  ])('%s: org-tlv-malformed, and no EVB is reported from it', (_what, t) => {
    const b = frame(CHASSIS, PORT, TTL, t, END)
    expect(thrown(() => decodeLldpFrame(b, {strict: true})).rule).toBe('org-tlv-malformed')
    const f = decodeLldpFrame(b)
    expect(f.evb).toBeUndefined()
    expect(f.tlvs[3]).toMatchObject({kind: 'malformed', type: 127, rule: 'org-tlv-malformed'})
  })

  it('reserved TLV types 9..126 are kept as unrecognized, not an error', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL, tlv(9, 'abcd'), tlv(126, ''), END), {strict: true})
    expect(f.tlvs.slice(3, 5)).toMatchObject([
      {kind: 'unrecognized', type: 9},
      {kind: 'unrecognized', type: 126},
    ])
    expect(f.warnings).toEqual([])
  })

  it('an unknown OUI is kept as orgSpecific octets', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL, tlv(127, '00040d0b' + '00112233'), END), {strict: true})
    expect(f.tlvs[3]).toMatchObject({kind: 'orgSpecific', oui: '00-04-0d', subtype: 11})
  })
})

describe('notes: never an error, in either mode', () => {
  it('no End TLV (optional since 802.1AB-2016)', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL), {strict: true})
    expect(rules(f)).toEqual(['missing-end-tlv'])
    expect(f.warnings[0].action).toBe('note')
    expect(f.discardRequired).toBe(false)
  })

  it('End TLV with a length (tcpdump lldp-infinite-loop-2): stops there', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL, tlv(0, 'aabb'), 'ccdd'), {strict: true})
    expect(rules(f)).toEqual(['end-tlv-length'])
    expect(f.trailer.toString('hex')).toBe('ccdd')
  })

  it('a reserved ID subtype and a MAC subtype of the wrong length are kept as octets (the latter a warning: strict refuses it)', () => {
    const bytes = frame(tlv(1, '09' + 'aabbcc'), tlv(2, '03' + '0011223344'), TTL, END)
    const f = decodeLldpFrame(bytes)
    expect(f.chassisId).toEqual({subtype: 9, subtypeName: 'reserved', encoding: 'hex', value: 'aabbcc'})
    expect(f.portId).toEqual({subtype: 3, subtypeName: 'MAC address', encoding: 'hex', value: '0011223344'})
    expect(rules(f)).toEqual(['reserved-id-subtype', 'id-value-format'])
    expect(f.discardRequired).toBe(false)
    expect(thrown(() => decodeLldpFrame(bytes, {strict: true})).rule).toBe('id-value-format')
  })
})

describe('typed values', () => {
  it('IDs: text, binary text as hex, agent circuit ID as hex, network addresses', () => {
    const f = decodeLldpFrame(frame(tlv(1, '01' + '0ac0de9d0a74'), tlv(2, '06' + '6369726375697431'), TTL, END))
    expect(f.chassisId).toEqual({subtype: 1, subtypeName: 'chassis component', encoding: 'hex', value: '0ac0de9d0a74'})
    expect(f.portId).toEqual({subtype: 6, subtypeName: 'agent circuit ID', encoding: 'hex', value: '6369726375697431'})
    const g = decodeLldpFrame(
      frame(tlv(1, '05' + '06' + '020000000201'), tlv(2, '04' + '02' + 'fe800000000000000000000000000001'), TTL, END),
    )
    expect(g.chassisId.value).toEqual({family: 6, familyName: 'IEEE 802', address: '02:00:00:00:02:01'})
    expect(g.portId.value).toEqual({family: 2, familyName: 'IPv6', address: 'fe80::1'})
  })

  it('text that is not UTF-8 is kept as Latin-1 so its octets survive', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, TTL, tlv(5, '53e4746572'), END))
    expect(f.tlvs[3]).toMatchObject({kind: 'systemName', value: 'S\u00e4ter', encoding: 'latin1'})
    const u = decodeLldpFrame(frame(CHASSIS, PORT, TTL, tlv(5, '53c3a4746572'), END))
    expect(u.tlvs[3]).toMatchObject({kind: 'systemName', value: 'S\u00e4ter', encoding: 'utf8'})
  })

  it('TTL 0 is a shutdown', () => {
    const f = decodeLldpFrame(frame(CHASSIS, PORT, tlv(3, '0000'), END))
    expect(f.isShutdown).toBe(true)
  })

  it('decodeLldpdu reports offsets relative to the LLDPDU', () => {
    const err = thrown(() => decodeLldpdu(Buffer.from(PORT + CHASSIS + TTL + END, 'hex'), {strict: true}))
    expect(err).toMatchObject({rule: 'mandatory-tlv-order', offset: 0})
  })
})
