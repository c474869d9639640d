/**
 * Issue 9 in protocol time: restarts and faults of either side, station against the strict ToR bridge
 * (lldpad's rules: a known VSI asked with another filter gets no answer), on the manual clock.
 */
import {describe, expect, it} from 'vitest'
import {VdpBridge, type VdpBridgeOptions} from '../../src/lab/vdp-bridge.js'
import {ManualClock} from '../../src/core/clock.js'
import {decodeEcpFrame, encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {EcpTransport} from '../../src/vdp/ecp-transport.js'
import {NULL_MANAGER_ID} from '../../src/vdp/manager-id.js'
import {lldpadPeerProfile, type PeerProfile} from '../../src/vdp/peer-profile.js'
import {VdpStation, keepaliveWait, type VsiEvent} from '../../src/vdp/station.js'
import {
  CISCO_LEAF_DEFAULT_EVB,
  LLDPAD_DEFAULT_EVB,
  evbTime,
  respWaitDelay,
  toutKeepAlive,
} from '../../src/vdp/timers.js'
import {decodeVdpdu, encodeVdpdu, type VsiTlv} from '../../src/vdp/vdp-codec.js'
import {BRIDGE, STATION, dfaRequest, vsiidFor} from './helpers/link.js'
import type {EvbValues} from '../../src/model/evb.js'

const EVB = LLDPAD_DEFAULT_EVB
const RKA = evbTime(EVB.rka)
const TOUT = toutKeepAlive(EVB.retries, EVB.rte, EVB.rka)
const RESP_WAIT = respWaitDelay(EVB.retries, EVB.rte, EVB.rwd)

/** One bridge and a station that can be "restarted" (a new station and transport, same bridge). */
function lab(options: {evb?: EvbValues; peer?: PeerProfile; bridge?: Partial<VdpBridgeOptions>} = {}) {
  const clock = new ManualClock()
  const evb = options.evb ?? EVB
  const link = {toBridge: true, toStation: true}
  const events: VsiEvent[] = []
  let silentCalls = 0
  let station!: VdpStation
  let transport!: EcpTransport
  const makeBridge = (extra: Partial<VdpBridgeOptions> = {}) =>
    new VdpBridge({
      clock,
      send: (f) => link.toStation && clock.setTimer(0.05, () => transport.receive(f)),
      localMac: BRIDGE,
      evb,
      strictFilter: true,
      ...options.bridge,
      ...extra,
    })
  let bridge = makeBridge()
  const startStation = (held = false) => {
    transport?.close()
    station?.close()
    transport = new EcpTransport({
      clock,
      send: (f) => link.toBridge && clock.setTimer(0.05, () => bridge.receive(f)),
      localMac: STATION,
      params: evb,
    })
    station = new VdpStation({
      clock,
      transport,
      evb,
      peer: options.peer,
      held,
      onEvent: (e) => events.push(e),
      onBridgeSilent: () => silentCalls++,
    })
    return station
  }
  startStation()
  return {
    clock,
    link,
    events,
    get station() {
      return station
    },
    get transport() {
      return transport
    },
    get bridge() {
      return bridge
    },
    get silentCalls() {
      return silentCalls
    },
    startStation,
    /** The switch's LLDP/VDP process restarts: a new bridge, empty or with the old one's VSIs. */
    restartBridge(keepState: boolean) {
      const snapshot = bridge.snapshot()
      bridge.close()
      bridge = makeBridge()
      if (keepState) bridge.restore(snapshot)
    },
    of: (type: VsiEvent['type'], key?: string) =>
      events.filter((e) => e.type === type && (key === undefined || e.key === key)),
  }
}

describe('case 1: a restarted station asks for the VLAN it was given', () => {
  it('the recorded VID is confirmed at once and carried by every keep-alive; VID 0 would wedge the VSI', () => {
    const t = lab()
    t.station.associate(dfaRequest(1))
    t.clock.advance(1)
    expect(t.of('associated')[0]).toMatchObject({vids: [3628]})
    // Restart within one keep-alive timeout, asking for the recorded VLAN (what the daemon does now).
    t.startStation()
    const started = t.clock.now()
    t.station.associate(dfaRequest(1, 20000, 3628))
    t.clock.advance(1)
    const again = t.of('associated').at(-1)!
    expect(again).toMatchObject({vids: [3628], requestedVids: [3628]})
    expect(again.at - started).toBeLessThan(1) // one round trip
    t.clock.advance(3 * RKA)
    expect(t.bridge.counters.keepalives).toBeGreaterThanOrEqual(3)
    expect(t.bridge.counters.ignoredMismatches).toBe(0)
    expect(t.bridge.counters.expired).toBe(0)

    // Before the fix: VID 0 after the restart. The strict bridge says nothing and stops the VSI's timer.
    t.startStation()
    t.station.associate(dfaRequest(1))
    t.clock.advance(RESP_WAIT + 1)
    expect(t.bridge.counters.ignoredMismatches).toBe(1)
    expect(t.of('failed').at(-1)).toMatchObject({reason: 'timeout'})
    expect(t.bridge.get(vsiidFor(1))).toMatchObject({wedged: true, vids: [3628]})
    expect(t.bridge.get(vsiidFor(1))?.expiresAt).toBeUndefined()
  })
})

describe('case 2: one unanswered request never costs the other VSIs their association', () => {
  it('with the lldpad profile, keep-alives of the others flow while a request the bridge ignores waits', () => {
    const t = lab({peer: lldpadPeerProfile(EVB)})
    // VSI 4 is held by the bridge with VLAN 3628 from an earlier life; asking for 100 is ignored (lldpad).
    t.station.associate(dfaRequest(4))
    t.clock.advance(1)
    t.startStation()
    for (const n of [1, 2, 3]) t.station.associate(dfaRequest(n))
    t.clock.advance(1)
    expect(t.of('associated').filter((e) => e.key !== t.of('associated')[0].key)).toHaveLength(3)
    // Just before the others' keep-alives fall due, the request the bridge ignores goes out.
    t.clock.advance(RKA - 100)
    t.station.associate(dfaRequest(4, 20000, 100))
    t.clock.advance(5 * RKA)
    expect(t.bridge.counters.ignoredMismatches).toBeGreaterThanOrEqual(1)
    expect(t.bridge.counters.expired).toBe(0)
    for (const n of [1, 2, 3]) expect(t.bridge.get(vsiidFor(n))).toBeDefined()
    expect(t.of('deassociated')).toEqual([])
    expect(t.of('failed').every((e) => e.key === 'uuid:00000000-0000-4000-8000-000000000004')).toBe(true)
  })

  it('a keep-alive waits (toutKeepAlive − T(RKA)) / 2 for its answer (2.63 s at lldpad defaults), not respWaitDelay (15.76 s)', () => {
    const t = lab()
    t.station.associate(dfaRequest(1))
    t.clock.advance(1)
    t.link.toBridge = false // the keep-alive is lost
    const due = t.station.get(vsiidFor(1))!.deadline!
    t.clock.advance(due - t.clock.now() + 1)
    const sent = t.clock.now() - 1
    t.clock.advance(keepaliveWait(EVB) + 1)
    const failed = t.of('failed')[0]
    expect(failed).toMatchObject({operation: 'keepalive', reason: 'timeout', state: 'removed'})
    expect(failed.at - sent).toBeCloseTo(keepaliveWait(EVB), 0)
    expect(keepaliveWait(EVB)).toBeCloseTo((TOUT - RKA) / 2, 6)
    expect(keepaliveWait(EVB)).toBeCloseTo(2634.88, 1)
    expect(failed.at - sent).toBeLessThan(RESP_WAIT)
    // Noticed before the bridge drops it: the re-association (the processor's retry) still finds it held.
    expect(t.bridge.counters.expired).toBe(0)
  })

  it("for a Cisco leaf's timers the keep-alive wait is 336 s (respWaitDelay 505 s, toutKeepAlive 2015 s)", () => {
    const c = CISCO_LEAF_DEFAULT_EVB
    expect(keepaliveWait(c) / 1000).toBeCloseTo(336.4, 1)
    expect(respWaitDelay(c.retries, c.rte, c.rwd) / 1000).toBeCloseTo(505.0, 1)
    expect(toutKeepAlive(c.retries, c.rte, c.rka) / 1000).toBeCloseTo(2015.0, 1)
  })
})

describe('a VM port asking for another VLAN', () => {
  it('ends the old life first (the strict bridge would ignore the request), then associates with the new VLAN', () => {
    const t = lab()
    t.station.associate(dfaRequest(9, 20000, 300))
    t.clock.advance(1)
    t.station.associate(dfaRequest(9, 20000, 301))
    t.clock.advance(1)
    expect(t.bridge.counters.ignoredMismatches).toBe(0)
    expect(t.events.map((e) => e.type)).toEqual(['associated', 'deassociated', 'associated'])
    expect(t.bridge.get(vsiidFor(9))?.vids).toEqual([301])
  })
})

describe('a bridge that keeps a de-associated VSI a while (lldpad)', () => {
  it('with the lldpad profile the new life with another VLAN waits 1.5 × toutKeepAlive after the De-Associate', () => {
    const t = lab({peer: lldpadPeerProfile(EVB)})
    t.station.associate(dfaRequest(10, 20000, 300))
    t.clock.advance(1)
    t.station.associate(dfaRequest(10, 20000, 301))
    t.clock.advance(1)
    const deassociatedAt = t.of('deassociated')[0].at
    expect(t.station.get(vsiidFor(10))).toMatchObject({state: 'associating'})
    expect(t.station.get(vsiidFor(10))?.pending).toBeUndefined() // not sent yet
    t.clock.advance(1.5 * TOUT - 10)
    expect(t.of('associated')).toHaveLength(1)
    t.clock.advance(20)
    expect(t.of('associated')[1]).toMatchObject({vids: [301]})
    expect(t.of('associated')[1].at - deassociatedAt).toBeGreaterThanOrEqual(1.5 * TOUT)
  })

  it('so does a VM port taken down and brought up again with another VLAN; the same VLAN goes at once', () => {
    const t = lab({peer: lldpadPeerProfile(EVB)})
    t.station.associate(dfaRequest(11, 20000, 300))
    t.clock.advance(1)
    t.station.deassociate(vsiidFor(11))
    t.clock.advance(1)
    t.station.associate(dfaRequest(11, 20000, 300))
    t.clock.advance(1)
    expect(t.of('associated')).toHaveLength(2)
    t.station.deassociate(vsiidFor(11))
    t.clock.advance(1)
    t.station.associate(dfaRequest(11, 20000, 302))
    t.clock.advance(1.5 * TOUT - 10)
    expect(t.of('associated')).toHaveLength(2)
    t.clock.advance(20)
    expect(t.of('associated')[2]).toMatchObject({vids: [302]})
  })
})

describe('case 3: a station that restarted de-associates what the previous run left', () => {
  it('deassociateRequest with the held VLAN is confirmed by the bridge, which then drops the VSI', () => {
    const t = lab()
    t.station.associate(dfaRequest(7))
    t.clock.advance(1)
    t.startStation()
    const view = t.station.deassociateRequest(dfaRequest(7, 20000, 3628))
    expect(view).toMatchObject({state: 'deassociating', pending: 'awaiting-response'})
    t.clock.advance(1)
    expect(t.of('deassociated').at(-1)).toMatchObject({initiator: 'station', text: 'de-associated'})
    expect(t.bridge.size).toBe(0)
    expect(t.station.size).toBe(0)
  })

  it('a De-Associate with VID 0 (the VLAN never learned: a crash before the answer) still ends it; another VID does not', () => {
    const t = lab()
    t.station.associate(dfaRequest(8))
    t.clock.advance(1)
    t.startStation()
    t.station.deassociateRequest(dfaRequest(8, 20000, 999))
    t.clock.advance(RESP_WAIT + 1)
    expect(t.of('failed').at(-1)).toMatchObject({operation: 'deassoc', reason: 'timeout'})
    expect(t.bridge.counters.ignoredMismatches).toBe(1)
    expect(t.bridge.size).toBe(1)
    t.station.deassociateRequest(dfaRequest(8))
    t.clock.advance(1)
    expect(t.of('deassociated').at(-1)).toMatchObject({initiator: 'station'})
    expect(t.bridge.size).toBe(0)
  })
})

describe('case 4: a restarted bridge is told again at once', () => {
  for (const keepState of [false, true]) {
    it(`resync() re-associates every VSI within one round trip (bridge ${keepState ? 'keeps' : 'lost'} its state)`, () => {
      const t = lab()
      const n = 500
      t.station.associateMany(Array.from({length: n}, (_, i) => dfaRequest(i + 1, 20000 + (i % 7))))
      t.clock.advance(100)
      expect(t.of('associated')).toHaveLength(n)
      t.restartBridge(keepState)
      const before = t.events.length
      t.station.resync()
      t.clock.advance(100)
      expect(t.bridge.size).toBe(n)
      const confirmed = t.events.slice(before).filter((e) => e.type === 'associated')
      expect(confirmed).toHaveLength(n) // each said again, so status can trust it
      expect(Math.max(...confirmed.map((e) => e.at)) - (t.clock.now() - 100)).toBeLessThan(50)
      expect(t.station.list().every((v) => v.state === 'associated')).toBe(true)
    })
  }

  it('ACKs that stop are reported once per VDPDU given up, after (1 + R)·T(RTE)', () => {
    const t = lab()
    t.station.associate(dfaRequest(1))
    t.clock.advance(1)
    t.link.toBridge = false
    t.station.resync()
    t.clock.advance((1 + EVB.retries) * evbTime(EVB.rte) + 1)
    expect(t.silentCalls).toBe(1)
    // The re-sent keep-alive keeps its deadline: a bridge that stays silent still fails it in time.
    t.link.toBridge = true
    t.station.resync()
    t.clock.advance(1)
    expect(t.station.get(vsiidFor(1))).toMatchObject({state: 'associated'})
  })
})

describe('case 5: VDP waits for the EVB exchange', () => {
  it('a held station sends nothing; release() sends what accumulated in one VDPDU', () => {
    const t = lab()
    t.startStation(true)
    t.station.associateMany([1, 2, 3].map((n) => dfaRequest(n)))
    t.clock.advance(60_000)
    expect(t.transport.counters.txPdus).toBe(0)
    expect(t.of('failed')).toEqual([])
    t.station.release()
    t.clock.advance(1)
    expect(t.transport.counters.txPdus).toBe(1)
    expect(t.of('associated')).toHaveLength(3)
  })
})

describe('case 6: ECP/VDP only from the switch', () => {
  it('a De-Associate from another MAC is refused without an ACK and counted; the association stands', () => {
    const t = lab()
    t.transport.acceptOnlyFrom(BRIDGE)
    t.station.associate(dfaRequest(1))
    t.clock.advance(1)
    const rogue = '02:00:00:00:66:66'
    const sent: Buffer[] = []
    const tlv: VsiTlv = {
      kind: 'vsi',
      mode: 'deassoc',
      status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
      typeId: 0,
      typeVersion: 0,
      vsiid: vsiidFor(1),
      filter: {
        format: 4,
        entries: [{ps: false, pcp: 0, vid: 3628, mac: dfaRequest(1).filter.entries[0].mac, groupId: 20000}],
      },
    }
    const frame = encodeEcpFrame({
      dst: STATION,
      src: rogue,
      operation: 'request',
      subtype: 1,
      sequence: 77,
      ulpdu: encodeVdpdu([{kind: 'manager-id', managerId: NULL_MANAGER_ID}, tlv]),
    })
    expect(t.transport.receive(frame)).toBe('refused')
    expect(t.transport.counters.refusedSource).toBe(1)
    expect(t.station.get(vsiidFor(1))).toMatchObject({state: 'associated'})
    expect(sent).toEqual([])
    // The same frame from the switch is obeyed.
    expect(
      t.transport.receive(
        encodeEcpFrame({...decodeEcpFrame(frame), dst: STATION, src: BRIDGE, ulpdu: decodeEcpFrame(frame).ulpdu}),
      ),
    ).toBe('delivered')
    expect(t.of('deassociated')[0]).toMatchObject({initiator: 'bridge'})
    expect(decodeVdpdu(decodeEcpFrame(frame).ulpdu).tlvs).toHaveLength(2)
  })
})
