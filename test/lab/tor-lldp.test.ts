import {describe, expect, it} from 'vitest'
import {DEFAULT_TOR_LLDP_TIMERS, TorLldp, type StationChange} from '../../src/lab/tor-lldp.js'
import {DEFAULT_TOR_EVB_POLICY} from '../../src/lab/tor-simulator.js'
import {buildLldpFrame, decodeLldpFrame, type EvbTlv} from '../../src/lldp/index.js'
import {negotiateEvb, type EvbPolicy} from '../../src/lldp-agent/evb-negotiation.js'
import {ManualClock} from '../../src/core/clock.js'
import {seededRandom} from '../../src/lab/vdp-bridge.js'

const TOR = '02:00:00:00:02:01'
const HOST = '02:00:00:00:01:01'
const NCB = '01:80:c2:00:00:00'
const STATION_POLICY: EvbPolicy = {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: true, groupId: true}

/** An LLDPDU from a station as lldpad sends it on its ncb agent. */
function stationFrame({
  evb = negotiateEvb(STATION_POLICY).station,
  ttl = 121,
  mac = HOST,
}: {evb?: EvbTlv | null; ttl?: number; mac?: string} = {}): Buffer {
  return buildLldpFrame({
    dst: NCB,
    src: mac,
    chassisId: {subtype: 4, value: mac},
    portId: {subtype: 3, value: mac},
    ttl,
    ...(evb ? {evb} : {}),
  })
}

function setup() {
  const clock = new ManualClock(1_000_000)
  const sent: {at: number; frame: Buffer}[] = []
  const changes: StationChange[] = []
  const lldp = new TorLldp({
    clock,
    send: (frame) => sent.push({at: clock.now(), frame}),
    localMac: TOR,
    policy: DEFAULT_TOR_EVB_POLICY,
    onStation: (c) => changes.push(c),
  })
  const last = () => decodeLldpFrame(sent[sent.length - 1].frame)
  return {clock, sent, changes, lldp, last}
}

describe('TorLldp: the bridge side of LLDP/EVB', () => {
  it('advertises a switch with a bridge-mode EVB TLV to the nearest-customer-bridge group', () => {
    const {lldp, clock, sent, last} = setup()
    lldp.start()
    expect(sent).toHaveLength(0) // from the timer, never inside start()
    clock.advance(0)
    expect(sent).toHaveLength(1)
    const frame = last()
    expect(frame.dst).toBe(NCB)
    expect(frame.src).toBe(TOR)
    expect(frame.chassisId).toMatchObject({subtype: 4, value: TOR})
    expect(frame.portId).toMatchObject({subtype: 5, value: 'Ethernet1/1'})
    expect(frame.systemName).toBe('tor-sim')
    expect(frame.ttl).toBe(21) // 5 s × hold 4 + 1
    expect(frame.capabilities).toMatchObject({supported: 0x14, enabled: 0x14}) // Bridge + Router
    expect(frame.evb).toEqual({
      bgid: true,
      rrcap: true,
      rrctr: false,
      sgid: false,
      rrreq: false,
      rrstat: 0,
      retries: 3,
      rte: 8,
      mode: 'bridge',
      rolRwd: false,
      rwd: 20,
      rolRka: false,
      rka: 20,
    })
  })

  it('sends fast during the first seconds, then every interval', () => {
    const {lldp, clock, sent} = setup()
    lldp.start()
    clock.advance(20_000)
    const offsets = sent.map((s) => s.at - 1_000_000)
    const {fastCount, fastIntervalMs, intervalMs} = DEFAULT_TOR_LLDP_TIMERS
    const expected = Array.from({length: fastCount}, (_, i) => i * fastIntervalMs)
    for (let t = expected[fastCount - 1] + intervalMs; t <= 20_000; t += intervalMs) expected.push(t)
    expect(offsets).toEqual(expected) // [0, 1000, 2000, 3000, 8000, 13000, 18000]
  })

  it("reflects the station's TLV at once: its status octet echoed, RRCTR set, the larger values, ROL where the station won", () => {
    const {lldp, clock, sent, changes, last} = setup()
    lldp.start()
    clock.advance(3_500)
    const before = sent.length
    const station = negotiateEvb({...STATION_POLICY, rte: 14, rwd: 10, rka: 22}).station
    lldp.receive(stationFrame({evb: station}))
    clock.advance(0)
    expect(sent.length).toBe(before + 1) // the change goes out now, not at the next slot
    expect(last().evb).toEqual({
      bgid: true,
      rrcap: true,
      rrctr: true,
      sgid: true,
      rrreq: true,
      rrstat: 3,
      retries: 3,
      rte: 14,
      mode: 'bridge',
      rolRwd: false,
      rwd: 20,
      rolRka: true,
      rka: 22,
    })
    expect(changes).toEqual([
      {
        change: 'appeared',
        station: {mac: HOST, evb: station, expiresAt: clock.now() + 121_000},
        negotiated: {retries: 3, rte: 14, rwd: 20, rka: 22, groupIds: true, reflectiveRelay: true},
      },
    ])
    expect(lldp.negotiated).toEqual({retries: 3, rte: 14, rwd: 20, rka: 22, groupIds: true, reflectiveRelay: true})
    // then a fast run again: 1 s later another LLDPDU, though the regular interval is 5 s
    const at = clock.now()
    clock.advance(1_000)
    expect(sent.at(-1)?.at).toBe(at + 1_000)
  })

  it('a repeated LLDPDU only refreshes; a changed station TLV is reported as changed', () => {
    const {lldp, clock, changes} = setup()
    lldp.start()
    const first = negotiateEvb(STATION_POLICY).station
    lldp.receive(stationFrame({evb: first}))
    clock.advance(100_000)
    lldp.receive(stationFrame({evb: first})) // refresh: the TTL starts again
    clock.advance(100_000)
    expect(changes.map((c) => c.change)).toEqual(['appeared'])
    // the station has now heard our TLV and reports RR enabled (RRSTAT 1)
    const second = negotiateEvb(STATION_POLICY, negotiateEvbBridgeTlv()).station
    lldp.receive(stationFrame({evb: second}))
    expect(changes.map((c) => c.change)).toEqual(['appeared', 'changed'])
    expect(lldp.heardStation?.evb.rrstat).toBe(1)
    expect(lldp.counters).toMatchObject({rxFrames: 3, rxStationFrames: 3, stationChanges: 2})
  })

  it('forgets the station on a shutdown LLDPDU, on TTL expiry, and when its EVB TLV is withdrawn', () => {
    const {lldp, clock, changes, last} = setup()
    lldp.start()
    lldp.receive(stationFrame())
    lldp.receive(stationFrame({ttl: 0}))
    lldp.receive(stationFrame({ttl: 10}))
    clock.advance(9_999)
    expect(lldp.heardStation).toBeDefined()
    clock.advance(1)
    expect(lldp.heardStation).toBeUndefined()
    lldp.receive(stationFrame())
    lldp.receive(stationFrame({evb: null}))
    expect(changes.map((c) => (c.change === 'gone' ? `gone:${c.reason}` : c.change))).toEqual([
      'appeared',
      'gone:shutdown',
      'appeared',
      'gone:expired',
      'appeared',
      'gone:evb-withdrawn',
    ])
    clock.advance(0)
    expect(last().evb).toMatchObject({rrctr: false, sgid: false, rrreq: false, rka: 20}) // back to our own policy
    expect(lldp.negotiated).toBeUndefined()
  })

  it('ignores LLDPDUs of others (no EVB, a bridge EVB, our own) without disturbing the station', () => {
    const {lldp, changes} = setup()
    lldp.start()
    lldp.receive(stationFrame())
    lldp.receive(stationFrame({evb: null, mac: '02:00:00:00:09:09'})) // lldpd on the same link
    lldp.receive(stationFrame({ttl: 0, mac: '02:00:00:00:09:09'})) // its shutdown
    lldp.receive(stationFrame({evb: negotiateEvbBridgeTlv(), mac: '02:00:00:00:09:0a'})) // another bridge
    lldp.receive(stationFrame({mac: TOR})) // what the socket shows of our own transmissions
    expect(changes.map((c) => c.change)).toEqual(['appeared'])
    expect(lldp.heardStation?.mac).toBe(HOST)
    expect(lldp.counters).toMatchObject({rxIgnored: 3, rxStationFrames: 1})
  })

  it('counts garbage and truncated LLDPDUs and never throws', () => {
    const {lldp, changes} = setup()
    lldp.start()
    const random = seededRandom(42)
    const good = stationFrame()
    let garbage = 0
    for (let i = 0; i < 500; i++) {
      const frame = Buffer.from(good.subarray(0, Math.floor(random() * good.length)))
      for (let j = 14; j < frame.length; j++) if (random() < 0.05) frame[j] = Math.floor(random() * 256)
      expect(() => lldp.receive(frame)).not.toThrow()
      garbage++
    }
    lldp.receive(Buffer.alloc(0))
    lldp.receive(Buffer.from('not a frame'))
    expect(lldp.counters.rxFrames).toBe(garbage + 2)
    expect(lldp.counters.rxDiscarded).toBeGreaterThan(0)
    // whatever the garbage did, a good LLDPDU is still understood
    lldp.receive(good)
    expect(lldp.heardStation?.mac).toBe(HOST)
    expect(changes.length).toBeGreaterThan(0)
  })

  it('stop sends a shutdown LLDPDU (TTL 0: chassis, port, TTL only), then nothing more', () => {
    const {lldp, clock, sent, last} = setup()
    lldp.start()
    clock.advance(2_500)
    const before = sent.length
    lldp.stop()
    expect(sent.length).toBe(before + 1)
    const shutdown = last()
    expect(shutdown.ttl).toBe(0)
    expect(shutdown.tlvs.map((t) => t.kind)).toEqual(['chassisId', 'portId', 'ttl', 'end'])
    clock.advance(60_000)
    lldp.receive(stationFrame())
    expect(sent.length).toBe(before + 1)
    expect(lldp.heardStation).toBeUndefined()
    lldp.stop()
    expect(sent.length).toBe(before + 1) // idempotent
  })

  it('a send failure is counted and the schedule goes on', () => {
    const clock = new ManualClock()
    let fail = true
    let delivered = 0
    const lldp = new TorLldp({
      clock,
      localMac: TOR,
      policy: DEFAULT_TOR_EVB_POLICY,
      send: () => {
        if (fail) throw new Error('ENETDOWN')
        delivered++
      },
    })
    lldp.start()
    clock.advance(1_000)
    fail = false
    clock.advance(1_000)
    expect(lldp.counters).toMatchObject({txErrors: 2, txFrames: 1})
    expect(delivered).toBe(1)
  })
})

/** The TLV a bridge with our default policy sends to a station with STATION_POLICY. */
function negotiateEvbBridgeTlv(): EvbTlv {
  return {
    bgid: true,
    rrcap: true,
    rrctr: true,
    sgid: true,
    rrreq: true,
    rrstat: 3,
    retries: 3,
    rte: 8,
    mode: 'bridge',
    rolRwd: true,
    rwd: 20,
    rolRka: true,
    rka: 20,
  }
}

describe('TorLldp behaves as lldpad does (issue 10 items 4 and 8)', () => {
  it('a new neighbour on the nearest-customer-bridge agent makes it transmit at once (802.1AB fast start)', () => {
    const {lldp, clock, sent} = setup()
    lldp.start()
    clock.advance(30_000) // past the fast start: every 5 s now
    const before = sent.length
    clock.advance(1000) // the next periodic LLDPDU is ~4 s away
    expect(sent.length).toBe(before)
    lldp.receive(stationFrame({evb: null})) // a new neighbour, no EVB TLV (the daemon's start-up announcement)
    clock.advance(0)
    expect(sent.length).toBe(before + 1)
    lldp.receive(stationFrame({evb: null})) // the same neighbour again: nothing new
    clock.advance(0)
    expect(sent.length).toBe(before + 1)
  })

  it('takes the EVB TLV only from the nearest-customer-bridge agent (lldpad runs EVB22 there only)', () => {
    const {lldp, changes} = setup()
    lldp.start()
    const toNearestBridge = stationFrame()
    toNearestBridge[5] = 0x0e // 01:80:c2:00:00:0e
    lldp.receive(toNearestBridge)
    expect(changes).toEqual([])
    expect(lldp.heardStation).toBeUndefined()
    lldp.receive(stationFrame())
    expect(changes.map((c) => c.change)).toEqual(['appeared'])
  })

  it('plain LLDP from the station to another agent does not withdraw its EVB TLV', () => {
    const {lldp, changes} = setup()
    lldp.start()
    lldp.receive(stationFrame())
    const plain = stationFrame({evb: null})
    plain[5] = 0x0e
    lldp.receive(plain)
    expect(changes.map((c) => c.change)).toEqual(['appeared'])
  })
})
