/**
 * Our decode against the expectations other projects' own tests assert (transcribed into the corpus JSON):
 * lldpd check_lldp.c and its pcap integration tests, NetworkManager, systemd, scapy, lldpcli on the
 * generated captures, and lldpad's EVB test vectors.
 */
import {describe, expect, it} from 'vitest'
import {
  decodeEvbTlv,
  decodeLldpFrame,
  encodeTlv,
  LldpDecodeError,
  type LldpFrame,
  type LldpTlv,
} from '../../src/lldp/index.js'
import {networkAddressOctets} from '../../src/lldp/basic.js'
import {mauTypeName} from '../../src/lldp/names.js'
import {displayText} from '../../src/lldp/octets.js'
import {describeWithThirdParty} from '../helpers/corpus.js'
import {OWN_CORPUS_DIR, readFrames, readJson, THIRD_PARTY_DIR} from './corpus.js'

const decodeHex = (hex: string): LldpFrame => decodeLldpFrame(Buffer.from(hex, 'hex'))

function find<K extends LldpTlv['kind']>(frame: LldpFrame, kind: K): Extract<LldpTlv, {kind: K}> {
  const tlv = frame.tlvs.find((t) => t.kind === kind)
  if (!tlv) throw new Error(`no ${kind} TLV`)
  return tlv as Extract<LldpTlv, {kind: K}>
}

function inventory(frame: LldpFrame, field: string): string {
  const tlv = frame.tlvs.find((t) => t.kind === 'medInventory' && t.field === field)
  return tlv && tlv.kind === 'medInventory' ? displayText(tlv.value) : '(missing)'
}

function expectError(run: () => unknown, rule: string): void {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(LldpDecodeError)
    expect((err as LldpDecodeError).rule).toBe(rule)
    expect((err as LldpDecodeError).code).toBe('LLDP_DECODE')
    return
  }
  throw new Error(`expected LldpDecodeError ${rule}`)
}

describeWithThirdParty('lldpd tests/check_lldp.c', () => {
  interface Vector {
    name: string
    frame_hex: string
    expected: Record<string, unknown> & {
      dot3?: Record<string, unknown>
      med?: Record<string, unknown>
    }
  }
  const vectors = readJson<{check_lldp_c_vectors: Vector[]}>(
    'third-party/lldpd/lldpd-vectors-and-expectations.json',
  ).check_lldp_c_vectors

  for (const v of vectors) {
    it(v.name, () => {
      const f = decodeHex(v.frame_hex)
      const e = v.expected
      expect(f.chassisId.subtype).toBe(e.chassis_id_subtype)
      expect(f.chassisId.value).toBe(e.chassis_id)
      expect(f.portId.subtype).toBe(e.port_id_subtype)
      expect(f.portId.value).toBe(e.port_id)
      expect(f.ttl).toBe(e.ttl)
      expect(f.systemName ?? null).toBe(e.system_name)
      expect(f.systemDescription ?? null).toBe(e.system_description)
      expect(f.portDescription ?? null).toBe(e.port_description)
      expect(f.warnings).toEqual([])
      if (e.cap_available_raw !== undefined) {
        expect(f.capabilities?.supported).toBe(Number(e.cap_available_raw))
        expect(f.capabilities?.enabled).toBe(Number(e.cap_enabled_raw))
        // lldpd's names (bridge, wlan-ap, router) for the same bits.
        expect(f.capabilities?.supportedNames).toEqual(['Bridge', 'WLAN AP', 'Router'])
        expect(f.capabilities?.enabledNames).toEqual(['Bridge', 'Router'])
        expect(f.managementAddresses).toHaveLength(1)
        expect(f.managementAddresses[0]).toMatchObject({
          address: {family: 1, address: e.mgmt_address_ipv4},
          interfaceSubtype: e.mgmt_if_subtype,
          interfaceNumber: e.mgmt_ifindex,
        })
      }
      if (e.dot3) {
        const d = e.dot3
        const agg = find(f, 'dot3LinkAggregation')
        expect(agg.portId).toBe(d.aggregation_port_id)
        expect(agg.status).toBe(Number(d.aggregation_status_raw))
        const phy = find(f, 'macPhy')
        expect(phy.autonegSupported).toBe(d.autoneg_supported)
        expect(phy.autonegEnabled).toBe(d.autoneg_enabled)
        expect(phy.pmdCapability).toBe(Number(d.pmd_autoneg_advertised_raw))
        expect(phy.mauType).toBe(d.mau_type)
        expect(mauTypeName(phy.mauType)).toBe(d.mau_type_name)
        expect(find(f, 'maxFrameSize').maxFrameSize).toBe(d.max_frame_size)
      }
      if (e.med) {
        const m = e.med
        expect(find(f, 'medCapabilities').capabilities).toBe(Number(m.capabilities_raw))
        expect(find(f, 'medCapabilities').deviceType).toBe(m.device_type)
        expect(inventory(f, 'hardwareRevision')).toBe(m.hw_rev)
        expect(inventory(f, 'firmwareRevision')).toBe(m.fw_rev) // '080012 ': the trailing space is kept
        expect(inventory(f, 'softwareRevision')).toBe(m.sw_rev)
        expect(inventory(f, 'serialNumber')).toBe(m.serial)
        expect(inventory(f, 'manufacturerName')).toBe(m.manufacturer)
        expect(inventory(f, 'modelName')).toBe(m.model)
        expect(inventory(f, 'assetId')).toBe(m.asset_id)
      }
    })
  }

  it('the fuzz seed files are these two frames, byte for byte', async () => {
    const {readFileSync} = await import('node:fs')
    const seeds = [0, 1].map((i) => readFileSync(`${THIRD_PARTY_DIR}lldpd/fuzz_seed_lldp.${i}.raw`).toString('hex'))
    expect(seeds).toEqual(vectors.map((v) => v.frame_hex))
  })
})

describeWithThirdParty('lldpd tests/integration (lldpcli keyvalue on the upstream pcaps)', () => {
  interface Expectation {
    pcap: string
    expected_keyvalue?: Record<string, string>
    expected_if_dot3?: Record<string, string>
    expected_if_lldpmed?: Record<string, string>
    expected?: {system_name: null}
  }
  const expectations = readJson<{integration_pcap_expectations: Expectation[]}>(
    'third-party/lldpd/lldpd-vectors-and-expectations.json',
  ).integration_pcap_expectations
  const byPcap = Object.fromEntries(expectations.map((e) => [e.pcap, e]))
  const firstFrame = async (pcap: string): Promise<LldpFrame> =>
    decodeLldpFrame((await readFrames(`${THIRD_PARTY_DIR}lldpd/${pcap}`))[0].data)

  it('sg200.pcap', async () => {
    const f = await firstFrame('sg200.pcap')
    const kv = {
      ...byPcap['sg200.pcap'].expected_keyvalue,
      ...byPcap['sg200.pcap'].expected_if_dot3,
      ...byPcap['sg200.pcap'].expected_if_lldpmed,
    }
    expect(f.chassisId.value).toBe(kv['lldp.eth0.chassis.mac'])
    expect(String(f.ttl)).toBe(kv['lldp.eth0.port.ttl'])
    expect(f.portId.subtypeName).toBe('interface name')
    expect(f.portId.value).toBe(kv['lldp.eth0.port.ifname'])
    const phy = find(f, 'macPhy')
    expect(phy.autonegSupported).toBe(kv['lldp.eth0.port.auto-negotiation.supported'] === 'yes')
    expect(phy.autonegEnabled).toBe(kv['lldp.eth0.port.auto-negotiation.enabled'] === 'yes')
    expect((phy.pmdCapability & 0x0001) !== 0).toBe(kv['lldp.eth0.port.auto-negotiation.1000Base-T.fd'] === 'yes')
    expect((phy.pmdCapability & 0x0002) !== 0).toBe(kv['lldp.eth0.port.auto-negotiation.1000Base-T.hd'] === 'yes')
    expect(phy.mauType).toBe(0) // lldpcli: current 'unknown'
    const caps = find(f, 'medCapabilities')
    expect(caps.deviceType).toBe(4) // 'Network Connectivity Device'
    expect(caps.capabilityNames).toEqual([
      'LLDP-MED capabilities',
      'network policy',
      'location identification',
      'extended power via MDI-PSE',
      'inventory',
    ])
    const loc = find(f, 'medLocation').location
    expect(loc.format).toBe('civic')
    if (loc.format !== 'civic') return
    expect(loc.countryCode).toBe(kv['lldp.eth0.lldp-med.Civic address.country'])
    const ca = Object.fromEntries(loc.elements.map((e) => [e.caType, e.value]))
    expect(ca[3]).toBe(kv['lldp.eth0.lldp-med.Civic address.city'])
    expect(ca[6]).toBe(kv['lldp.eth0.lldp-med.Civic address.street'])
    expect(ca[25]).toBe(kv['lldp.eth0.lldp-med.Civic address.building'])
    expect(loc.trailing?.length).toBe(216) // zero padding after the 39-octet LCI, kept for the round trip
    expect(inventory(f, 'hardwareRevision')).toBe(kv['lldp.eth0.lldp-med.inventory.hardware'])
    expect(inventory(f, 'softwareRevision')).toBe(kv['lldp.eth0.lldp-med.inventory.software'])
    expect(inventory(f, 'firmwareRevision')).toBe(kv['lldp.eth0.lldp-med.inventory.firmware'])
    expect(inventory(f, 'serialNumber')).toBe(kv['lldp.eth0.lldp-med.inventory.serial'])
    expect(inventory(f, 'manufacturerName')).toBe(kv['lldp.eth0.lldp-med.inventory.manufacturer'])
    expect(inventory(f, 'modelName')).toBe(kv['lldp.eth0.lldp-med.inventory.model'])
    expect(inventory(f, 'assetId')).toBe(kv['lldp.eth0.lldp-med.inventory.asset'])
  })

  it('8023bt.pcap: 802.3bt power via MDI', async () => {
    const f = await firstFrame('8023bt.pcap')
    const kv = byPcap['8023bt.pcap'].expected_keyvalue!
    const p = find(f, 'powerViaMdi')
    const k = (name: string): string => kv[`lldp.eth0.port.power.${name}`]
    expect(p.mdiPowerSupported).toBe(k('supported') === 'yes')
    expect(p.mdiPowerEnabled).toBe(k('enabled') === 'yes')
    expect(p.pairControlAbility).toBe(k('paircontrol') === 'yes')
    expect(p.portClass.toUpperCase()).toBe(k('device-type'))
    expect(p.psePowerPair === 1 ? 'signal' : 'spare').toBe(k('pairs'))
    expect(`class ${p.powerClass - 1}`).toBe(k('class'))
    const at = p.dot3at!
    // lldpd: power-type "2" = 802.3at Type 2 (bit 7 clear); the priority field 3 = low.
    expect(at.powerType >> 1 === 0 ? '2' : '1').toBe(k('power-type'))
    expect(at.powerPriority).toBe(3)
    expect(k('priority')).toBe('low')
    expect(String(at.pdRequestedPower * 100)).toBe(k('requested'))
    expect(String(at.pseAllocatedPower * 100)).toBe(k('allocated'))
    const bt = p.dot3bt!
    expect(String(bt.pdRequestedPowerA * 100)).toBe(k('requested-a'))
    expect(String(bt.pdRequestedPowerB * 100)).toBe(k('requested-b'))
    expect(String(bt.pseAllocatedPowerA * 100)).toBe(k('allocated-a'))
    expect(String(bt.pseAllocatedPowerB * 100)).toBe(k('allocated-b'))
    expect(String(bt.pseMaxAvailablePower * 100)).toBe(k('max-power'))
    // lldpcli's words for the status bit fields (lldpd src/lib/atoms/dot3.c).
    expect(bt.psePoweringStatus).toBe(3) // '4-pair powering dual-signature PD'
    expect(bt.pdPoweredStatus).toBe(0) // 'unknown'
    expect(bt.psePowerPairsExt).toBe(3) // 'both alternatives'
    expect([bt.dualSignatureClassA, bt.dualSignatureClassB]).toEqual([4, 4]) // 'class 4', 'class 4'
    expect(bt.powerClassExt).toBe(15) // 'dual-signature PD'
    expect(bt.powerTypeExt).toBe(0) // 'type 3 PSE'
    expect(bt.pdLoad).toBe(false) // 'PD is single- or dual-signature and power is not electrically isolated'
  })

  it('med-loc-malformed.pcap: the truncated civic location is kept as a malformed TLV, the rest decodes', async () => {
    const f = await firstFrame('med-loc-malformed.pcap')
    const kv = byPcap['med-loc-malformed.pcap'].expected_keyvalue!
    expect(find(f, 'medCapabilities').deviceType).toBe(3) // 'Communication Device Endpoint (Class III)'
    const policy = find(f, 'medNetworkPolicy')
    expect(policy.applicationType).toBe(1) // 'Voice'
    expect(policy.unknownPolicy).toBe(kv['lldp.eth0.lldp-med.policy.defined'] !== 'yes')
    expect(String(policy.l2Priority)).toBe(kv['lldp.eth0.lldp-med.policy.pcp'])
    expect(String(policy.dscp)).toBe(kv['lldp.eth0.lldp-med.policy.dscp'])
    const bad = f.tlvs.find((t) => t.kind === 'malformed')
    expect(bad).toMatchObject({kind: 'malformed', type: 127, rule: 'org-tlv-malformed'})
    expect(f.warnings.map((w) => w.rule)).toEqual(['org-tlv-malformed'])
    // lldpcli prints country 'F5': it reads the two octets after 'what' although the LCI length (2) leaves room
    // for only one. tshark calls the TLV malformed too; we do not read past the LCI length.
    expect(kv['lldp.eth0.lldp-med.Civic address.country']).toBe('F5')
  })

  it('connectx.pcap: no System Name TLV', async () => {
    const f = await firstFrame('connectx.pcap')
    expect(byPcap['connectx.pcap'].expected?.system_name).toBeNull()
    expect(f.systemName).toBeUndefined()
    expect(f.tlvs.some((t) => t.type === 5)).toBe(false)
  })
})

describeWithThirdParty('NetworkManager src/core/devices/tests/test-lldp.c', () => {
  interface Vector {
    name: string
    frame_hex: string
    networkmanager_as_variant: string
  }
  const vectors = readJson<{vectors: Vector[]}>('third-party/networkmanager/test-lldp-frames.json').vectors

  /** The scalar `'key': <value>` entries of NM's GVariant text (uint32 or string). */
  function scalars(variant: string): Record<string, string | number> {
    const out: Record<string, string | number> = {}
    for (const m of variant.matchAll(/'([a-z0-9-]+)': <(?:uint32 (\d+)|'((?:[^'\\]|\\.)*)')>/g)) {
      if (!(m[1] in out)) out[m[1]] = m[2] !== undefined ? Number(m[2]) : m[3]
    }
    return out
  }

  const DESTINATIONS: Record<string, string> = {
    '01:80:c2:00:00:0e': 'nearest-bridge',
    '01:80:c2:00:00:03': 'nearest-non-tpmr-bridge',
    '01:80:c2:00:00:00': 'nearest-customer-bridge',
  }

  for (const v of vectors) {
    it(v.name, () => {
      const f = decodeHex(v.frame_hex)
      const nm = scalars(v.networkmanager_as_variant)
      expect(f.chassisId.subtype).toBe(nm['chassis-id-type'])
      expect(f.chassisId.value).toBe(String(nm['chassis-id']).toLowerCase())
      expect(f.portId.subtype).toBe(nm['port-id-type'])
      expect(f.portId.value).toBe(
        String(nm['port-id']).toLowerCase() === nm['port-id'] ? nm['port-id'] : String(nm['port-id']).toLowerCase(),
      )
      expect(DESTINATIONS[f.dst]).toBe(nm.destination)
      expect(f.portDescription).toBe(nm['port-description'])
      expect(f.systemName).toBe(nm['system-name'])
      expect(f.systemDescription).toBe(nm['system-description'])
      expect(f.capabilities?.supported).toBe(nm['system-capabilities'])
      if ('ieee-802-1-pvid' in nm) {
        expect(find(f, 'portVlanId').pvid).toBe(nm['ieee-802-1-pvid'])
        expect(find(f, 'portProtocolVlanId').ppvid).toBe(nm['ieee-802-1-ppvid'])
        expect(find(f, 'portProtocolVlanId').flags).toBe(nm['ieee-802-1-ppvid-flags'])
        expect(find(f, 'vlanName').vid).toBe(nm['ieee-802-1-vid'])
        expect(find(f, 'vlanName').name).toBe(nm['ieee-802-1-vlan-name'])
      }
      if ('autoneg' in nm) {
        const phy = find(f, 'macPhy')
        expect(phy.autoneg).toBe(nm.autoneg)
        expect(phy.pmdCapability).toBe(nm['pmd-autoneg-cap'])
        expect(phy.mauType).toBe(nm['operational-mau-type'])
      }
      if ('mdi-power-support' in nm) {
        const p = find(f, 'powerViaMdi')
        expect([p.mdiPowerSupport, p.psePowerPair, p.powerClass]).toEqual([
          nm['mdi-power-support'],
          nm['pse-power-pair'],
          nm['power-class'],
        ])
      }
      if ('ieee-802-3-max-frame-size' in nm)
        expect(find(f, 'maxFrameSize').maxFrameSize).toBe(nm['ieee-802-3-max-frame-size'])
      if ('mud-url' in nm) expect(find(f, 'mudUrl').url).toBe(nm['mud-url'])
      // Management addresses: subtype, address octets, interface numbering.
      const nmAddresses = [
        ...v.networkmanager_as_variant.matchAll(
          /\{'address-subtype': <uint32 (\d+)>, 'address': <\[byte ([^\]]*)\]>, 'interface-number-subtype': <uint32 (\d+)>, 'interface-number': <uint32 (\d+)>\}/g,
        ),
      ].map((m) => ({
        family: Number(m[1]),
        octets: m[2]
          .split(', ')
          .map((b) => b.replace('0x', ''))
          .join(''),
        subtype: Number(m[3]),
        number: Number(m[4]),
      }))
      expect(
        f.managementAddresses.map((a) => ({
          family: a.address.family,
          octets: networkAddressOctets(a.address).toString('hex'),
          subtype: a.interfaceSubtype,
          number: a.interfaceNumber,
        })),
      ).toEqual(nmAddresses)
    })
  }

  it('_test_recv_data2_frame0_ttl1 carries TTL 1 (NM ages it out)', () => {
    const f = decodeHex(vectors.find((v) => v.name === '_test_recv_data2_frame0_ttl1')!.frame_hex)
    expect(f.ttl).toBe(1)
    expect(f.isShutdown).toBe(false)
  })
})

describeWithThirdParty('systemd src/libsystemd-network/test-lldp-rx.c', () => {
  interface Data {
    vectors: Array<{name: string; frame_hex: string; expected: Record<string, unknown> & {tlv_sequence?: string[]}}>
    multiple_neighbors_sorted: {frames_hex: string[]; expected_order_chassis_port: [string, string][]}
  }
  const data = readJson<Data>('third-party/systemd/test-lldp-rx-frames.json')
  const vector = (name: string): Data['vectors'][number] => data.vectors.find((v) => v.name === name)!

  it('test_receive_basic_packet', () => {
    const v = vector('test_receive_basic_packet')
    const f = decodeHex(v.frame_hex)
    expect({
      chassis_id_subtype: f.chassisId.subtype,
      chassis_id: f.chassisId.value,
      port_id_subtype: f.portId.subtype,
      port_id: f.portId.value,
      port_description: f.portDescription,
      system_name: f.systemName,
      system_description: f.systemDescription,
      ttl: f.ttl,
    }).toEqual({...v.expected, accepted: undefined})
  })

  it('test_receive_incomplete_packet: no TTL TLV, rejected in both modes', () => {
    const hex = vector('test_receive_incomplete_packet').frame_hex
    expectError(() => decodeHex(hex), 'mandatory-tlv-missing')
    expectError(() => decodeLldpFrame(Buffer.from(hex, 'hex'), {strict: true}), 'mandatory-tlv-missing')
  })

  it('test_receive_oui_packet', () => {
    const v = vector('test_receive_oui_packet')
    const f = decodeHex(v.frame_hex)
    const names: Record<string, string> = {chassisId: 'chassis_id', portId: 'port_id', ttl: 'ttl', end: 'end'}
    expect(
      f.tlvs.map((t) => names[t.kind] ?? ('oui' in t ? `oui ${t.oui.replace(/-/g, '')}/${t.subtype}` : t.kind)),
    ).toEqual(v.expected.tlv_sequence)
    // The values spelled out in the vector's description.
    expect(find(f, 'portVlanId').pvid).toBe(0x1234)
    expect(find(f, 'portProtocolVlanId')).toMatchObject({flags: 0x01, ppvid: 0x7788})
    expect(find(f, 'vlanName')).toMatchObject({vid: 0x1234, name: 'Vlan51'})
    expect(find(f, 'managementVid').vid).toBe(0x0102)
    expect(find(f, 'linkAggregation')).toMatchObject({status: 0x01, capable: true, enabled: false, portId: 0x00140012})
    expect(find(f, 'powerViaMdi')).toMatchObject({
      portClass: 'pse',
      mdiPowerSupported: true,
      mdiPowerEnabled: true,
      psePowerPair: 1,
      powerClass: 0,
    })
  })

  it('multiple neighbours: six distinct MSAPs from chassis component / port component IDs', () => {
    const m = data.multiple_neighbors_sorted
    const msaps = m.frames_hex.map(decodeHex).map((f) => {
      expect([f.chassisId.subtypeName, f.portId.subtypeName]).toEqual(['chassis component', 'port component'])
      return [f.chassisId.value, f.portId.value] as [string, string]
    })
    const sorted = [...msaps].sort((a, b) => (a[0] === b[0] ? a[1].localeCompare(b[1]) : a[0].localeCompare(b[0])))
    expect(sorted).toEqual(m.expected_order_chassis_port)
  })
})

describeWithThirdParty('scapy test/contrib/lldp.uts', () => {
  const vectors = readJson<{
    vectors: Array<{name: string; frame_hex: string; expected: Record<string, string | number>}>
  }>('third-party/scapy/lldp-uts-vectors.json').vectors
  const byName = (name: string): (typeof vectors)[number] => vectors.find((v) => v.name === name)!

  it('cisco_c3560_chassis_subtype5_network_address', () => {
    const v = byName('cisco_c3560_chassis_subtype5_network_address')
    const f = decodeHex(v.frame_hex)
    expect(f.chassisId).toMatchObject({
      subtype: v.expected.chassis_id_subtype,
      value: {family: v.expected.chassis_id_address_family, address: v.expected.chassis_id},
    })
    expect(f.portId).toMatchObject({subtypeName: 'interface alias', value: 'Uplink to S1'})
    expect(f.systemName).toBe('S2.cisco.com')
    expect(f.systemDescription?.split('\n')).toHaveLength(3)
  })

  it('ipv4 and ipv6 network-address chassis and port IDs, sent to the broadcast address without padding', () => {
    const v4 = byName('ipv4_chassis_and_port_ids')
    const f4 = decodeHex(v4.frame_hex)
    expect([
      (f4.chassisId.value as {address: string}).address,
      (f4.portId.value as {address: string}).address,
      f4.ttl,
    ]).toEqual([v4.expected.chassis_id, v4.expected.port_id, v4.expected.ttl])
    expect(f4.dst).toBe('ff:ff:ff:ff:ff:ff')
    expect(f4.trailer).toHaveLength(0)
    const v6 = byName('ipv6_chassis_and_port_ids')
    const f6 = decodeHex(v6.frame_hex)
    expect([(f6.chassisId.value as {address: string}).address, (f6.portId.value as {address: string}).address]).toEqual(
      [v6.expected.chassis_id, v6.expected.port_id],
    )
  })

  it('network address of an unknown family: the octets after the family octet', () => {
    // The vector's prose says the Port ID family is 0x07; the bytes (04 00 07 aa bb cc) say family 0, address
    // 07aabbcc, which is what scapy's expected raw value and tshark both show.
    const v = byName('network_address_unknown_family')
    const f = decodeHex(v.frame_hex)
    expect(f.chassisId.value).toEqual({family: 0, familyName: 'other', address: v.expected.chassis_id_raw_hex})
    expect(f.portId.value).toEqual({family: 0, familyName: 'other', address: v.expected.port_id_raw_hex})
  })

  it('gh3107: no End TLV, zero padding read as End', () => {
    const v = byName('gh3107_mgmt_addr_no_end_tlv_padded')
    const f = decodeHex(v.frame_hex)
    expect(f.ttl).toBe(v.expected.ttl)
    expect(f.managementAddresses[0].address.address).toBe(v.expected.mgmt_address_ipv4)
    expect(f.tlvs[f.tlvs.length - 1].kind).toBe('end')
    expect(f.warnings).toEqual([])
  })
})

describe('lldpcli (lldpd 1.0.16) on the generated captures', () => {
  type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  const neighbours = (file: string): Json[] => {
    const iface = readJson<Json>(`generated/${file}`).lldp.interface
    return (Array.isArray(iface) ? iface : [iface]).map((i: Json) => i['veth-h0'])
  }
  const frames = async (pcap: string): Promise<LldpFrame[]> =>
    (await readFrames(`${OWN_CORPUS_DIR}generated/${pcap}`))
      .filter((f) => f.data.readUInt16BE(12) === 0x88cc)
      .map((f) => decodeLldpFrame(f.data))

  const unknownTlvBytes = (n: Json): string =>
    String(n['unknown-tlvs']['unknown-tlv'].value).split(',').join('').toLowerCase()

  it('lldpd-tor-to-host.pcap ↔ lldpcli-host-neighbors.json', async () => {
    const [n] = neighbours('lldpcli-host-neighbors.json')
    const f = (await frames('lldpd-tor-to-host.pcap'))[0]
    const [name, chassis] = Object.entries(n.chassis as Json)[0]
    expect(f.systemName).toBe(name)
    expect(f.chassisId.value).toBe(chassis.id.value)
    expect(f.systemDescription).toBe(chassis.descr)
    expect(f.managementAddresses[0].address.address).toBe(chassis['mgmt-ip'])
    expect(String(f.managementAddresses[0].interfaceNumber)).toBe(chassis['mgmt-iface'])
    const caps = (chassis.capability as Json[]).map((c) => [c.type, c.enabled])
    const lldpdName: Record<string, string> = {
      Bridge: 'Bridge',
      Router: 'Router',
      'WLAN AP': 'Wlan',
      'Station Only': 'Station',
    }
    const mine = f.capabilities!.supportedNames.map((s) => [lldpdName[s], f.capabilities!.enabledNames.includes(s)])
    expect(mine.sort()).toEqual(caps.sort())
    expect(f.portId).toMatchObject({subtypeName: 'interface name', value: n.port.id.value})
    expect(f.portDescription).toBe(n.port.descr)
    expect(String(f.ttl)).toBe(n.port.ttl)
    const phy = find(f, 'macPhy')
    expect([phy.autonegSupported, phy.autonegEnabled]).toEqual([
      n.port['auto-negotiation'].supported,
      n.port['auto-negotiation'].enabled,
    ])
    expect(String(n.port['auto-negotiation'].current).startsWith(`${mauTypeName(phy.mauType)} -`)).toBe(true)
  })

  it("the last frame of lldpd-tor-to-host.pcap is lldpd's shutdown LLDPDU", async () => {
    const all = await frames('lldpd-tor-to-host.pcap')
    const last = all[all.length - 1]
    expect(last.isShutdown).toBe(true)
    expect(last.tlvs.map((t) => t.kind)).toEqual(['chassisId', 'portId', 'ttl', 'end'])
  })

  it("lldpd-tor-custom-tlvs.pcap ↔ lldpcli-host-neighbors-custom-tlvs.json (VLAN, EVB as lldpd's unknown TLV)", async () => {
    const [n] = neighbours('lldpcli-host-neighbors-custom-tlvs.json')
    const f = (await frames('lldpd-tor-custom-tlvs.pcap'))[0]
    expect(f.portId).toMatchObject({subtypeName: 'local', value: n.port.id.value})
    expect(f.portDescription).toBe(n.port.descr)
    expect(String(find(f, 'portVlanId').pvid)).toBe(n.vlan['vlan-id'])
    expect(find(f, 'vlanName')).toMatchObject({vid: Number(n.vlan['vlan-id']), name: n.vlan.value})
    const evbTlv = f.tlvs.find((t) => t.kind === 'evb')!
    const octets = encodeTlv(evbTlv)
    const u = n['unknown-tlvs']['unknown-tlv']
    expect(octets.subarray(2, 5).toString('hex')).toBe(String(u.oui).split(',').join('').toLowerCase())
    expect(octets[5]).toBe(Number(u.subtype))
    expect(octets.length - 6).toBe(Number(u.len))
    expect(octets.subarray(6).toString('hex')).toBe(unknownTlvBytes(n))
    expect(f.evb).toEqual(decodeEvbTlv(octets.subarray(2)))
    expect(f.evb).toMatchObject({rrcap: true, rrctr: false, retries: 3, rte: 8, mode: 'bridge', rwd: 20, rka: 20})
  })

  it('lldpd-plus-lldpad-vdp22.pcap ↔ lldpcli-host-neighbors-two-agents.json (nearest bridge and NCB agents)', async () => {
    const [nb, ncb] = neighbours('lldpcli-host-neighbors-two-agents.json')
    const all = (await frames('lldpd-plus-lldpad-vdp22.pcap')).filter((f) => f.src === '02:00:00:00:02:01')
    const nearest = all.filter((f) => f.dst === '01:80:c2:00:00:0e').at(-1)!
    const customer = all.filter((f) => f.dst === '01:80:c2:00:00:00').at(-1)!
    expect(nearest.portId.value).toBe(nb.port.id.value)
    expect(String(nearest.ttl)).toBe(nb.port.ttl)
    expect(
      encodeTlv(nearest.tlvs.find((t) => t.kind === 'evb')!)
        .subarray(6)
        .toString('hex'),
    ).toBe(unknownTlvBytes(nb))
    expect(customer.portId).toMatchObject({subtypeName: 'MAC address', value: ncb.port.id.value})
    expect(String(customer.ttl)).toBe(ncb.port.ttl)
    expect(
      encodeTlv(customer.tlvs.find((t) => t.kind === 'evb')!)
        .subarray(6)
        .toString('hex'),
    ).toBe(unknownTlvBytes(ncb))
    // 03 05 68 74 34: lldpad's bridge after negotiation (docs/wire-notes.md §EVB worked examples).
    expect(customer.evb).toEqual({
      bgid: false,
      rrcap: true,
      rrctr: true,
      sgid: false,
      rrreq: true,
      rrstat: 1,
      retries: 3,
      rte: 8,
      mode: 'bridge',
      rolRwd: true,
      rwd: 20,
      rolRka: true,
      rka: 20,
    })
  })
})

describeWithThirdParty('lldpad test/qbg22 EVB vectors: replies decode to the negotiated values', () => {
  interface Frame {
    payload_hex: string
    expected_reply_tlvs_hex: string[]
  }
  interface Test {
    test: string
    has_remote_shell_step: boolean
    lldpad_conf: {tlvid0080c20d?: Record<string, string>} | null
    frames: Frame[]
  }
  const tests = readJson<{tests: Test[]}>('third-party/openlldp-qbg22/evb22.json').tests

  const evbIn = (hexTlvs: string): string | undefined => /fe090080c20d([0-9a-f]{10})/.exec(hexTlvs)?.[1]

  it('every EVB TLV in the vectors decodes and re-encodes', () => {
    let n = 0
    for (const t of tests) {
      for (const fr of t.frames) {
        for (const hex of [fr.payload_hex, ...fr.expected_reply_tlvs_hex]) {
          const body = evbIn(hex)
          if (!body) continue
          const info = Buffer.from(`0080c20d${body}`, 'hex')
          const decoded = decodeEvbTlv(info)
          expect(encodeTlv({kind: 'evb', type: 127, oui: '00-80-c2', subtype: 13, evb: decoded}).subarray(2)).toEqual(
            info,
          )
          n++
        }
      }
    }
    expect(n).toBeGreaterThan(300)
  })

  // lldpad advertises max(local policy, last received) for R, RTE, RWD, RKA, sets ROL when the peer's value was
  // used, copies the peer's status octet and sends its own mode (docs/wire-notes.md §EVB negotiation). Checking
  // that the expected replies decode that way pins every field position against lldpad's own test expectations.
  const exchanges = (t: Test): Frame[] =>
    t.frames.filter((fr) => evbIn(fr.payload_hex) && fr.expected_reply_tlvs_hex.some(evbIn))
  const stable = tests.filter(
    (t) => !t.has_remote_shell_step && t.lldpad_conf?.tlvid0080c20d?.evbmode && exchanges(t).length > 0,
  )
  for (const t of stable) {
    it(`test ${t.test} (${t.lldpad_conf!.tlvid0080c20d!.evbmode})`, () => {
      const conf = t.lldpad_conf!.tlvid0080c20d!
      const local = {
        retries: Number(conf.ecpretries),
        rte: Number(conf.ecprte),
        rwd: Number(conf.vdprwd),
        rka: Number(conf.vdprka),
      }
      let checked = 0
      for (const fr of t.frames) {
        const peerBody = evbIn(fr.payload_hex)
        const replyBody = fr.expected_reply_tlvs_hex.map(evbIn).find(Boolean)
        if (!peerBody || !replyBody) continue
        const peer = decodeEvbTlv(Buffer.from(`0080c20d${peerBody}`, 'hex'))
        const reply = decodeEvbTlv(Buffer.from(`0080c20d${replyBody}`, 'hex'))
        expect(reply.mode).toBe(conf.evbmode)
        for (const k of ['retries', 'rte', 'rwd', 'rka'] as const)
          expect(reply[k], `${k}`).toBe(Math.max(local[k], peer[k]))
        expect(reply.rolRwd).toBe(peer.rwd >= local.rwd)
        expect(reply.rolRka).toBe(peer.rka >= local.rka)
        const peerStatus = Buffer.from(peerBody, 'hex')[conf.evbmode === 'station' ? 0 : 1]
        expect(Buffer.from(replyBody, 'hex')[conf.evbmode === 'station' ? 0 : 1]).toBe(peerStatus)
        checked++
      }
      expect(checked).toBeGreaterThan(0)
    })
  }
})
