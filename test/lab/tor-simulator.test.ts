import {describe, expect, it} from 'vitest'
import {segmentVid, seededRandom} from '../../src/lab/vdp-bridge.js'
import {negotiateEvb} from '../../src/lldp-agent/evb-negotiation.js'
import {
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  NEAREST_BRIDGE,
  NEAREST_CUSTOMER_BRIDGE,
  NEAREST_NON_TPMR_BRIDGE,
} from '../../src/core/ethernet.js'
import {FrameIoError, MemoryFrameIO} from '../../src/net/frames.js'
import {encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {toutKeepAlive} from '../../src/vdp/timers.js'
import {vsiidKey} from '../../src/vdp/vsiid.js'
import {TorSimulator} from '../../src/lab/tor-simulator.js'
import {dfaRequest, macFor, vsiidFor} from '../vdp/helpers/link.js'
import {HOST, STATION_POLICY, TOR, torHarness} from './tor-harness.js'

describe('TorSimulator on an in-memory wire', () => {
  it('listens on the three LLDP groups and the nearest-customer-bridge group, and advertises an EVB bridge', async () => {
    const t = torHarness()
    t.sim.start()
    await t.settle()
    expect(t.torIo.memberships('t0')).toEqual([NEAREST_CUSTOMER_BRIDGE, NEAREST_NON_TPMR_BRIDGE, NEAREST_BRIDGE].sort())
    expect(t.heard).toHaveLength(1)
    expect(t.heard[0]).toMatchObject({
      src: TOR,
      dst: NEAREST_CUSTOMER_BRIDGE,
      systemName: 'tor-sim',
      evb: {mode: 'bridge', bgid: true, rrcap: true},
    })
    expect(t.sim.status()).toMatchObject({state: 'running', vsis: 0, requireStationEvb: true})
    expect(t.sim.status().station).toBeUndefined()
  })

  it("ignores ECP until the station's EVB TLV arrives (no ACK), then assigns the VLAN of the segment policy", async () => {
    const t = torHarness()
    t.sim.start()
    const {station, transport} = t.newStation()
    station.associate(dfaRequest(1, 20000))
    await t.settle(20) // 1 + R transmissions, T(RTE) apart, all unanswered
    expect(transport.counters).toMatchObject({txPdus: 1, retransmissions: 3, acksReceived: 0, giveUps: 1})
    expect(t.sim.status().counters.ecp).toEqual({received: 4, ignoredBeforeEvb: 4})
    expect(t.sim.status().counters.transport.acksSent).toBe(0)

    t.announce()
    await t.settle()
    expect(t.of('station')).toMatchObject([
      {change: 'appeared', stationMac: HOST, negotiated: {groupIds: true, reflectiveRelay: true}},
    ])
    station.associate(dfaRequest(2, 3003))
    await t.settle(10)
    expect(t.stationOf('associated')).toMatchObject([{key: vsiidKey(vsiidFor(2)), vids: [3003], requestedVids: [0]}])
    expect(t.of('associated')).toEqual([
      {
        type: 'associated',
        vsiid: vsiidKey(vsiidFor(2)),
        vids: [3003],
        macs: [macFor(2)],
        groupIds: [3003],
        first: true,
      },
    ])
    expect(t.sim.vsis().map((v) => [v.key, v.vids])).toEqual([[vsiidKey(vsiidFor(2)), [3003]]])
    expect(segmentVid(20000)).toBe(3628) // what VSI 1 would have got
  })

  it('runs the VDP bridge with the values negotiated with the station, and re-advertises at once', async () => {
    const t = torHarness()
    t.sim.start()
    await t.settle()
    const evb = negotiateEvb({...STATION_POLICY, rte: 10, rka: 22}).station
    t.announce({evb})
    await t.settle()
    expect(t.sim.status().params).toEqual({retries: 3, rte: 10, rwd: 20, rka: 22})
    expect(t.heard).toHaveLength(2) // the change did not wait for the next 1 s slot
    expect(t.heard[1].evb).toMatchObject({
      mode: 'bridge',
      rte: 10,
      rka: 22,
      rolRka: true,
      rrctr: true,
      sgid: true,
      rrstat: 3,
    })
    const {station} = t.newStation()
    station.setParams({retries: 3, rte: 10, rwd: 20, rka: 22})
    station.associate(dfaRequest(1, 100))
    await t.settle(30)
    const vsi = t.sim.vsi(vsiidFor(1))
    expect(vsi?.vids).toEqual([100])
    // the keep-alive deadline follows the negotiated R, RTE and RKA, not our own policy's
    expect((vsi?.expiresAt ?? 0) - t.clock.now()).toBeGreaterThan(toutKeepAlive(3, 10, 22) - 30)
    expect((vsi?.expiresAt ?? 0) - t.clock.now()).toBeLessThanOrEqual(toutKeepAlive(3, 10, 22))
  })

  it('pool policy: the lowest free VLAN per group, shared within a group, error 2 when exhausted', async () => {
    const t = torHarness({vlanPolicy: {kind: 'pool', from: 100, to: 101}})
    t.sim.start()
    t.announce()
    await t.settle()
    const {station} = t.newStation()
    station.associateMany([dfaRequest(1, 5), dfaRequest(2, 6), dfaRequest(3, 5), dfaRequest(4, 7)])
    await t.settle(30)
    expect(Object.fromEntries(t.stationOf('associated').map((e) => [e.key, e.vids[0]]))).toEqual({
      [vsiidKey(vsiidFor(1))]: 100,
      [vsiidKey(vsiidFor(2))]: 101,
      [vsiidKey(vsiidFor(3))]: 100,
    })
    expect(t.stationOf('failed')).toMatchObject([{key: vsiidKey(vsiidFor(4)), reason: 'rejected', code: 2}])
    expect(t.of('rejected')).toEqual([{type: 'rejected', vsiid: vsiidKey(vsiidFor(4)), code: 2, keep: false}])
  })

  it('a station that leaves stops ECP again; back with its old sequence numbers, its first ECPDU is still new', async () => {
    const t = torHarness()
    t.sim.start()
    t.announce()
    await t.settle()
    const first = t.newStation(1)
    first.station.associate(dfaRequest(1, 300))
    await t.settle(10)
    expect(first.transport.counters).toMatchObject({txPdus: 1, acked: 1})

    t.announce({ttl: 0})
    await t.settle()
    expect(t.of('station').map((e) => e.change)).toEqual(['appeared', 'gone'])
    expect(t.sim.status().station).toBeUndefined()

    const restarted = t.newStation(1) // the same first sequence number the bridge delivered last
    t.announce()
    await t.settle()
    restarted.station.associate(dfaRequest(2, 301))
    await t.settle(10)
    expect(restarted.transport.counters.acked).toBe(1)
    expect(t.sim.status().counters.transport.duplicates).toBe(0)
    expect(t.stationOf('associated').map((e) => e.vids[0])).toEqual([300, 301])
  })

  it('with requireStationEvb off, ECP is answered before any LLDP from the station', async () => {
    const t = torHarness({requireStationEvb: false})
    t.sim.start()
    const {station} = t.newStation()
    station.associate(dfaRequest(1, 42))
    await t.settle(10)
    expect(t.stationOf('associated')).toMatchObject([{vids: [42]}])
    expect(t.sim.status().counters.ecp.ignoredBeforeEvb).toBe(0)
  })

  it('counts garbage LLDP and ECP frames, never fails on them, and keeps serving', async () => {
    const t = torHarness()
    t.sim.start()
    t.announce()
    await t.settle()
    const random = seededRandom(7)
    const bytes = (n: number) => Buffer.from(Array.from({length: n}, () => Math.floor(random() * 256)))
    const header = (ethertype: number) =>
      Buffer.from(`0180c2000000${HOST.replaceAll(':', '')}${ethertype.toString(16)}`, 'hex')
    for (let i = 0; i < 200; i++) {
      for (const ethertype of [ETHERTYPE_LLDP, ETHERTYPE_ECP]) {
        t.sendRaw(ethertype, Buffer.concat([header(ethertype), bytes(Math.floor(random() * 80))]))
      }
    }
    // a well-formed ECPDU whose VDPDU is cut short inside its Manager ID TLV
    t.sendRaw(
      ETHERTYPE_ECP,
      encodeEcpFrame({
        dst: NEAREST_CUSTOMER_BRIDGE,
        src: HOST,
        operation: 'request',
        subtype: 1,
        sequence: 999,
        ulpdu: Buffer.from('0a1000', 'hex'),
        padTo: 0,
      }),
    )
    await t.settle()
    const c = t.sim.status().counters
    expect(c.lldp.rxDiscarded).toBeGreaterThan(150)
    expect(c.transport.dropped).toBeGreaterThan(150)
    expect(c.bridge.malformedPdus).toBeGreaterThanOrEqual(1)
    const {station} = t.newStation(2000)
    station.associate(dfaRequest(1, 77))
    await t.settle(10)
    expect(t.stationOf('associated')).toMatchObject([{vids: [77]}])
  })

  it('stop sends a shutdown LLDPDU, leaves the groups and answers nothing more', async () => {
    const t = torHarness({requireStationEvb: false})
    t.sim.start()
    await t.settle()
    t.sim.stop()
    await t.settle()
    expect(t.heard.at(-1)).toMatchObject({ttl: 0, isShutdown: true})
    expect(t.torIo.memberships('t0')).toEqual([])
    const {transport} = t.newStation()
    transport.enqueue(1, Buffer.alloc(10), () => {})
    await t.settle(20)
    expect(transport.counters.acksReceived).toBe(0)
    expect(t.sim.status().state).toBe('stopped')
    t.sim.stop() // idempotent
  })

  it('start fails with the socket error on a missing interface and leaves nothing open', () => {
    const io = new MemoryFrameIO()
    const sim = new TorSimulator({frames: io, ifname: 'nope0', localMac: TOR})
    expect(() => sim.start()).toThrow(FrameIoError)
    expect(sim.status().state).toBe('idle')
  })

  it('refuses a bad interface name or MAC at construction', () => {
    const io = new MemoryFrameIO()
    expect(() => new TorSimulator({frames: io, ifname: 'a/b', localMac: TOR})).toThrow(
      expect.objectContaining({code: 'INVALID_IFNAME'}),
    )
    expect(() => new TorSimulator({frames: io, ifname: 't0', localMac: 'nope'})).toThrow(
      expect.objectContaining({code: 'INVALID_MAC'}),
    )
  })
})
