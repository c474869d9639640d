// fast-check arbitraries for the VDP codec: every TLV kind, every VSIID and filter format.
import fc from 'fast-check'
import type {CiscoTlv} from '../../../src/vdp/cisco-oui.js'
import {formatMac} from '../../../src/core/ethernet.js'
import type {VdpTlv, VsiTlv} from '../../../src/vdp/vdp-codec.js'
import type {FilterEntry, FilterFormat, VsiFilter} from '../../../src/vdp/vsi-filter.js'
import type {VsiStatus} from '../../../src/vdp/vsi-status.js'
import {readVsiid, type Vsiid} from '../../../src/vdp/vsiid.js'

const octets = (n: number) => fc.uint8Array({minLength: n, maxLength: n}).map((a) => Buffer.from(a))
const mac = octets(6).map((b) => formatMac(b))

const vsiidArb: fc.Arbitrary<Vsiid> = fc.oneof(
  fc.uuid().map((u): Vsiid => ({format: 'uuid', uuid: u.toLowerCase()})),
  mac.map((m): Vsiid => ({format: 'mac', mac: m})),
  fc.ipV4().map((a): Vsiid => ({format: 'ipv4', address: a})),
  // IPv6 text must be canonical to compare typed values: build it from octets through the decoder.
  octets(16).map((b) => readVsiid(2, b, 0)),
  octets(16).map((b): Vsiid => ({format: 'local', id: b.toString('hex')})),
)

const vidField = {ps: fc.boolean(), pcp: fc.integer({min: 0, max: 7}), vid: fc.integer({min: 0, max: 4095})}

function entryArb(format: FilterFormat): fc.Arbitrary<FilterEntry> {
  switch (format) {
    case 1:
      return fc.record(vidField)
    case 2:
      return fc.record({...vidField, mac})
    case 3:
      return fc.record({...vidField, groupId: fc.nat({max: 0xffffffff})})
    case 4:
      return fc.record({...vidField, mac, groupId: fc.nat({max: 0xffffffff})})
  }
}

const filterArb: fc.Arbitrary<VsiFilter> = fc
  .constantFrom<FilterFormat>(1, 2, 3, 4)
  .chain((format) => fc.array(entryArb(format), {minLength: 1, maxLength: 6}).map((entries) => ({format, entries})))

const statusArb: fc.Arbitrary<VsiStatus> = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    migratingTo: fc.boolean(),
    migratingFrom: fc.boolean(),
    reason: fc.integer({min: 0, max: 15}),
  }),
  fc.record({
    kind: fc.constant('response' as const),
    keep: fc.boolean(),
    hard: fc.boolean(),
    error: fc.integer({min: 0, max: 15}),
  }),
)

const vsiTlvArb: fc.Arbitrary<VsiTlv> = fc.record({
  kind: fc.constant('vsi' as const),
  mode: fc.constantFrom('preassoc' as const, 'preassoc-rr' as const, 'assoc' as const, 'deassoc' as const),
  status: statusArb,
  typeId: fc.integer({min: 0, max: 0xffffff}),
  typeVersion: fc.integer({min: 0, max: 255}),
  vsiid: vsiidArb,
  filter: filterArb,
})

const ciscoArb: fc.Arbitrary<CiscoTlv> = fc.oneof(
  fc.record({
    kind: fc.constant('cisco-vm-name' as const),
    vsiid: vsiidArb,
    vmIdFormat: fc.integer({min: 0, max: 255}),
    vmUuid: fc.uuid().map((u) => u.toLowerCase()),
    vmName: fc.string({unit: 'binary-ascii', maxLength: 60}),
  }),
  fc.record({kind: fc.constant('cisco-ipv4-address' as const), vsiid: vsiidArb, ipv4: fc.ipV4()}),
)

// Raw org TLVs: any OUI but Cisco's, or Cisco's with a subtype this codec does not type.
const rawOrgArb: fc.Arbitrary<VdpTlv> = fc.oneof(
  fc.record({
    kind: fc.constant('org' as const),
    oui: octets(3)
      .filter((b) => b.toString('hex') !== '00000c')
      .map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('-')),
    data: fc.uint8Array({maxLength: 40}).map((a) => Buffer.from(a)),
  }),
  fc.record({
    kind: fc.constant('org' as const),
    oui: fc.constant('00-00-0c'),
    data: fc
      .tuple(fc.integer({min: 0, max: 0xf0}), fc.uint8Array({maxLength: 30}))
      .map(([sub, rest]) => Buffer.concat([Buffer.from([sub]), Buffer.from(rest)])),
  }),
)

const unknownArb: fc.Arbitrary<VdpTlv> = fc.record({
  kind: fc.constant('unknown' as const),
  tlvType: fc.integer({min: 6, max: 126}),
  info: fc.uint8Array({maxLength: 40}).map((a) => Buffer.from(a)),
})

const managerArb: fc.Arbitrary<VdpTlv> = octets(16).map((managerId) => ({kind: 'manager-id' as const, managerId}))

/** A VDPDU's TLVs: a Manager ID first, then anything (more Manager IDs included). */
export const vdpduTlvsArb: fc.Arbitrary<VdpTlv[]> = fc
  .tuple(
    managerArb,
    fc.array(fc.oneof({weight: 4, arbitrary: vsiTlvArb}, ciscoArb, rawOrgArb, unknownArb, managerArb), {maxLength: 8}),
  )
  .map(([first, rest]) => [first, ...rest])
