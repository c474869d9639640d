/**
 * Issue 10 items 4, 5 and 8, at the uplink service (LLDP agent + neighbour table + store), in protocol time:
 *  - one switch port, two LLDP agents (802.1AB nearest bridge / nearest customer bridge): one neighbour each;
 *  - a bounded table never costs the EVB bridge its place, also across a daemon restart;
 *  - at start-up the agent announces itself so a switch already talking answers at once (802.1AB fast start).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/load.js'
import type {AgentConfig} from '../../src/config/schema.js'
import {LldpAgent, type LldpAgentSettings} from '../../src/lldp-agent/lldp-agent.js'
import {MAX_NEIGHBORS_PER_INTERFACE} from '../../src/lldp-agent/neighbor-table.js'
import {buildLldpFrame, decodeLldpFrame} from '../../src/lldp/index.js'
import {silentLogger} from '../../src/log/logger.js'
import {MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import {Store} from '../../src/store/store.js'
import {
  type LinkChange,
  type LinkWatch,
  UplinkService,
  type UplinkTransition,
  type WatchedLink,
} from '../../src/uplink/service.js'
import {ManualClock} from '../../src/core/clock.js'

/** The two frames, verbatim: the EVB TLV to the nearest customer bridge, plain LLDP to the nearest bridge. */
const EVB_TO_NCB =
  '0180c200000002000000020088cc020704020000000200040c0745746865726e6574312f37060200780a0c746f72312e6578616d706c650e0400140014fe090080c20d00006854140000'
const PLAIN_TO_NB =
  '0180c200000e02000000020088cc020704020000000200040c0745746865726e6574312f37060200780a0c746f72312e6578616d706c650e04001400140000'
const TOR_MAC = '02:00:00:00:02:00'
const tick = () => new Promise<void>((r) => process.nextTick(r))

class FakeLinks implements LinkWatch {
  private readonly links = new Map<string, WatchedLink>()
  private listeners: ((c: LinkChange) => void)[] = []
  list() {
    return [...this.links.values()]
  }
  subscribe(fn: (c: LinkChange) => void) {
    this.listeners.push(fn)
    return () => (this.listeners = this.listeners.filter((l) => l !== fn))
  }
  add(name: string, mac: string) {
    const link: WatchedLink = {
      name,
      index: this.links.size + 2,
      kind: 'veth',
      physical: false,
      operstate: 'up',
      carrier: true,
      mac,
    }
    this.links.set(name, link)
    for (const l of this.listeners) l({type: 'added', link})
  }
  change(name: string, patch: Partial<WatchedLink>) {
    const previous = this.links.get(name)!
    const link = {...previous, ...patch}
    this.links.set(name, link)
    for (const l of this.listeners) l({type: 'changed', link, previous})
  }
}

const SETTINGS: LldpAgentSettings = {
  mode: 'rxtx',
  txIntervalSeconds: 30,
  txHold: 4,
  txFastCount: 4,
  txFastIntervalSeconds: 1,
  systemName: 'h',
  systemDescription: 'd',
  evb: {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: false, groupId: true},
}

/** A host with eth1..ethN wired to a ToR's t1..tN; the ToR side records what the host sends. */
function harness(
  opts: {
    dir?: string
    ports?: number
    settings?: Partial<LldpAgentSettings>
    configure?: (c: AgentConfig) => AgentConfig
    clock?: ManualClock
  } = {},
) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vdp-agents-'))
  const base = defaultConfig()
  const configured = {
    ...base,
    general: {...base.general, uplink_override_file: join(dir, 'uplink-override')},
    uplink: {...base.uplink, candidate_kinds: ['veth'], down_debounce: 5},
  }
  const config = opts.configure ? opts.configure(configured) : configured
  const store = Store.open(join(dir, 'vdp-agent.db'))
  const clock = opts.clock ?? new ManualClock(1_000_000)
  const io = new MemoryFrameIO('host')
  const tor = new MemoryFrameIO('tor')
  const links = new FakeLinks()
  const heard = new Map<string, Buffer[]>()
  const torPorts = new Map<string, ReturnType<MemoryFrameIO['open']>>()
  for (let i = 1; i <= (opts.ports ?? 1); i++) {
    new VirtualWire()
      .attach(io, `eth${i}`, {mac: `02:00:00:00:01:0${i}`})
      .attach(tor, `t${i}`, {mac: `02:00:00:00:02:0${i}`})
    heard.set(`t${i}`, [])
    torPorts.set(
      `t${i}`,
      tor.open(`t${i}`, 0x88cc, {
        multicast: ['01:80:c2:00:00:00', '01:80:c2:00:00:03', '01:80:c2:00:00:0e'],
        onFrame: (f) => heard.get(`t${i}`)!.push(f),
      }),
    )
  }
  const transitions: UplinkTransition[] = []
  const lldp = new LldpAgent(
    {...SETTINGS, ...opts.settings},
    {frames: io, clock, log: silentLogger, macOf: (n) => links.list().find((l) => l.name === n)?.mac ?? undefined},
  )
  const service = new UplinkService({store, log: silentLogger, clock, links, lldp, config: () => config})
  lldp.on('neighbors', (e) => service.onNeighborEvents(e))
  service.on('transition', (t) => transitions.push(t))
  const send = (port: string, hex: string) => torPorts.get(port)!.send(Buffer.from(hex, 'hex'))
  for (let i = 1; i <= (opts.ports ?? 1); i++) links.add(`eth${i}`, `02:00:00:00:01:0${i}`)
  return {
    dir,
    store,
    clock,
    links,
    lldp,
    service,
    transitions,
    send,
    heard,
    stop: () => {
      lldp.stop()
      service.stop()
      store.close()
    },
  }
}

/** Advance protocol time second by second, letting the virtual wire deliver in between. */
async function run(clock: ManualClock, seconds: number, each: (second: number) => void = () => {}) {
  for (let s = 0; s < seconds; s++) {
    each(s)
    await tick()
    clock.advance(1000)
    await tick()
  }
}

const states = (t: UplinkTransition[]) => t.map((x) => `${x.current.ifname ?? '-'}:${x.current.state}`)

describe('item 4: one switch port, two LLDP agents (802.1AB: a neighbour database per agent)', () => {
  it('plain LLDP to 01:80:c2:00:00:0e never overwrites or ages the EVB bridge heard on 01:80:c2:00:00:00', async () => {
    const h = harness()
    h.service.start()
    // the EVB frame every 30 s, the plain one 15 s after it, for 5 minutes
    await run(h.clock, 300, (s) => {
      if (s % 30 === 0) h.send('t1', EVB_TO_NCB)
      if (s % 30 === 15) h.send('t1', PLAIN_TO_NB)
    })
    expect(states(h.transitions)).toEqual(['-:none', 'eth1:up'])
    const neighbours = h.lldp.table
      .onInterface('eth1')
      .map((n) => [n.destAddress, n.chassisId, n.portId, (n.evb as {mode?: string} | null)?.mode ?? null])
      .sort()
    expect(neighbours).toEqual([
      ['01:80:c2:00:00:00', TOR_MAC, 'Ethernet1/7', 'bridge'],
      ['01:80:c2:00:00:0e', TOR_MAC, 'Ethernet1/7', null],
    ])
    // persisted with their agent
    expect(
      h.store.neighbors
        .list()
        .map((n) => n.destAddress)
        .sort(),
    ).toEqual(['01:80:c2:00:00:00', '01:80:c2:00:00:0e'])
    // our EVB TLV, once negotiated, never falls back to "no bridge heard" (RRSTAT 3): no negotiation flap
    const rrstats = h.heard
      .get('t1')!
      .map((f) => decodeLldpFrame(f))
      .filter((f) => f.evb)
      .map((f) => f.evb!.rrstat)
    const firstNegotiated = rrstats.indexOf(0)
    expect(firstNegotiated).toBeGreaterThanOrEqual(0)
    expect(rrstats.slice(firstNegotiated).every((r) => r === 0)).toBe(true)
    h.stop()
  })

  it("a shutdown LLDPDU on one agent removes only that agent's neighbour", async () => {
    const h = harness()
    h.service.start()
    h.send('t1', EVB_TO_NCB)
    h.send('t1', PLAIN_TO_NB)
    await tick()
    // the nearest-bridge agent says goodbye (TTL 0): the EVB bridge stays
    h.send('t1', PLAIN_TO_NB.replace('060200780a0c', '060200000a0c'))
    await tick()
    await run(h.clock, 10)
    expect(h.lldp.table.onInterface('eth1').map((n) => n.destAddress)).toEqual(['01:80:c2:00:00:00'])
    expect(states(h.transitions)).toEqual(['-:none', 'eth1:up'])
    h.stop()
  })
})

/** A fake neighbour: no EVB TLV, TTL 65535, its own chassis. */
function fake(i: number): string {
  return buildLldpFrame({
    dst: '01:80:c2:00:00:0e',
    src: `02:99:00:00:00:${i.toString(16).padStart(2, '0')}`,
    chassisId: {subtype: 4, value: `02:99:00:00:00:${i.toString(16).padStart(2, '0')}`},
    portId: {subtype: 7, value: `fake${i}`},
    ttl: 65535,
  }).toString('hex')
}
const SWITCH_SHUTDOWN = EVB_TO_NCB.replace('060200780a0c', '060200000a0c')

describe('item 5: the table bound never costs the EVB bridge its place', () => {
  it('15 fakes, a graceful switch restart, one more fake: the switch is heard again; and after a daemon restart too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdp-agents-'))
    const h = harness({dir})
    h.service.start()
    h.send('t1', EVB_TO_NCB)
    for (let i = 0; i < MAX_NEIGHBORS_PER_INTERFACE - 1; i++) h.send('t1', fake(i))
    await run(h.clock, 2)
    expect(h.service.current).toMatchObject({ifname: 'eth1', state: 'up'})
    h.send('t1', SWITCH_SHUTDOWN) // the switch restarts gracefully
    await tick()
    h.send('t1', fake(15)) // and one more fake takes its slot
    await run(h.clock, 2)
    h.send('t1', EVB_TO_NCB) // the switch is back
    await run(h.clock, 2)
    expect(h.service.current).toMatchObject({ifname: 'eth1', state: 'up'})
    expect(h.lldp.table.onInterface('eth1')).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    expect(h.lldp.table.onInterface('eth1').filter((n) => n.evb)).toHaveLength(1)
    expect(h.store.neighbors.list()).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    expect(h.lldp.interfaceStats().eth1.rxDiscardedByRule['too-many-neighbors'] ?? 0).toBe(0)
    expect(h.lldp.interfaceStats().eth1.evictions).toBe(1)

    // The switch restarts again, a 16th fake fills the table, and the daemon restarts (everything persisted).
    h.send('t1', SWITCH_SHUTDOWN)
    await tick()
    h.send('t1', fake(16))
    await run(h.clock, 6) // past the 5 s debounce: the uplink is down
    expect(h.service.current).toMatchObject({state: 'down'})
    h.stop()
    const again = harness({dir, clock: h.clock})
    again.service.start()
    expect(again.lldp.table.onInterface('eth1')).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    again.send('t1', EVB_TO_NCB)
    await run(again.clock, 2)
    expect(again.service.current).toMatchObject({ifname: 'eth1', state: 'up'})
    expect(again.store.neighbors.list()).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    // and one more fake cannot push the bridge out
    again.send('t1', fake(17))
    await run(again.clock, 2)
    expect(again.lldp.table.onInterface('eth1').filter((n) => n.evb)).toHaveLength(1)
    expect(again.lldp.interfaceStats().eth1.rxDiscardedByRule['too-many-neighbors']).toBe(1)
    again.stop()
  })
})

/**
 * A switch already talking, as lldpad behaves (checked in test/integration/lldp-fast-start.test.ts): it sends its
 * LLDPDU every 30 s, and at once (802.1AB fast start, txFast) when it hears a new neighbour on that agent.
 */
function talkingSwitch(h: ReturnType<typeof harness>, port: string, firstPeriodicInSeconds: number) {
  const known = new Set<string>()
  let second = 0
  return {
    /** One protocol second: the periodic LLDPDU on its schedule, an immediate one for each new neighbour. */
    step() {
      const newNeighbour = h.heard
        .get(port)!
        .some(
          (f) =>
            f.subarray(0, 6).equals(Buffer.from('0180c2000000', 'hex')) &&
            !known.has(f.subarray(6, 12).toString('hex')),
        )
      for (const f of h.heard.get(port)!) known.add(f.subarray(6, 12).toString('hex'))
      if (newNeighbour || (second >= firstPeriodicInSeconds && (second - firstPeriodicInSeconds) % 30 === 0))
        h.send(port, EVB_TO_NCB)
      second++
    },
  }
}

describe('item 8: start-up against a switch already talking', () => {
  it("the uplink is known within 2 s of start although the switch's next periodic LLDPDU is 27 s away", async () => {
    const h = harness({ports: 3, configure: (c) => ({...c, uplink: {...c.uplink, exclude: ['eth3']}})})
    const tor = talkingSwitch(h, 't2', 27)
    h.service.start()
    const start = h.clock.now()
    let upAt: number | undefined
    for (let s = 0; s < 30 && upAt === undefined; s++) {
      tor.step()
      await tick()
      await tick()
      if (h.service.current?.state === 'up') upAt = h.clock.now()
      h.clock.advance(1000)
    }
    expect(h.service.current).toMatchObject({ifname: 'eth2', state: 'up'})
    expect(upAt! - start).toBeLessThanOrEqual(2000)
    await run(h.clock, 2)
    // what we sent: a plain LLDPDU (no EVB TLV) on every candidate port, the EVB TLV only on the uplink, nothing on the excluded port
    const decoded = (p: string) => h.heard.get(p)!.map((f) => decodeLldpFrame(f))
    expect(decoded('t1').length).toBeGreaterThan(0)
    expect(decoded('t1').every((f) => f.evb === undefined && f.dst === '01:80:c2:00:00:00')).toBe(true)
    expect(decoded('t2').some((f) => f.evb?.mode === 'station')).toBe(true)
    expect(h.heard.get('t3')).toEqual([])
    h.stop()
  })

  it('a candidate port whose carrier comes up announces itself too', async () => {
    const h = harness({ports: 1})
    h.service.start()
    await run(h.clock, 1)
    const before = h.heard.get('t1')!.length
    // carrier down and up again: 802.1AB cleared the neighbours, the switch must hear us to answer at once
    h.links.change('eth1', {carrier: false, operstate: 'lowerlayerdown'})
    await run(h.clock, 1)
    expect(h.heard.get('t1')!.length).toBe(before)
    h.links.change('eth1', {carrier: true, operstate: 'up'})
    await run(h.clock, 1)
    expect(h.heard.get('t1')!.length).toBe(before + 1)
    h.stop()
  })

  it("[lldp] mode = rx sends nothing at all, at start or later (it then waits for the switch's periodic LLDPDU)", async () => {
    const h = harness({ports: 2, settings: {mode: 'rx'}})
    const tor = talkingSwitch(h, 't2', 27)
    h.service.start()
    for (let s = 0; s < 26; s++) {
      tor.step()
      await run(h.clock, 1)
    }
    expect(h.heard.get('t1')).toEqual([])
    expect(h.heard.get('t2')).toEqual([])
    expect(h.service.current?.state).not.toBe('up')
    for (let s = 0; s < 2; s++) {
      tor.step()
      await run(h.clock, 1)
    }
    expect(h.service.current).toMatchObject({ifname: 'eth2', state: 'up'})
    expect(h.heard.get('t2')).toEqual([])
    // a reload to rxtx: the candidate port that is not the uplink announces itself then
    h.lldp.updateSettings({...SETTINGS, mode: 'rxtx'})
    await run(h.clock, 1)
    expect(h.heard.get('t1')!.map((f) => decodeLldpFrame(f).evb)).toEqual([undefined])
    h.stop()
  })
})
