/**
 * Realistic, varied LLDPDUs for the benchmark: ToR switches (EVB bridge, VLANs, 802.3), hosts talking to
 * the NCB (EVB station), Linux servers (lldpd-like), DCB switches (ETS/PFC/application priority), IP phones
 * (LLDP-MED), shutdowns and 802.1Q-tagged frames, every one with its own addresses and names. Deterministic
 * (seeded PRNG) so runs are comparable.
 *
 * LldpTraffic models a capture: a population of speakers, each repeating its LLDPDU (as real agents do every
 * 30 s), some changing state (EVB negotiation, shutdown) as they go. A million distinct speakers would be
 * unrealistic, and would also be unfair to tcpdump, whose MAC-to-name cache is a 4096-bucket hash table.
 */
import {buildLldpFrame, type EvbTlv, type LldpTlv} from '../src/lldp/index.js'

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class FrameFactory {
  private readonly rand: () => number
  constructor(seed = 1) {
    this.rand = prng(seed)
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n)
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  private mac(oui = '02:00:5e'): string {
    const b = () => this.int(256).toString(16).padStart(2, '0')
    return `${oui}:${b()}:${b()}:${b()}`
  }

  private evb(mode: 'bridge' | 'station'): EvbTlv {
    const rr = this.rand() < 0.5
    return {
      bgid: false,
      rrcap: mode === 'bridge' && rr,
      rrctr: mode === 'bridge' && rr && this.rand() < 0.5,
      sgid: false,
      rrreq: mode === 'station' && rr,
      rrstat: this.pick([0, 1, 3] as const),
      retries: this.int(8),
      rte: 8 + this.int(12),
      mode,
      rolRwd: this.rand() < 0.3,
      rwd: 14 + this.int(8),
      rolRka: this.rand() < 0.3,
      rka: 14 + this.int(8),
    }
  }

  private dot3(): LldpTlv[] {
    return [
      {
        kind: 'macPhy',
        type: 127,
        oui: '00-12-0f',
        subtype: 1,
        autoneg: 3,
        autonegSupported: true,
        autonegEnabled: true,
        pmdCapability: this.pick([0x6c01, 0x8000, 0x0001, 0x6c00]),
        mauType: this.pick([16, 30, 54, 0]),
      },
      {kind: 'maxFrameSize', type: 127, oui: '00-12-0f', subtype: 4, maxFrameSize: this.pick([1518, 1522, 9216])},
    ]
  }

  private vlans(): LldpTlv[] {
    const pvid = 1 + this.int(4000)
    const out: LldpTlv[] = [{kind: 'portVlanId', type: 127, oui: '00-80-c2', subtype: 1, pvid}]
    for (let i = 0, n = this.int(4); i < n; i++) {
      const vid = 1 + this.int(4000)
      out.push({
        kind: 'vlanName',
        type: 127,
        oui: '00-80-c2',
        subtype: 3,
        vid,
        name: `tenant-${vid}`,
        nameEncoding: 'utf8',
      })
    }
    return out
  }

  /** One frame of a random kind. */
  next(): Buffer {
    const r = this.rand()
    const tagged =
      this.rand() < 0.1 ? [{tpid: 0x8100, pcp: this.int(8), dei: false, vid: 1 + this.int(4094)}] : undefined
    if (r < 0.3) return this.torSwitch(tagged)
    if (r < 0.55) return this.hostStation(tagged)
    if (r < 0.72) return this.linuxServer(tagged)
    if (r < 0.82) return this.dcbSwitch(tagged)
    if (r < 0.95) return this.phone(tagged)
    return this.shutdown()
  }

  private torSwitch(vlanTags?: {tpid: number; pcp: number; dei: boolean; vid: number}[]): Buffer {
    const chassis = this.mac('00:1c:73')
    const port = this.int(48) + 1
    const extra: LldpTlv[] = [...this.vlans(), ...this.dot3()]
    if (this.rand() < 0.5)
      extra.push({
        kind: 'linkAggregation',
        type: 127,
        oui: '00-80-c2',
        subtype: 7,
        status: 1,
        capable: true,
        enabled: false,
        portType: 0,
        portId: 0,
      })
    if (this.rand() < 0.2)
      extra.push({
        kind: 'cdcp',
        type: 127,
        oui: '00-80-c2',
        subtype: 14,
        cdcp: {role: 0, scomp: false, channelCapacity: 167, channels: [{scid: 1, svid: 1 + this.int(4000)}]},
      })
    return buildLldpFrame({
      dst: '01:80:c2:00:00:0e',
      src: chassis,
      vlanTags,
      chassisId: {subtype: 4, value: chassis},
      portId: {subtype: 5, value: `Ethernet1/${port}`},
      ttl: 120,
      portDescription: `Ethernet1/${port} to rack${this.int(40)}-host${this.int(48)}`,
      systemName: `tor-${this.int(100)}.dc${this.int(4)}.example.net`,
      systemDescription: `Arista Networks EOS version 4.${20 + this.int(10)}.${this.int(9)}F running on an Arista Networks DCS-7050SX3-48YC8`,
      capabilities: {supported: ['Bridge', 'Router'], enabled: ['Bridge', 'Router']},
      managementAddresses: [
        {address: `10.${this.int(256)}.${this.int(256)}.${this.int(256)}`, interfaceNumber: 1 + this.int(100)},
      ],
      evb: this.rand() < 0.6 ? this.evb('bridge') : undefined,
      extraTlvs: extra,
    })
  }

  private hostStation(vlanTags?: {tpid: number; pcp: number; dei: boolean; vid: number}[]): Buffer {
    const mac = this.mac('52:54:00')
    return buildLldpFrame({
      dst: '01:80:c2:00:00:00',
      src: mac,
      vlanTags,
      chassisId: {subtype: 4, value: mac},
      portId: {subtype: 3, value: mac},
      ttl: 120,
      systemName: this.rand() < 0.5 ? `compute-${this.int(2000)}` : undefined,
      capabilities: this.rand() < 0.5 ? {supported: 0x0080, enabled: 0x0080} : undefined,
      evb: this.evb('station'),
    })
  }

  private linuxServer(vlanTags?: {tpid: number; pcp: number; dei: boolean; vid: number}[]): Buffer {
    const mac = this.mac('3c:fd:fe')
    const nic = this.pick(['eno1', 'eno2', 'ens1f0', 'ens1f1', 'enp65s0f0np0'])
    return buildLldpFrame({
      dst: '01:80:c2:00:00:0e',
      src: mac,
      vlanTags,
      chassisId: {subtype: 4, value: mac},
      portId: {subtype: 5, value: nic},
      ttl: 120,
      portDescription: nic,
      systemName: `node${this.int(5000)}.compute.example.net`,
      systemDescription: `Debian GNU/Linux 12 (bookworm) Linux 6.1.0-${10 + this.int(20)}-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.${50 + this.int(70)}-1 x86_64`,
      capabilities: {supported: ['Bridge', 'WLAN AP', 'Router', 'Station Only'], enabled: ['Station Only']},
      managementAddresses: [
        {address: `192.168.${this.int(256)}.${this.int(256)}`, interfaceNumber: 2},
        {address: `2001:db8:${this.int(65536).toString(16)}::${this.int(65536).toString(16)}`, interfaceNumber: 2},
      ],
      extraTlvs: [
        {
          kind: 'dot3LinkAggregation',
          type: 127,
          oui: '00-12-0f',
          subtype: 3,
          status: 1,
          capable: true,
          enabled: false,
          portType: 0,
          portId: 0,
        },
        ...this.dot3(),
      ],
    })
  }

  private dcbSwitch(vlanTags?: {tpid: number; pcp: number; dei: boolean; vid: number}[]): Buffer {
    const mac = this.mac('08:00:27')
    const tables = () => ({
      priorityAssignment: Array.from({length: 8}, () => this.int(8)),
      tcBandwidth: [50, 50, 0, 0, 0, 0, 0, 0],
      tsaAssignment: [2, 2, 0, 0, 0, 0, 0, 0],
    })
    return buildLldpFrame({
      dst: '01:80:c2:00:00:0e',
      src: mac,
      vlanTags,
      chassisId: {subtype: 4, value: mac},
      portId: {subtype: 3, value: mac},
      ttl: 120,
      extraTlvs: [
        ...this.vlans(),
        {
          kind: 'etsConfiguration',
          type: 127,
          oui: '00-80-c2',
          subtype: 9,
          willing: this.rand() < 0.5,
          cbs: false,
          reserved: 0,
          maxTcs: 3,
          ...tables(),
        },
        {kind: 'etsRecommendation', type: 127, oui: '00-80-c2', subtype: 10, reserved: 0, ...tables()},
        {
          kind: 'pfcConfiguration',
          type: 127,
          oui: '00-80-c2',
          subtype: 11,
          willing: false,
          mbc: false,
          reserved: 0,
          pfcCapability: 8,
          pfcEnable: 1 << this.int(8),
        },
        {
          kind: 'applicationPriority',
          type: 127,
          oui: '00-80-c2',
          subtype: 12,
          reserved: 0,
          entries: [
            {priority: 3, reserved: 0, selector: 2, protocolId: 3260},
            {priority: 4, reserved: 0, selector: 1, protocolId: 0x8906},
          ],
        },
      ],
    })
  }

  private phone(vlanTags?: {tpid: number; pcp: number; dei: boolean; vid: number}[]): Buffer {
    const mac = this.mac('00:04:f2')
    return buildLldpFrame({
      dst: '01:80:c2:00:00:0e',
      src: mac,
      vlanTags,
      chassisId: {subtype: 5, value: `10.20.${this.int(256)}.${this.int(256)}`},
      portId: {subtype: 3, value: mac},
      ttl: 180,
      systemName: `SEP${mac.replace(/:/g, '').toUpperCase()}`,
      systemDescription: 'Polycom VVX 450 SIP/6.4.3',
      capabilities: {supported: ['Bridge', 'Telephone'], enabled: ['Telephone']},
      extraTlvs: [
        {
          kind: 'medCapabilities',
          type: 127,
          oui: '00-12-bb',
          subtype: 1,
          capabilities: 0x33,
          capabilityNames: [],
          deviceType: 3,
        },
        {
          kind: 'medNetworkPolicy',
          type: 127,
          oui: '00-12-bb',
          subtype: 2,
          applicationType: 1,
          unknownPolicy: false,
          tagged: true,
          reserved: 0,
          vlanId: 100 + this.int(100),
          l2Priority: 5,
          dscp: 46,
        },
        {
          kind: 'medLocation',
          type: 127,
          oui: '00-12-bb',
          subtype: 3,
          dataFormat: 2,
          location: {
            format: 'civic',
            what: 2,
            countryCode: 'US',
            elements: [
              {caType: 3, value: 'Roseville', encoding: 'utf8'},
              {caType: 19, value: String(1000 + this.int(9000)), encoding: 'utf8'},
            ],
            trailing: undefined,
          },
        },
        {
          kind: 'medExtendedPower',
          type: 127,
          oui: '00-12-bb',
          subtype: 4,
          typeSourcePriority: 0x53,
          powerType: 1,
          powerSource: 1,
          powerPriority: 3,
          powerValue: 40 + this.int(100),
        },
        {
          kind: 'medInventory',
          type: 127,
          oui: '00-12-bb',
          subtype: 5,
          field: 'hardwareRevision',
          value: `Rev ${this.int(10)}`,
          encoding: 'utf8',
        },
        {
          kind: 'medInventory',
          type: 127,
          oui: '00-12-bb',
          subtype: 8,
          field: 'serialNumber',
          value: `SN${this.int(1e9)}`,
          encoding: 'utf8',
        },
        {
          kind: 'powerViaMdi',
          type: 127,
          oui: '00-12-0f',
          subtype: 2,
          mdiPowerSupport: 0,
          portClass: 'pd',
          mdiPowerSupported: true,
          mdiPowerEnabled: true,
          pairControlAbility: false,
          psePowerPair: 1,
          powerClass: 3,
          dot3at: undefined,
          dot3bt: undefined,
        },
      ],
    })
  }

  private shutdown(): Buffer {
    const mac = this.mac('52:54:00')
    return buildLldpFrame({
      dst: '01:80:c2:00:00:00',
      src: mac,
      chassisId: {subtype: 4, value: mac},
      portId: {subtype: 5, value: `eth${this.int(4)}`},
      ttl: 0,
    })
  }
}

export class LldpTraffic {
  private readonly factory: FrameFactory
  private readonly rand: () => number
  private readonly speakers: Buffer[] = []

  constructor(speakers = 20_000, seed = 1) {
    this.factory = new FrameFactory(seed)
    this.rand = prng(seed ^ 0x5eed)
    for (let i = 0; i < speakers; i++) this.speakers.push(this.factory.next())
  }

  /** The next frame on the wire: a speaker's repeat, and one time in twenty a speaker with new state. */
  next(): Buffer {
    const i = Math.floor(this.rand() * this.speakers.length)
    if (this.rand() < 0.05) this.speakers[i] = this.factory.next()
    return this.speakers[i]
  }
}
