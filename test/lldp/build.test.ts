/** The builder for what the agent transmits: byte-exact against docs/wire-notes.md §LLDPDU worked example. */
import {describe, expect, it} from 'vitest'
import {buildLldpFrame, decodeLldpFrame, encodeTlv, LldpEncodeError, type LldpTlv} from '../../src/lldp/index.js'

const station = {
  dst: '01:80:c2:00:00:00',
  src: '52:54:00:50:24:4e',
  chassisId: {subtype: 4, value: '52:54:00:50:24:4e'},
  portId: {subtype: 3, value: '52:54:00:50:24:4e'},
  ttl: 120,
}

const hex = (s: string): string => s.replace(/\s+/g, '')

describe('buildLldpFrame', () => {
  it('wire-notes §LLDPDU worked example: station LLDPDU to the NCB with an EVB TLV, zero-padded to 60 octets', () => {
    const frame = buildLldpFrame({
      ...station,
      evb: {
        bgid: false,
        rrcap: true,
        rrctr: true,
        sgid: false,
        rrreq: true,
        rrstat: 1,
        retries: 3,
        rte: 8,
        mode: 'station',
        rolRwd: false,
        rwd: 8,
        rolRka: false,
        rka: 8,
      },
    })
    expect(frame.toString('hex')).toBe(
      hex(`
      01 80 c2 00 00 00  52 54 00 50 24 4e  88 cc
      02 07 04 52 54 00 50 24 4e
      04 07 03 52 54 00 50 24 4e
      06 02 00 78
      fe 09 00 80 c2 0d 03 05 68 88 08
      00 00
      ${'00 '.repeat(60 - 49)}`),
    )
  })

  it('wire-notes §LLDPDU worked example: the other TLV encodings', () => {
    const frame = decodeLldpFrame(
      buildLldpFrame({
        ...station,
        systemName: 'host1',
        capabilities: {supported: ['Station Only'], enabled: 0x0080},
        managementAddresses: [{address: '192.0.2.10', interfaceNumber: 2}],
      }),
      {strict: true},
    )
    const byKind = (kind: string): string => encodeTlv(frame.tlvs.find((t) => t.kind === kind)!).toString('hex')
    expect(byKind('managementAddress')).toBe(hex('10 0c 05 01 c0 00 02 0a 02 00 00 00 02 00'))
    expect(byKind('systemCapabilities')).toBe(hex('0e 04 00 80 00 80'))
    expect(byKind('systemName')).toBe(hex('0a 05 68 6f 73 74 31'))
    const extra: LldpTlv[] = [
      {kind: 'portVlanId', type: 127, oui: '00-80-c2', subtype: 1, pvid: 100},
      {kind: 'maxFrameSize', type: 127, oui: '00-12-0f', subtype: 4, maxFrameSize: 1522},
    ]
    expect(extra.map((t) => encodeTlv(t).toString('hex'))).toEqual([
      hex('fe 06 00 80 c2 01 00 64'),
      hex('fe 06 00 12 0f 04 05 f2'),
    ])
  })

  it('builds what decodes back to the same fields (IPv6, MAC and ifname IDs, VLAN tag, extra TLVs)', () => {
    const built = buildLldpFrame({
      dst: '01:80:c2:00:00:0e',
      src: '02:00:00:00:01:01',
      vlanTags: [{tpid: 0x8100, pcp: 7, dei: false, vid: 42}],
      chassisId: {subtype: 5, value: '2001:db8::7'},
      portId: {subtype: 5, value: 'ens1f0'},
      ttl: 0,
      portDescription: 'uplink',
      systemDescription: 'vdp-agent on Debian 12',
      managementAddresses: [
        {address: '2001:db8::7', interfaceNumber: 7, oid: '1.3.6.1.2.1.2.2.1.1'},
        {address: '02:00:00:00:01:01'},
      ],
      extraTlvs: [{kind: 'orgSpecific', type: 127, oui: '00-00-0c', subtype: 1, data: Buffer.from('beef', 'hex')}],
    })
    const f = decodeLldpFrame(built, {strict: true})
    expect(f.vlanTags).toEqual([{tpid: 0x8100, pcp: 7, dei: false, vid: 42}])
    expect(f.chassisId.value).toEqual({family: 2, familyName: 'IPv6', address: '2001:db8::7'})
    expect(f.portId).toMatchObject({subtypeName: 'interface name', value: 'ens1f0'})
    expect(f.isShutdown).toBe(true)
    expect(f.managementAddresses.map((m) => [m.address.address, m.interfaceSubtype, m.interfaceNumber, m.oid])).toEqual(
      [
        ['2001:db8::7', 2, 7, '1.3.6.1.2.1.2.2.1.1'],
        ['02:00:00:00:01:01', 1, 0, ''],
      ],
    )
    expect(f.tlvs.at(-2)).toMatchObject({kind: 'orgSpecific', oui: '00-00-0c'})
    expect(f.warnings).toEqual([])
    expect(built.length).toBeGreaterThan(60)
  })

  it('takes MACs in the IEEE 802 hyphen form too, encoding the same octets as the colon form', () => {
    const colon = buildLldpFrame({...station, managementAddresses: [{address: '02:00:00:00:01:01'}]})
    const hyphen = buildLldpFrame({
      ...station,
      dst: '01-80-C2-00-00-00',
      src: '52-54-00-50-24-4E',
      chassisId: {subtype: 4, value: '52-54-00-50-24-4E'},
      portId: {subtype: 3, value: '52:54-00:50-24:4e'},
      managementAddresses: [{address: '02-00-00-00-01-01'}],
    })
    expect(hyphen.toString('hex')).toBe(colon.toString('hex'))
    expect(decodeLldpFrame(hyphen, {strict: true}).chassisId.value).toBe('52:54:00:50:24:4e')
  })

  it.each([
    ['a MAC chassis ID that is not a MAC', {chassisId: {subtype: 4, value: 'eth0'}}, /MAC/],
    ['an empty port ID', {portId: {subtype: 5, value: ''}}, /1\.\.255/],
    ['a TTL over 65535', {ttl: 70000}, /TTL/],
    ['a 256-octet system name', {systemName: 'x'.repeat(256)}, /255/],
    ['an unknown capability', {capabilities: {supported: ['Toaster'], enabled: 0}}, /capability/],
    ['a bad source MAC', {src: '52:54:00'}, /MAC/],
    [
      'an LLDPDU over 1500 octets',
      {
        extraTlvs: Array.from(
          {length: 4},
          () => ({kind: 'orgSpecific', type: 127, oui: '00-00-0c', subtype: 9, data: Buffer.alloc(500)}) as LldpTlv,
        ),
      },
      /1500/,
    ],
  ])('rejects %s', (_what, override, message) => {
    expect(() => buildLldpFrame({...station, ...override} as Parameters<typeof buildLldpFrame>[0])).toThrow(
      LldpEncodeError,
    )
    expect(() => buildLldpFrame({...station, ...override} as Parameters<typeof buildLldpFrame>[0])).toThrow(message)
  })
})
