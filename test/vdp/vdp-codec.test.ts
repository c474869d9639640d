import {describe, expect, it} from 'vitest'
import {ciscoTlvs} from '../../src/vdp/cisco-oui.js'
import {decodeEcpFrame, encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {VdpDecodeError, VdpEncodeError} from '../../src/vdp/errors.js'
import {managerIdFromText, managerIdText, NULL_MANAGER_ID} from '../../src/vdp/manager-id.js'
import {decodeVdpdu, encodeVdpdu, groupVsiTlvs, type VdpTlv, type VsiTlv} from '../../src/vdp/vdp-codec.js'
import {describeResponseError, vdpErrorText} from '../../src/vdp/vsi-status.js'
import {uuidVsiid} from '../../src/vdp/vsiid.js'
import {ASSOC_DEASSOC_PCAP, ecpFrames, KEEPALIVE_PCAP, LLDPD_PLUS_LLDPAD_PCAP} from './helpers/corpus.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const CAPTURE_UUID = 'a7b5c4d2-1111-4222-8333-123456789abc'

function vdpduOf(frame: Buffer) {
  return decodeVdpdu(decodeEcpFrame(frame).ulpdu)
}

function vsiOf(frame: Buffer): VsiTlv {
  const tlv = vdpduOf(frame).tlvs.find((t) => t.kind === 'vsi')
  if (tlv?.kind !== 'vsi') throw new Error('no VSI TLV')
  return tlv
}

describe('VDP22 codec against the lldpad captures', () => {
  const assoc = ecpFrames(ASSOC_DEASSOC_PCAP).filter((r) => r.frame.length > 18)

  it('reads the Associate request of wire-notes §VDP worked examples: type id 4711, VID 100, the UUID, MAC/VID filter', () => {
    const pdu = vdpduOf(assoc[0].frame)
    expect(pdu.endTlv).toBe(false) // lldpad sends no End TLV
    expect(pdu.tlvs).toHaveLength(2)
    expect(pdu.tlvs[0]).toEqual({kind: 'manager-id', managerId: NULL_MANAGER_ID})
    expect(pdu.tlvs[1]).toEqual({
      kind: 'vsi',
      mode: 'assoc',
      status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
      typeId: 4711,
      typeVersion: 1,
      vsiid: {format: 'uuid', uuid: CAPTURE_UUID},
      filter: {format: 2, entries: [{ps: false, pcp: 0, vid: 100, mac: '52:54:00:aa:bb:01'}]},
    })
  })

  it('reads the bridge response (status 0x40: response, success) and the De-Associate pair', () => {
    expect(vsiOf(assoc[1].frame).status).toEqual({kind: 'response', keep: false, hard: false, error: 0})
    expect(assoc[1].frame[14 + 4 + 18 + 2]).toBe(0x40)
    expect(vsiOf(assoc[2].frame)).toMatchObject({mode: 'deassoc', status: {kind: 'request'}, typeId: 4711})
    expect(vsiOf(assoc[3].frame)).toMatchObject({mode: 'deassoc', status: {kind: 'response', error: 0}})
    expect(vsiOf(assoc[3].frame).filter.entries[0].vid).toBe(100)
  })

  it('reads the keep-alive capture: ASCII manager id, M-bit hint, type ids 205/208, VID 0 echoed', () => {
    const frames = ecpFrames(KEEPALIVE_PCAP).filter((r) => r.frame.length > 18)
    const migrating = frames.find((r) => r.index === 36) as (typeof frames)[number]
    const pdu = vdpduOf(migrating.frame)
    const mgr = pdu.tlvs[0]
    expect(mgr.kind === 'manager-id' && managerIdText(mgr.managerId)).toBe('openstack1')
    expect(vsiOf(migrating.frame)).toMatchObject({
      status: {kind: 'request', migratingTo: true, migratingFrom: false},
      vsiid: {uuid: 'd7b5c4d2-1111-4222-8333-123456789abc'},
      filter: {entries: [{vid: 100, mac: '52:54:00:aa:bb:04'}]},
    })
    const byIndex = (i: number) => vsiOf((frames.find((r) => r.index === i) as (typeof frames)[number]).frame)
    expect(byIndex(24).typeId).toBe(205)
    expect(byIndex(28).typeId).toBe(208)
    // lldpad's Debian bridge does not assign VLANs: a VID 0 request is answered with VID 0.
    expect(byIndex(17)).toMatchObject({status: {kind: 'response', error: 0}, filter: {entries: [{vid: 0}]}})
  })

  it('re-encodes every VDPDU of the three captures byte for byte', () => {
    let count = 0
    for (const path of [ASSOC_DEASSOC_PCAP, KEEPALIVE_PCAP, LLDPD_PLUS_LLDPAD_PCAP]) {
      for (const {frame} of ecpFrames(path)) {
        const ecp = decodeEcpFrame(frame)
        if (ecp.operation !== 'request') continue
        const pdu = decodeVdpdu(ecp.ulpdu)
        const again = encodeVdpdu(pdu.tlvs, {endTlv: pdu.endTlv})
        expect(again.equals(ecp.ulpdu.subarray(0, pdu.length))).toBe(true)
        expect(ecp.ulpdu.subarray(pdu.length).every((b) => b === 0)).toBe(true)
        expect(encodeEcpFrame({...ecp, ulpdu: again}).equals(frame)).toBe(true)
        count++
      }
    }
    expect(count).toBe(4 + 34 + 2)
  })
})

describe('VDP22 codec against docs/wire-notes.md §VDP worked examples', () => {
  const uuid = '00000000-1111-2222-3333-444455556666'
  const dfaRequest: VsiTlv = {
    kind: 'vsi',
    mode: 'assoc',
    status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
    typeId: 0,
    typeVersion: 0,
    vsiid: uuidVsiid(uuid),
    filter: {format: 4, entries: [{ps: false, pcp: 0, vid: 0, mac: '00:11:22:33:44:55', groupId: 20000}]},
  }

  it('4.9: the networking-cisco Associate (format 4, group 20000, null VID)', () => {
    const bytes = encodeVdpdu([{kind: 'manager-id', managerId: NULL_MANAGER_ID}, dfaRequest])
    expect(bytes.toString('hex')).toBe(
      '0a10' +
        '00'.repeat(16) +
        '0625' +
        '00' +
        '000000' +
        '00' +
        '05' +
        '00000000111122223333444455556666' +
        '04' +
        '0001' +
        '00004e20' +
        '001122334455' +
        '0000',
    )
  })

  it('4.9: the response assigning VLAN 3003, a Keep error, a bridge De-Associate, a VID-only request', () => {
    const mgr = hex('0a10' + '00'.repeat(16))
    const body = '05 00000000111122223333444455556666 04 0001 00004e20 001122334455'
    const response = decodeVdpdu(Buffer.concat([mgr, hex(`0625 40 000000 00 ${body} 0bbb`)])).tlvs[1] as VsiTlv
    expect(response.status).toEqual({kind: 'response', keep: false, hard: false, error: 0})
    expect(response.filter.entries[0]).toMatchObject({vid: 3003, groupId: 20000})
    const keep = decodeVdpdu(Buffer.concat([mgr, hex(`0625 62 000000 00 ${body} 0000`)])).tlvs[1] as VsiTlv
    expect(keep.status).toEqual({kind: 'response', keep: true, hard: false, error: 2})
    expect(describeResponseError(keep.status as {error: number; hard: boolean; keep: boolean})).toBe(
      'insufficient resources at the bridge (error 2, soft, keep)',
    )
    const deassoc = decodeVdpdu(Buffer.concat([mgr, hex(`0825 00 000000 00 ${body} 0bbb`)])).tlvs[1] as VsiTlv
    expect(deassoc).toMatchObject({mode: 'deassoc', status: {kind: 'request', reason: 0}})
    const vidOnly = hex(`061b 00 123456 01 05 00000000111122223333444455556666 01 0001 0000`)
    const tlv = decodeVdpdu(Buffer.concat([mgr, vidOnly])).tlvs[1]
    expect(tlv).toMatchObject({typeId: 0x123456, typeVersion: 1, filter: {format: 1, entries: [{vid: 0}]}})
    expect(encodeVdpdu([tlv]).equals(vidOnly)).toBe(true)
  })

  it('5.3: the Cisco VM-name and L3-address TLVs, and the 155-octet frame', () => {
    const vm = {name: 'FW_SRVC_RTR', uuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da', ipv4: '10.1.2.3'}
    const org = ciscoTlvs(uuidVsiid(uuid), vm)
    expect(encodeVdpdu(org).toString('hex')).toBe(
      'fe3100000cf105000000001111222233334444555566660567f338a6092542aab2dfe8114e9fd0da' +
        Buffer.from('FW_SRVC_RTR').toString('hex') +
        'fe1b00000cf20500000000111122223333444455556666' +
        '0001' +
        '0a010203',
    )
    const tlvs: VdpTlv[] = [{kind: 'manager-id', managerId: NULL_MANAGER_ID}, dfaRequest, ...org]
    const frame = encodeEcpFrame({
      dst: '01:80:c2:00:00:00',
      src: '02:00:00:00:01:01',
      operation: 'request',
      subtype: 1,
      sequence: 1,
      ulpdu: encodeVdpdu(tlvs),
    })
    expect(frame).toHaveLength(155)
    const back = decodeVdpdu(decodeEcpFrame(frame).ulpdu)
    expect(back.tlvs).toEqual(tlvs)
    expect(groupVsiTlvs(back.tlvs)).toEqual([{managerId: NULL_MANAGER_ID, vsi: dfaRequest, org}])
  })
})

describe('VDP22 codec rules', () => {
  const mgr = hex('0a10' + '00'.repeat(16))

  it('stops at an End TLV or zero padding and reports the length', () => {
    const vsi = hex('061b 00 123456 01 05 00000000111122223333444455556666 01 0001 0000')
    const padded = Buffer.concat([mgr, vsi, Buffer.alloc(7)])
    const pdu = decodeVdpdu(padded)
    expect(pdu).toMatchObject({endTlv: true, length: mgr.length + vsi.length + 2})
    expect(encodeVdpdu(pdu.tlvs, {endTlv: true}).equals(padded.subarray(0, pdu.length))).toBe(true)
    expect(decodeVdpdu(Buffer.concat([mgr, Buffer.alloc(1)]))).toMatchObject({endTlv: false, length: 18})
    expect(decodeVdpdu(hex('0000'))).toEqual({tlvs: [], endTlv: true, length: 2})
  })

  it('keeps unknown TLV types and other OUIs raw', () => {
    const bytes = Buffer.concat([mgr, hex('0c02 abcd'), hex('fe05 0080c2 0102'), hex('fe04 00000c 99')])
    const pdu = decodeVdpdu(bytes)
    expect(pdu.tlvs.slice(1)).toEqual([
      {kind: 'unknown', tlvType: 6, info: hex('abcd')},
      {kind: 'org', oui: '00-80-c2', data: hex('0102')},
      {kind: 'org', oui: '00-00-0c', data: hex('99')},
    ])
    expect(encodeVdpdu(pdu.tlvs).equals(bytes)).toBe(true)
  })

  const rejects: [string, string, string][] = [
    [
      'a VSI TLV before any Manager ID',
      '061b 00 123456 01 05 00000000111122223333444455556666 01 0001 0000',
      'VDP_NO_MANAGER_ID',
    ],
    ['a short Manager ID', '0a0f' + '00'.repeat(15), 'VDP_TLV_LENGTH'],
    ['an overrunning TLV', '0a10' + '00'.repeat(15), 'VDP_TLV_TRUNCATED'],
    [
      'N = 0',
      '0a10' + '00'.repeat(16) + '0619 00 123456 01 05 00000000111122223333444455556666 01 0000',
      'VDP_BAD_FIELD',
    ],
    [
      'a length that disagrees with N',
      '0a10' + '00'.repeat(16) + '061d 00 123456 01 05 00000000111122223333444455556666 01 0001 0000 0000',
      'VDP_TLV_LENGTH',
    ],
    [
      'filter format 5',
      '0a10' + '00'.repeat(16) + '061b 00 123456 01 05 00000000111122223333444455556666 05 0001 0000',
      'VDP_BAD_FORMAT',
    ],
    [
      'VSIID format 6',
      '0a10' + '00'.repeat(16) + '061b 00 123456 01 06 00000000111122223333444455556666 01 0001 0000',
      'VDP_BAD_FORMAT',
    ],
    [
      'an IPv4 VSIID without the ffff prefix',
      '0a10' + '00'.repeat(16) + '061b 00 123456 01 01 000000000000000000000000c0000201 01 0001 0000',
      'VDP_BAD_FIELD',
    ],
    ['a dangling header octet', '0a10' + '00'.repeat(16) + '06', 'VDP_TLV_TRUNCATED'],
  ]
  it.each(rejects)('rejects %s with VdpDecodeError', (_name, bytes, code) => {
    try {
      decodeVdpdu(hex(bytes))
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(VdpDecodeError)
      expect((e as VdpDecodeError).code).toBe(code)
    }
  })

  it('refuses to encode values that do not fit', () => {
    const base: VsiTlv = {
      kind: 'vsi',
      mode: 'assoc',
      status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
      typeId: 1,
      typeVersion: 0,
      vsiid: uuidVsiid('00000000-1111-2222-3333-444455556666'),
      filter: {format: 2, entries: [{ps: false, pcp: 0, vid: 10, mac: '02:00:00:00:00:01'}]},
    }
    expect(() => encodeVdpdu([{...base, typeId: 1 << 24}])).toThrow(VdpEncodeError)
    expect(() => encodeVdpdu([{...base, filter: {format: 2, entries: []}}])).toThrow(/1–65535 entries/)
    expect(() =>
      encodeVdpdu([
        {...base, filter: {format: 2, entries: [{ps: false, pcp: 0, vid: 4096, mac: '02:00:00:00:00:01'}]}},
      ]),
    ).toThrow(/VID/)
    expect(() =>
      encodeVdpdu([{...base, filter: {format: 1, entries: [{ps: false, pcp: 0, vid: 5, mac: '02:00:00:00:00:01'}]}}]),
    ).toThrow(/no MAC/)
    expect(() => encodeVdpdu([{...base, filter: {format: 3, entries: [{ps: false, pcp: 0, vid: 5}]}}])).toThrow(
      /groupId/,
    )
    expect(() => encodeVdpdu([{...base, vsiid: {format: 'uuid', uuid: 'nope'}}])).toThrow(VdpEncodeError)
    const many = Array.from({length: 41}, () => ({ps: false, pcp: 0, vid: 5, mac: '02:00:00:00:00:01', groupId: 7}))
    expect(() => encodeVdpdu([{...base, filter: {format: 4, entries: many}}])).toThrow(/511/)
  })

  it('names the error codes', () => {
    expect(vdpErrorText(0)).toBe('success')
    expect(vdpErrorText(5)).toBe('invalid VID, group ID or MAC address')
    expect(vdpErrorText(9)).toBe('reserved error code 9')
  })

  it("follows vdptool's mgrid2 text rules", () => {
    expect(managerIdFromText('0').equals(NULL_MANAGER_ID)).toBe(true)
    expect(managerIdFromText('12')[0]).toBe(0x12)
    expect(managerIdFromText('openstack1').toString('hex')).toBe('6f70656e737461636b31' + '00'.repeat(6))
    expect(managerIdText(managerIdFromText('openstack1'))).toBe('openstack1')
    expect(managerIdText(managerIdFromText('a7b5c4d2-1111-4222-8333-123456789abc'))).toBe(
      'a7b5c4d211114222833312345678' + '9abc',
    )
    expect(() => managerIdFromText('a name with spaces')).toThrow(VdpEncodeError)
  })
})
