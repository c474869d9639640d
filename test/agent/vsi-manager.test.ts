/**
 * Issue 9 at the VsiManager, in protocol time (manual clock) over an in-memory wire against the VdpBridge:
 * the EVB wait and its fallback, the switch's MAC as the only ECP source, a switch restart seen in LLDP,
 * and the VLAN a re-association asks for.
 */
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../../src/config/load.js'
import {type VsiNotice, VsiManager, requestedVid} from '../../src/agent/vsi-manager.js'
import {VdpBridge} from '../../src/lab/vdp-bridge.js'
import {negotiateEvb, negotiateEvbBridge} from '../../src/lldp-agent/evb-negotiation.js'
import type {NeighborEvent} from '../../src/lldp-agent/neighbor-table.js'
import {silentLogger} from '../../src/log/logger.js'
import type {EvbTlv} from '../../src/lldp/types.js'
import {ETHERTYPE_ECP} from '../../src/core/ethernet.js'
import {MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import type {NeighborRecord} from '../../src/model/neighbor.js'
import type {VsiRecord} from '../../src/model/vsi.js'
import {ManualClock} from '../../src/core/clock.js'
import {LLDPAD_DEFAULT_EVB} from '../../src/vdp/timers.js'

const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'
const NEGOTIATED = {...LLDPAD_DEFAULT_EVB, groupIds: true, reflectiveRelay: false}
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r))
}

/** The bridge's EVB policy: RR capable, R 3, RTE 14, RWD 20, RKA 20. */
const BRIDGE_POLICY = {retries: 3, rte: 14, rwd: 20, rka: 20, rrCapable: true, groupId: false}
/** Our station's policy: the [lldp] evb_* defaults (SGID, no RRREQ). */
const STATION_POLICY = {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: false, groupId: true}
/** The bridge's EVB TLV before it heard any station (after its start): nothing echoed (lldpad: 02 00 ...). */
const UNHEARD_EVB: EvbTlv = negotiateEvbBridge(BRIDGE_POLICY).bridge
/** Once it heard our first TLV (sent before we heard it: RRSTAT 3), then our TLV answering its own. */
const ECHO_FIRST_EVB: EvbTlv = negotiateEvbBridge(BRIDGE_POLICY, negotiateEvb(STATION_POLICY).station).bridge
const BRIDGE_EVB: EvbTlv = negotiateEvbBridge(BRIDGE_POLICY, negotiateEvb(STATION_POLICY, UNHEARD_EVB).station).bridge

function bridgeNeighbor(evb: EvbTlv = BRIDGE_EVB): NeighborRecord {
  return {
    ifname: 'eth0',
    destAddress: '01:80:c2:00:00:00',
    chassisId: TOR_MAC,
    portId: 'Ethernet1/1',
    chassisSubtype: 4,
    portSubtype: 5,
    srcMac: TOR_MAC,
    ttl: 120,
    expiresAt: 1e12,
    systemName: 'tor',
    systemDescription: null,
    portDescription: null,
    mgmtAddresses: [],
    capabilities: null,
    evb,
    firstSeen: 0,
    lastSeen: 0,
  }
}

function row(n: number, extra: Partial<VsiRecord> = {}): VsiRecord {
  return {
    portUuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    mac: `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`,
    netUuid: '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a',
    segmentationId: 20000,
    vmName: null,
    vmUuid: null,
    ipv4: null,
    vlan: null,
    desired: 'up',
    state: 'pending',
    uplink: null,
    localVlan: null,
    vdpVlan: null,
    failReason: null,
    attempts: 0,
    nextRetryAt: null,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  }
}

function setup(neighbors: NeighborRecord[] = [bridgeNeighbor()]) {
  const clock = new ManualClock()
  const host = new MemoryFrameIO('host')
  const tor = new MemoryFrameIO('tor')
  new VirtualWire().attach(host, 'eth0', {mac: HOST_MAC}).attach(tor, 't0', {mac: TOR_MAC})
  const bridgeRx: Buffer[] = []
  let bridge: VdpBridge
  const torSocket = tor.open('t0', ETHERTYPE_ECP, {
    multicast: ['01:80:c2:00:00:00'],
    onFrame: (f) => (bridgeRx.push(f), bridge.receive(f)),
  })
  bridge = new VdpBridge({
    clock,
    send: (f) => torSocket.send(f),
    localMac: TOR_MAC,
    evb: LLDPAD_DEFAULT_EVB,
    strictFilter: true,
  })
  const notices: VsiNotice[] = []
  const announced: string[] = []
  const cfg = defaultConfig()
  const heard = {list: neighbors}
  const manager = new VsiManager({
    frames: host,
    clock,
    log: silentLogger,
    config: () => cfg,
    neighborsOn: () => heard.list,
    announceEvb: (ifname) => announced.push(ifname),
  })
  manager.on('notice', (n) => notices.push(n))
  return {clock, manager, bridge, bridgeRx, notices, announced, heard, cfg}
}

describe('VsiManager: VDP waits for EVB, takes ECP only from the switch, follows switch restarts', () => {
  it('holds VDP until the EVB TLV is known; falls back to the configured values after [vdp] evb_wait', async () => {
    const t = setup([])
    t.manager.open('eth0', HOST_MAC, null)
    expect(t.manager.status()).toMatchObject({evb: 'waiting', held: expect.stringMatching(/EVB TLV/), acceptFrom: null})
    expect(t.announced).toEqual(['eth0'])
    // Held: the caller is not kept waiting (an uplink change waits for every event in flight).
    expect(await t.manager.associate(row(1))).toMatchObject({
      ok: false,
      deferred: true,
      reason: expect.stringMatching(/held/),
    })
    await flush()
    t.clock.advance(t.cfg.vdp.evb_wait * 1000 - 1)
    await flush()
    expect(t.bridgeRx).toHaveLength(0)
    t.clock.advance(1)
    expect(t.manager.status()).toMatchObject({evb: 'fallback', held: null})
    for (let i = 0; i < 5 && t.bridge.size === 0; i++) {
      await flush()
      t.clock.advance(1)
    }
    await flush()
    // Sent once released; its answer arrives as a notice.
    expect(t.notices).toContainEqual({type: 'confirmed', portUuid: row(1).portUuid, vid: 3628})
  })

  it('runs at once when EVB is negotiated, and refuses ECP from any MAC but the EVB bridge neighbour', async () => {
    const t = setup()
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    expect(t.manager.status()).toMatchObject({evb: 'negotiated', held: null, acceptFrom: TOR_MAC, refusedFrames: 0})
    const outcome = t.manager.associate(row(2))
    for (let i = 0; i < 5; i++) {
      await flush()
      t.clock.advance(1)
    }
    expect(await outcome).toEqual({ok: true, vid: 3628})
    t.heard.list = [{...bridgeNeighbor(), srcMac: '02:00:00:00:09:09'}] // another switch MAC: ours are now foreign
    t.manager.onNeighborEvents([{type: 'updated', neighbor: t.heard.list[0], changed: true} as NeighborEvent])
    expect(t.manager.status()?.acceptFrom).toBe('02:00:00:00:09:09')
    t.bridge.deassociate(t.bridge.list()[0].vsiid)
    await flush()
    expect(t.manager.status()?.refusedFrames).toBeGreaterThan(0)
    expect(t.notices.filter((n) => n.type === 'lost')).toEqual([])
  })

  /** Run the clock `ms` forward 1 ms at a time, letting the wire deliver. */
  async function run(t: ReturnType<typeof setup>, ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      await flush()
      t.clock.advance(1)
    }
    await flush()
  }

  /** The bridge's LLDPDU now carries `evb` (the LLDP agent's neighbour table changed). */
  function bridgeSends(t: ReturnType<typeof setup>, evb: EvbTlv): void {
    t.heard.list = [bridgeNeighbor(evb)]
    t.manager.onNeighborEvents([{type: 'updated', neighbor: t.heard.list[0], changed: true} as NeighborEvent])
  }

  it('the bridge hearing us (its echo of our station status appearing, then following our TLV) is no restart: nothing re-sent', async () => {
    expect(UNHEARD_EVB).toMatchObject({
      sgid: false,
      rrreq: false,
      rrstat: 0,
      rrctr: false,
      rolRwd: false,
      rolRka: false,
    })
    expect(ECHO_FIRST_EVB).toMatchObject({sgid: true, rrstat: 3})
    expect(BRIDGE_EVB).toMatchObject({sgid: true, rrstat: 0, rolRwd: true, rolRka: true})
    // an uplink that came up: the bridge's first TLV has not heard us yet
    const t = setup([bridgeNeighbor(UNHEARD_EVB)])
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    const outcome = t.manager.associate(row(5))
    await run(t, 5)
    expect(await outcome).toEqual({ok: true, vid: 3628})
    const requests = t.bridge.counters.requests
    const announced = t.announced.length
    bridgeSends(t, ECHO_FIRST_EVB)
    await run(t, 100)
    bridgeSends(t, BRIDGE_EVB)
    await run(t, 1_000)
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toEqual([])
    expect(t.bridge.counters.requests).toBe(requests)
    expect(t.announced).toHaveLength(announced)
    expect(t.manager.status()?.resyncs).toBe(0)
  })

  it('a restarted bridge (lldpad killed, no shutdown LLDPDU: its TLV echoes us no more): notice, our LLDPDU at once, everything re-sent 50 ms later, once', async () => {
    const t = setup()
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    const outcome = t.manager.associate(row(3))
    await run(t, 5)
    await outcome
    const before = t.bridge.counters.requests
    const announced = t.announced.length
    bridgeSends(t, UNHEARD_EVB)
    expect(t.notices).toEqual([
      {
        type: 'bridge-restarted',
        reason: expect.stringMatching(/EVB TLV changed .*no longer echoes our station status/),
      },
    ])
    expect(t.announced.slice(announced)).toEqual(['eth0'])
    t.clock.advance(49)
    await flush()
    expect(t.bridge.counters.requests).toBe(before)
    t.clock.advance(1)
    await run(t, 3)
    expect(t.bridge.counters.requests).toBe(before + 1)
    expect(t.notices).toContainEqual({type: 'confirmed', portUuid: row(3).portUuid, vid: 3628})
    // it hears our LLDPDU: the echo comes back, and that is not a second restart
    bridgeSends(t, ECHO_FIRST_EVB)
    await run(t, 100)
    bridgeSends(t, BRIDGE_EVB)
    await run(t, 1_000)
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toHaveLength(1)
    expect(t.announced.slice(announced)).toEqual(['eth0'])
    expect(t.bridge.counters.requests).toBe(before + 1)
    expect(t.manager.status()?.resyncs).toBe(1)
  })

  it('our own port losing its link is no switch going away: VDP held, no notice; the bridge back re-sends once', async () => {
    const t = setup()
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    const outcome = t.manager.associate(row(7))
    await run(t, 5)
    await outcome
    const before = t.bridge.counters.requests
    const gone = t.heard.list[0]
    t.heard.list = []
    t.manager.onNeighborEvents([{type: 'removed', neighbor: gone, reason: 'link-down'}])
    expect(t.notices).toEqual([])
    expect(t.manager.status()?.held).toBe('the port lost its link; waiting for it to return')
    // the link back, the bridge heard again: VDP runs, what it holds is refreshed once
    bridgeSends(t, BRIDGE_EVB)
    t.manager.setEvb(NEGOTIATED)
    await run(t, 100)
    expect(t.manager.status()?.held).toBeNull()
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toEqual([])
    expect(t.bridge.counters.requests).toBe(before + 1)
  })

  it('the switch going away (its shutdown LLDPDU) is: VDP held, and a notice that its associations need confirming', async () => {
    const t = setup()
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    await run(t, 5)
    const gone = t.heard.list[0]
    t.heard.list = []
    t.manager.onNeighborEvents([{type: 'removed', neighbor: gone, reason: 'shutdown'}])
    expect(t.notices).toEqual([
      {type: 'bridge-restarted', reason: 'the switch went away (shutdown LLDPDU or TTL expiry)'},
    ])
    expect(t.manager.status()?.held).toMatch(/withdrew its EVB TLV/)
  })

  it('a bridge whose own EVB settings changed restarted, even while it echoes us: re-sent once', async () => {
    const t = setup()
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    const outcome = t.manager.associate(row(6))
    await run(t, 5)
    await outcome
    const before = t.bridge.counters.requests
    bridgeSends(t, {...BRIDGE_EVB, bgid: true})
    await run(t, 100)
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toEqual([
      {type: 'bridge-restarted', reason: expect.stringMatching(/own EVB settings changed/)},
    ])
    expect(t.bridge.counters.requests).toBe(before + 1)
  })

  it('a TLV restored from the database (a previous run) is no baseline: the bridge forgetting that run is no restart', async () => {
    // the table as a restarted daemon restores it: the bridge last heard (echoing our previous run) before this one
    const t = setup([{...bridgeNeighbor(BRIDGE_EVB), lastSeen: -5_000}])
    t.manager.open('eth0', HOST_MAC, NEGOTIATED)
    const outcome = t.manager.associate(row(7))
    await run(t, 5)
    await outcome
    const requests = t.bridge.counters.requests
    // that run's shutdown LLDPDU made the bridge forget it; then it hears us
    bridgeSends(t, UNHEARD_EVB)
    await run(t, 100)
    bridgeSends(t, BRIDGE_EVB)
    await run(t, 1_000)
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toEqual([])
    expect(t.bridge.counters.requests).toBe(requests)
    // from then on, what this run heard counts: the echo going is a restart
    bridgeSends(t, UNHEARD_EVB)
    expect(t.notices.filter((n) => n.type === 'bridge-restarted')).toHaveLength(1)
  })

  it('asks for the VLAN this switch assigned last; 0 on another uplink; the port’s own VLAN first', () => {
    expect(requestedVid(row(4, {vdpVlan: 3617, uplink: 'eth0'}), 'eth0')).toBe(3617)
    expect(requestedVid(row(4, {vdpVlan: 3617, uplink: 'eth1'}), 'eth0')).toBe(0)
    expect(requestedVid(row(4, {vdpVlan: 3617, uplink: 'eth1', vlan: 100}), 'eth0')).toBe(100)
    expect(requestedVid(row(4, {vdpVlan: null, uplink: 'eth0'}), 'eth0')).toBe(0)
  })
})
