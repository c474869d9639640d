import {describe, expect, it} from 'vitest'

import {LldpAgent, type LldpAgentSettings} from '../../src/lldp-agent/lldp-agent.js'
import type {NeighborEvent} from '../../src/lldp-agent/neighbor-table.js'
import {type EvbTlv, buildLldpFrame, decodeLldpFrame} from '../../src/lldp/index.js'
import {silentLogger} from '../../src/log/logger.js'
import {MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import {ManualClock} from '../../src/core/clock.js'

const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'
const bridgeEvb: EvbTlv = {
  bgid: true,
  rrcap: true,
  rrctr: false,
  sgid: false,
  rrreq: false,
  rrstat: 0,
  retries: 3,
  rte: 14,
  mode: 'bridge',
  rolRwd: false,
  rwd: 25,
  rolRka: false,
  rka: 27,
}

const settings: LldpAgentSettings = {
  mode: 'rxtx',
  txIntervalSeconds: 30,
  txHold: 4,
  txFastCount: 4,
  txFastIntervalSeconds: 1,
  systemName: 'host1.example',
  systemDescription: 'vdp-agent test',
  evb: {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: false, groupId: true},
}

const tick = () => new Promise<void>((r) => process.nextTick(r))

function torFrame(opts: {ttl?: number; evb?: EvbTlv} = {}): Buffer {
  return buildLldpFrame({
    dst: '01:80:c2:00:00:00',
    src: TOR_MAC,
    chassisId: {subtype: 4, value: TOR_MAC},
    portId: {subtype: 5, value: 'Ethernet1/7'},
    ttl: opts.ttl ?? 120,
    systemName: 'tor1',
    ...(opts.evb ? {evb: opts.evb} : {}),
  })
}

function setup(s = settings) {
  const clock = new ManualClock(0)
  const wire = new VirtualWire()
  const hostIo = new MemoryFrameIO('host')
  const torIo = new MemoryFrameIO('tor')
  wire.attach(hostIo, 'eth1', {mac: HOST_MAC}).attach(torIo, 'tor0', {mac: TOR_MAC})
  const events: NeighborEvent[] = []
  const agent = new LldpAgent(s, {
    frames: hostIo,
    clock,
    log: silentLogger,
    macOf: (i) => (i === 'eth1' ? HOST_MAC : undefined),
  })
  agent.on('neighbors', (e) => events.push(...e))
  const heard: Buffer[] = []
  const tor = torIo.open('tor0', 0x88cc, {multicast: ['01:80:c2:00:00:00'], onFrame: (f) => heard.push(f)})
  return {clock, wire, agent, events, tor, heard}
}

describe('LldpAgent', () => {
  it('learns the ToR over the wire, and forgets it on a shutdown LLDPDU', async () => {
    const {agent, events, tor} = setup()
    agent.setListenPorts(['eth1'])
    tor.send(torFrame({evb: bridgeEvb}))
    await tick()
    expect(events).toMatchObject([
      {
        type: 'added',
        neighbor: {
          ifname: 'eth1',
          chassisId: TOR_MAC,
          portId: 'Ethernet1/7',
          systemName: 'tor1',
          evb: {mode: 'bridge', rte: 14},
        },
      },
    ])
    tor.send(torFrame({ttl: 0}))
    await tick()
    expect(events.at(-1)).toMatchObject({type: 'removed', reason: 'shutdown'})
  })

  it('ages a silent neighbour out at its TTL, on its own timer', async () => {
    const {agent, events, tor, clock} = setup()
    agent.setListenPorts(['eth1'])
    tor.send(torFrame({ttl: 4}))
    await tick()
    clock.advance(3999)
    expect(events.map((e) => e.type)).toEqual(['added'])
    clock.advance(1)
    expect(events.at(-1)).toMatchObject({type: 'removed', reason: 'aged'})
    expect(agent.interfaceStats().eth1.ageouts).toBe(1)
  })

  it('counts and drops garbage; a repeated identical LLDPDU takes the no-decode fast path', async () => {
    const {agent, events, tor} = setup()
    agent.setListenPorts(['eth1'])
    const good = torFrame()
    const truncated = Buffer.from(good.subarray(0, 20))
    const noTtl = Buffer.from(good)
    noTtl[14 + 9 + 2 + 12] = 0x08 // TTL TLV's type byte turned into type 4 (Port Description)
    tor.send(truncated)
    tor.send(noTtl)
    tor.send(good)
    tor.send(good)
    await tick()
    const stats = agent.interfaceStats().eth1
    expect(stats.rxFrames).toBe(4)
    expect(stats.rxDiscarded).toBe(2)
    expect(Object.keys(stats.rxDiscardedByRule).length).toBeGreaterThan(0)
    expect(events.map((e) => (e.type === 'updated' ? `updated:${e.changed}` : e.type))).toEqual([
      'added',
      'updated:false',
    ])
  })

  it('transmits on the uplink: fast start, EVB station TLV negotiated against the bridge, shutdown on stop', async () => {
    const {agent, tor, clock, heard} = setup()
    agent.setListenPorts(['eth1'])
    agent.setTransmitPorts(['eth1'])
    clock.advance(0)
    await tick()
    const first = decodeLldpFrame(heard[0])
    expect(first).toMatchObject({
      src: HOST_MAC,
      dst: '01:80:c2:00:00:00',
      ttl: 121,
      systemName: 'host1.example',
      portId: {value: 'eth1'},
    })
    expect(first.evb).toMatchObject({mode: 'station', rrstat: 3, rte: 8, rwd: 20, rka: 20, sgid: true})
    expect(agent.negotiation('eth1')?.negotiated).toBeUndefined()

    tor.send(torFrame({evb: bridgeEvb}))
    await tick()
    expect(agent.negotiation('eth1')?.negotiated).toEqual({
      retries: 3,
      rte: 14,
      rwd: 25,
      rka: 27,
      groupIds: true,
      reflectiveRelay: false,
    })
    clock.advance(0) // the change is announced at once
    await tick()
    expect(decodeLldpFrame(heard.at(-1)!).evb).toMatchObject({
      mode: 'station',
      rrstat: 0,
      rte: 14,
      rwd: 25,
      rka: 27,
      rolRwd: true,
      rolRka: true,
      bgid: true,
    })

    const before = heard.length
    clock.advance(10_000)
    await tick()
    expect(heard.length - before).toBe(3) // the rest of the fast phase, 1 s apart; then every 30 s
    clock.advance(30_000)
    await tick()
    expect(heard.length - before).toBe(4)

    agent.stop()
    await tick()
    expect(decodeLldpFrame(heard.at(-1)!)).toMatchObject({ttl: 0, isShutdown: true})
  })

  it('ignores its own LLDPDUs looped back to it', () => {
    const {agent, events} = setup()
    const own = buildLldpFrame({
      dst: '01:80:c2:00:00:00',
      src: HOST_MAC,
      chassisId: {subtype: 4, value: HOST_MAC},
      portId: {subtype: 5, value: 'eth1'},
      ttl: 121,
    })
    agent.receive('eth1', own)
    expect(events).toEqual([])
    expect(agent.interfaceStats().eth1.rxDiscardedByRule).toEqual({'own-frame': 1})
  })

  it('receive-only mode never transmits', async () => {
    const {agent, clock, heard} = setup({...settings, mode: 'rx'})
    agent.setListenPorts(['eth1'])
    agent.setTransmitPorts(['eth1'])
    clock.advance(100_000)
    agent.stop()
    await tick()
    expect(heard).toEqual([])
  })

  it('link down clears what was heard on that port', async () => {
    const {agent, events, tor} = setup()
    agent.setListenPorts(['eth1'])
    tor.send(torFrame())
    await tick()
    agent.dropInterface('eth1', 'link-down')
    expect(events.at(-1)).toMatchObject({type: 'removed', reason: 'link-down'})
    expect(agent.table.list()).toEqual([])
  })
})
