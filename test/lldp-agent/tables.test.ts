import {describe, expect, it} from 'vitest'

import {MAX_NEIGHBORS_PER_INTERFACE, NeighborTable, neighborKey} from '../../src/lldp-agent/neighbor-table.js'
import {TxSchedule, advertisedTtl} from '../../src/lldp-agent/tx-schedule.js'
import {buildLldpFrame, decodeLldpFrame} from '../../src/lldp/index.js'
import type {NeighborRecord} from '../../src/model/neighbor.js'

const TOR = '02:00:00:00:02:01'

function pdu(opts: {ttl?: number; port?: string; name?: string; evb?: boolean} = {}) {
  const frame = buildLldpFrame({
    dst: '01:80:c2:00:00:0e',
    src: TOR,
    chassisId: {subtype: 4, value: TOR},
    portId: {subtype: 5, value: opts.port ?? 'Ethernet1/7'},
    ttl: opts.ttl ?? 120,
    systemName: opts.name ?? 'tor1',
    ...(opts.evb
      ? {
          evb: {
            bgid: false,
            rrcap: true,
            rrctr: false,
            sgid: false,
            rrreq: false,
            rrstat: 0,
            retries: 3,
            rte: 14,
            mode: 'bridge',
            rolRwd: false,
            rwd: 20,
            rolRka: false,
            rka: 20,
          } as const,
        }
      : {}),
  })
  return decodeLldpFrame(frame)
}

describe('NeighborTable', () => {
  it('adds, refreshes, notices changes, and ages out by TTL', () => {
    const t = new NeighborTable()
    expect(t.receive('eth1', TOR, pdu(), 0)).toMatchObject([
      {type: 'added', neighbor: {chassisId: TOR, portId: 'Ethernet1/7', systemName: 'tor1', expiresAt: 120_000}},
    ])
    expect(t.receive('eth1', TOR, pdu(), 30_000)).toMatchObject([
      {type: 'updated', changed: false, neighbor: {expiresAt: 150_000, firstSeen: 0}},
    ])
    expect(t.receive('eth1', TOR, pdu({evb: true}), 31_000)).toMatchObject([
      {type: 'updated', changed: true, neighbor: {evb: {mode: 'bridge', rte: 14}}},
    ])
    expect(t.nextExpiry()).toBe(151_000)
    expect(t.expire(150_999)).toEqual([])
    expect(t.expire(151_000)).toMatchObject([{type: 'removed', reason: 'aged'}])
    expect(t.list()).toEqual([])
  })

  it('a shutdown LLDPDU (TTL 0) removes the neighbour at once; an unknown one is ignored', () => {
    const t = new NeighborTable()
    t.receive('eth1', TOR, pdu(), 0)
    expect(t.receive('eth1', TOR, pdu({ttl: 0}), 1)).toMatchObject([{type: 'removed', reason: 'shutdown'}])
    expect(t.receive('eth1', TOR, pdu({ttl: 0}), 2)).toEqual([])
  })

  it('keys by interface and MSAP; link down clears only that interface', () => {
    const t = new NeighborTable()
    t.receive('eth1', TOR, pdu(), 0)
    t.receive('eth1', TOR, pdu({port: 'Ethernet1/8'}), 0)
    t.receive('eth2', TOR, pdu(), 0)
    expect(t.list()).toHaveLength(3)
    expect(t.dropInterface('eth1', 'link-down').map((e) => e.type)).toEqual(['removed', 'removed'])
    expect(t.list().map((n) => n.ifname)).toEqual(['eth2'])
  })

  it('refuses a flood of MSAPs on one port beyond the bound, and counts it', () => {
    const t = new NeighborTable()
    for (let i = 0; i < MAX_NEIGHBORS_PER_INTERFACE + 5; i++) t.receive('eth1', TOR, pdu({port: `p${i}`}), 0)
    expect(t.onInterface('eth1')).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    expect(t.tooManyNeighbors).toBe(5)
  })

  it('a full port takes an EVB bridge by evicting the non-EVB neighbour heard least recently; never an EVB one', () => {
    const t = new NeighborTable()
    for (let i = 0; i < MAX_NEIGHBORS_PER_INTERFACE; i++) t.receive('eth1', TOR, pdu({port: `p${i}`}), 1000 + i)
    t.receive('eth1', TOR, pdu({port: 'p0'}), 5000) // p0 heard again: p1 is now the least recently heard
    const events = t.receive('eth1', TOR, pdu({port: 'bridge', evb: true}), 6000)
    expect(events.map((e) => e.type)).toEqual(['removed', 'added'])
    expect(events[0]).toMatchObject({reason: 'evicted', neighbor: {portId: 'p1'}})
    expect(t.tooManyNeighbors).toBe(0)
    // a second bridge evicts another non-EVB neighbour; a non-EVB newcomer is refused
    t.receive('eth1', TOR, pdu({port: 'bridge2', evb: true}), 7000)
    expect(t.receive('eth1', TOR, pdu({port: 'late'}), 8000)).toEqual([])
    expect(t.tooManyNeighbors).toBe(1)
    expect(t.onInterface('eth1').filter((n) => n.evb)).toHaveLength(2)
    // the neighbour database of another agent on the same port is separate, but shares the bound
    expect(t.receive('eth1', TOR, {...pdu({port: 'p5'}), dst: '01:80:c2:00:00:00'}, 9000)).toEqual([])
  })

  it('restore() keeps at most the bound per port, EVB bridges first, and returns what it left out', () => {
    const t = new NeighborTable()
    for (let i = 0; i < MAX_NEIGHBORS_PER_INTERFACE; i++) t.receive('eth9', TOR, pdu({port: `q${i}`}), i)
    const full = t.list()
    const bridge: NeighborRecord = {
      ...full[0],
      portId: 'bridge',
      evb: {
        bgid: false,
        rrcap: true,
        rrctr: true,
        sgid: false,
        rrreq: false,
        rrstat: 1,
        retries: 3,
        rte: 14,
        mode: 'bridge',
        rolRwd: false,
        rwd: 20,
        rolRka: false,
        rka: 20,
      },
      lastSeen: 0,
    }
    const t2 = new NeighborTable()
    const skipped = t2.restore([...full, bridge, {...full[1], portId: 'extra', lastSeen: -1}], 0)
    expect(t2.onInterface('eth9')).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    expect(t2.onInterface('eth9').some((n) => n.portId === 'bridge')).toBe(true)
    expect(skipped.map((n) => n.portId).sort()).toEqual(['extra', full[0].portId].sort())
  })

  it('refresh() moves only the expiry; restore() skips expired records', () => {
    const t = new NeighborTable()
    const [added] = t.receive('eth1', TOR, pdu(), 0)
    const key = neighborKey(added.neighbor)
    expect(t.refresh(key, 10_000)).toMatchObject([{changed: false, neighbor: {expiresAt: 130_000, lastSeen: 10_000}}])
    const t2 = new NeighborTable()
    t2.restore(
      [
        {...added.neighbor, expiresAt: 5},
        {...added.neighbor, ifname: 'eth9', expiresAt: 500},
      ],
      100,
    )
    expect(t2.list().map((n) => n.ifname)).toEqual(['eth9'])
  })
})

describe('TxSchedule', () => {
  const timers = {intervalMs: 30_000, fastCount: 4, fastIntervalMs: 1000}

  function sendTimes(s: TxSchedule, until: number, step = 100): number[] {
    const out: number[] = []
    for (let now = 0; now <= until; now += step) if (s.takeSlot(now)) out.push(now)
    return out
  }

  it('fast start: 4 frames a second apart, then every tx interval', () => {
    expect(sendTimes(new TxSchedule(timers, 0), 100_000)).toEqual([0, 1000, 2000, 3000, 33_000, 63_000, 93_000])
  })

  it('a local change sends at once and restarts the fast phase', () => {
    const s = new TxSchedule(timers, 0)
    sendTimes(s, 40_000)
    s.changed(40_050)
    const after: number[] = []
    for (let now = 40_100; now <= 50_000; now += 100) if (s.takeSlot(now)) after.push(now)
    expect(after).toEqual([40_100, 41_100, 42_100, 43_100])
  })

  it('txCredit limits a burst of changes to 5 frames, then one per second', () => {
    const s = new TxSchedule({intervalMs: 30_000, fastCount: 1, fastIntervalMs: 1000}, 0)
    const sent: number[] = []
    for (let now = 0; now < 3000; now += 10) {
      s.changed(now)
      if (s.takeSlot(now)) sent.push(now)
    }
    expect(sent.slice(0, 5)).toEqual([0, 10, 20, 30, 40])
    expect(sent.length).toBe(7) // 5 of the bucket, then one more credit in each of the next two seconds
  })

  it('TTL is interval × hold + 1, capped', () => {
    expect(advertisedTtl(30, 4)).toBe(121)
    expect(advertisedTtl(3600, 100)).toBe(65535)
  })
})
