import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/load.js'
import type {AgentConfig} from '../../src/config/schema.js'
import {LldpAgent} from '../../src/lldp-agent/lldp-agent.js'
import {type EvbTlv, buildLldpFrame} from '../../src/lldp/index.js'
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

const bridgeEvb: EvbTlv = {
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
}
const tick = () => new Promise<void>((r) => process.nextTick(r))

/** A hand-driven link inventory standing in for rtnetlink. */
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
  add(name: string, mac: string, extra: Partial<WatchedLink> = {}) {
    const link: WatchedLink = {
      name,
      index: this.links.size + 2,
      kind: 'veth',
      physical: false,
      operstate: 'up',
      carrier: true,
      mac,
      ...extra,
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

function harness(configure: (c: AgentConfig) => AgentConfig = (c) => c, existing?: {dir: string}) {
  const dir = existing?.dir ?? mkdtempSync(join(tmpdir(), 'vdp-uplink-'))
  const base = defaultConfig()
  const config = configure({
    ...base,
    general: {...base.general, uplink_override_file: join(dir, 'uplink-override')},
    uplink: {...base.uplink, candidate_kinds: ['veth'], down_debounce: 5},
  })
  const store = Store.open(join(dir, 'vdp-agent.db'))
  const clock = new ManualClock(1_000_000)
  const wire1 = new VirtualWire()
  const wire2 = new VirtualWire()
  const io = new MemoryFrameIO('host')
  const tor = new MemoryFrameIO('tor')
  wire1.attach(io, 'eth1', {mac: '02:00:00:00:01:01'}).attach(tor, 't1', {mac: '02:00:00:00:02:01'})
  wire2.attach(io, 'eth2', {mac: '02:00:00:00:01:02'}).attach(tor, 't2', {mac: '02:00:00:00:02:02'})
  const links = new FakeLinks()
  const transitions: UplinkTransition[] = []
  const lldp = new LldpAgent(
    {
      mode: 'rxtx',
      txIntervalSeconds: 30,
      txHold: 4,
      txFastCount: 4,
      txFastIntervalSeconds: 1,
      systemName: 'h',
      systemDescription: 'd',
      evb: {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: false, groupId: true},
    },
    {frames: io, clock, log: silentLogger, macOf: (n) => links.list().find((l) => l.name === n)?.mac ?? undefined},
  )
  const service = new UplinkService({store, log: silentLogger, clock, links, lldp, config: () => config})
  lldp.on('neighbors', (e) => service.onNeighborEvents(e))
  service.on('transition', (t) => transitions.push(t))
  const torSocket = (port: 't1' | 't2') => tor.open(port, 0x88cc, {multicast: ['01:80:c2:00:00:00'], onFrame: () => {}})
  const announce = (port: 't1' | 't2', evb: boolean, ttl = 120) =>
    torSocket(port).send(
      buildLldpFrame({
        dst: '01:80:c2:00:00:0e',
        src: port === 't1' ? '02:00:00:00:02:01' : '02:00:00:00:02:02',
        chassisId: {subtype: 4, value: '02:00:00:00:02:00'},
        portId: {subtype: 5, value: `Ethernet1/${port}`},
        ttl,
        systemName: 'tor1',
        ...(evb ? {evb: bridgeEvb} : {}),
      }),
    )
  return {dir, store, clock, links, lldp, service, transitions, announce, config}
}

describe('UplinkService', () => {
  it('finds the one port whose neighbour is an EVB bridge, transmits there, and persists it', async () => {
    const h = harness()
    h.links.add('eth1', '02:00:00:00:01:01')
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    expect(h.lldp.listening()).toEqual(['eth1', 'eth2'])
    h.announce('t1', false) // a plain LLDP neighbour (lldpd) on eth1
    h.announce('t2', true) // the EVB bridge on eth2
    await tick()
    expect(h.transitions.map((t) => [t.current.ifname, t.current.state])).toEqual([
      [null, 'none'],
      ['eth2', 'up'],
    ])
    expect(h.lldp.transmitting()).toEqual(['eth2'])
    expect(h.store.uplink.get()).toMatchObject({ifname: 'eth2', source: 'lldp', state: 'up'})
    expect(
      h.store.neighbors
        .list()
        .map((n) => n.ifname)
        .sort(),
    ).toEqual(['eth1', 'eth2'])
    expect(h.service.negotiatedEvb()).toMatchObject({rte: 14, retries: 3})
    expect(h.store.uplink.get()?.evb).toEqual({
      retries: 3,
      rte: 14,
      rwd: 20,
      rka: 20,
      groupIds: false,
      reflectiveRelay: false,
    })
    h.store.close()
  })

  it('carrier loss on the uplink is down at once; the neighbours heard there are dropped', async () => {
    const h = harness()
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    h.announce('t2', true)
    await tick()
    h.links.change('eth2', {carrier: false, operstate: 'lowerlayerdown'})
    expect(h.transitions.at(-1)!.current).toMatchObject({ifname: 'eth2', state: 'down', reason: 'eth2 lost carrier'})
    expect(h.store.neighbors.list()).toEqual([])
    expect(h.lldp.transmitting()).toEqual([])
    h.store.close()
  })

  it('a shutdown LLDPDU from the bridge takes the uplink down only after the debounce', async () => {
    const h = harness()
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    h.announce('t2', true)
    await tick()
    h.announce('t2', true, 0)
    await tick()
    expect(h.service.current).toMatchObject({state: 'up'})
    h.clock.advance(5000)
    expect(h.service.current).toMatchObject({state: 'down', ifname: 'eth2'})
    expect(h.transitions.at(-1)!.current.state).toBe('down')
    h.store.close()
  })

  it('the override file wins while present and is followed when cleared', async () => {
    const h = harness()
    h.links.add('eth1', '02:00:00:00:01:01')
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    h.announce('t2', true)
    await tick()
    writeFileSync(h.config.general.uplink_override_file, 'eth1\n')
    expect(h.service.overrideChanged('test')).toMatchObject({ifname: 'eth1', source: 'override', state: 'up'})
    expect(h.lldp.transmitting()).toEqual(['eth1'])
    writeFileSync(h.config.general.uplink_override_file, 'not a valid name!\n')
    expect(h.service.overrideChanged('test')).toMatchObject({ifname: 'eth1', source: 'override'})
    expect(h.service.override.error).toMatch(/invalid interface name/)
    writeFileSync(h.config.general.uplink_override_file, '')
    h.service.overrideChanged('test')
    const {rmSync} = await import('node:fs')
    rmSync(h.config.general.uplink_override_file)
    expect(h.service.overrideChanged('test')).toMatchObject({ifname: 'eth2', source: 'lldp', state: 'up'})
    h.store.close()
  })

  it('a restart resumes from the database with no server and no transition', async () => {
    const h = harness()
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    h.announce('t2', true)
    await tick()
    h.service.stop()
    h.lldp.stop()
    h.store.close()

    const again = harness(undefined, {dir: h.dir})
    again.links.add('eth2', '02:00:00:00:01:02')
    again.service.start()
    expect(again.service.current).toMatchObject({ifname: 'eth2', state: 'up', source: 'lldp'})
    expect(again.transitions).toEqual([]) // the neighbour was restored with its remaining TTL: nothing flapped
    again.store.close()
  })

  it('a read-only remount: neighbour and uplink writes are kept, the decision goes on, and the database catches up', async () => {
    const h = harness()
    h.store.writes.configure({clock: h.clock, retryMs: 5000, listener: () => {}})
    h.links.add('eth1', '02:00:00:00:01:01')
    h.links.add('eth2', '02:00:00:00:01:02')
    h.service.start()
    // The database refuses every write from here on (SQLITE_READONLY), as after a read-only remount.
    h.store.db.pragma('query_only = 1')
    h.announce('t1', false)
    h.announce('t2', true)
    await tick() // before the fix: "attempt to write a readonly database" thrown out of the frame handler
    expect(h.service.current).toMatchObject({ifname: 'eth2', state: 'up'})
    expect(h.lldp.transmitting()).toEqual(['eth2'])
    expect(h.store.health()).toMatchObject({writable: false, sqliteCode: expect.stringMatching(/^SQLITE_READONLY/)})
    for (let i = 0; i < 50; i++) h.announce('t1', false) // more frames: the pending neighbour write is coalesced
    await tick()
    const pending = h.store.health().pending
    expect(pending).toBeLessThanOrEqual(4)
    expect(h.store.uplink.get()?.ifname ?? null).toBe(null) // the last good state on disk
    h.store.db.pragma('query_only = 0')
    h.clock.advance(5000)
    expect(h.store.health()).toMatchObject({writable: true, pending: 0})
    expect(h.store.uplink.get()).toMatchObject({ifname: 'eth2', source: 'lldp', state: 'up'})
    expect(
      h.store.neighbors
        .list()
        .map((n) => n.ifname)
        .sort(),
    ).toEqual(['eth1', 'eth2'])
    h.store.close()
  })
})
