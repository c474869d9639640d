/**
 * Issue 13: the daemon's Prometheus endpoint scraped while it runs against our ToR simulator in a namespace
 * lab, each value checked against what the CLI says and against an independent count: the frames this test
 * injects, the simulator's own counters and VSI table, and the ECP frames on the wire (captured with tcpdump
 * and read back with `vdp decode`'s decoder).
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {callControl, callDaemon} from '../../src/control/client.js'
import {ETHERTYPE_ECP, ethertypeOffset} from '../../src/core/ethernet.js'
import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {Lab, type LabProcess} from '../../src/lab/netns.js'
import {type ProbeClient, startProbe} from '../helpers/probe-client.js'
import {readPcapRecords} from '../../src/pcap/index.js'
import type {VsiRecord} from '../../src/model/vsi.js'
import {decodeEcpVdpFrame, EcpExchangeTracker} from '../../src/vdp/frame-decode.js'
import {samples} from '../helpers/prometheus-text.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let agent: AgentProcess
let home: ReturnType<typeof makeAgentHome>
let torSocket = ''
let hostNs = ''
let torNs = ''
let capture = ''
let tcpdump: LabProcess

const NET = '5b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const port = (i: number) => `7e2d0b61-7c4a-4f1e-8b3d-${String(i).padStart(12, '0')}`
const mac = (i: number) => `52:54:00:02:00:${i.toString(16).padStart(2, '0')}`
const up = (i: number) =>
  callDaemon(home.socket, 'vm.up', {portUuid: port(i), mac: mac(i), netUuid: NET, segmentationId: 20000 + i})
const vsi = (i: number) => callDaemon(home.socket, 'vsi.get', {portUuid: port(i)}) as Promise<VsiRecord | null>
const tor = (method: string, params?: unknown) => callControl(torSocket, method, params)

interface TorCounters {
  counters: {bridge: {droppedAcks: number; rejections: number; requests: number}}
  vsis: number
}
interface VdpTotals {
  transport: {retransmissions: number; giveUps: number} | null
  totals: {transport: Record<string, number>; station: Record<string, number>}
}

/** GET /metrics from inside the host namespace, where the daemon listens on loopback. */
async function scrape(port = 9477): Promise<Map<string, number>> {
  const script = `fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`
  const {stdout} = await lab.exec(hostNs, [process.execPath, '-e', script])
  return samples(stdout)
}

const sum = (s: Map<string, number>, prefix: string) =>
  [...s].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0)

beforeAll(async () => {
  hostNs = await lab.addNamespace('host')
  torNs = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: hostNs, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: torNs, ifname: 'tor1', mac: '02:00:00:00:02:01'},
  )
  await lab.waitForOperstate(hostNs, 'eth1', 'up')
  const dir = await lab.tempDir('metrics')
  torSocket = join(dir, 'tor.sock')
  capture = join(dir, 'ecp.pcap')
  // Immediate mode: libpcap hands each frame to tcpdump at once (otherwise a ring block waits up to 1 s), so
  // the capture holds every frame by the time a test reads it.
  tcpdump = lab.spawn(hostNs, [
    'tcpdump',
    '--immediate-mode',
    '-i',
    'eth1',
    '-U',
    '-w',
    capture,
    'ether',
    'proto',
    '0x8940',
  ])
  // RTE 14 (164 ms ACK timer): only dropped ACKs cause retransmissions, never a slow simulator.
  lab.spawn(
    torNs,
    [
      process.execPath,
      CLI,
      'lab',
      'tor',
      '-i',
      'tor1',
      '--control',
      torSocket,
      '--vlan-from-segment',
      '--rte',
      '14',
      '--min-tx-gap-ms',
      '0',
      '--log-format',
      'json',
    ],
    {env: CHILD_ENV},
  )
  await eventually(
    'simulator up',
    () =>
      tor('status').then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    20_000,
  )
  home = makeAgentHome(
    '[uplink]\nmode = auto\ncandidate_kinds = veth\ndetection_interval = 1\n[lldp]\nevb_rte = 14\n[vdp]\nretry_initial = 0.2\nretry_max = 1\n[metrics]\nlisten = on\n',
  )
  agent = await AgentProcess.start(lab, hostNs, home)
  await eventually(
    'uplink up',
    () => cliJson<{state: string}>(['uplink', 'show'], home.config),
    (u) => u.state === 'up',
    30_000,
  )
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

describe('metrics of a running daemon', () => {
  it('uplink, neighbours and VSIs agree with the CLI and the simulator', async () => {
    for (let i = 1; i <= 5; i++) await up(i)
    for (let i = 1; i <= 5; i++)
      await eventually(
        `port ${i} associated`,
        () => vsi(i),
        (v) => v?.state === 'associated',
      )
    const s = await scrape()
    const uplink = await cliJson<{ifname: string; source: string; state: string}>(['uplink', 'show'], home.config)
    expect(s.get('vdp_agent_uplink_up')).toBe(1)
    expect(
      s.get(`vdp_agent_uplink_info{interface="${uplink.ifname}",source="${uplink.source}",state="${uplink.state}"}`),
    ).toBe(1)
    const {neighbors} = await cliJson<{neighbors: {ifname: string}[]}>(['neighbors'], home.config)
    expect(neighbors.filter((n) => n.ifname === 'eth1')).toHaveLength(1) // the simulator
    expect(s.get('vdp_agent_lldp_neighbors{interface="eth1"}')).toBe(1)
    const status = await cliJson<{vsis: {byState: Record<string, number>}; outbox: {pending: number}}>(
      ['status'],
      home.config,
    )
    for (const state of ['pending', 'associating', 'associated', 'deassociating', 'failed']) {
      expect(s.get(`vdp_agent_vsis{state="${state}"}`), state).toBe(status.vsis.byState[state] ?? 0)
    }
    expect(s.get('vdp_agent_vsis{state="associated"}')).toBe(((await tor('status')) as TorCounters).vsis)
    expect(s.get('vdp_agent_outbox_pending')).toBe(status.outbox.pending)
    expect(s.get('vdp_agent_vsi_association_duration_seconds_count{operation="assoc"}')).toBe(5)
    expect(s.get('vdp_agent_queue_depth{priority="vm"}')).toBe(0)
  })

  it('rejected LLDP frames by rule: the garbage this test injects', async () => {
    const before = sum(await scrape(), 'vdp_agent_lldp_rejected_frames_total{interface="eth1"')
    const probe: ProbeClient = await startProbe(lab, torNs, 'frame-probe')
    await probe.request('open', {id: 'g', ifname: 'tor1', ethertype: 0x88cc})
    const header = '0180c200000e' + '02000000020c' + '88cc'
    const garbage = [header + '0207', header + '0403056574683000', header + '0403056574683000']
    for (const hex of garbage) await probe.request('send', {id: 'g', hex})
    await probe.close()
    const s = await eventually(
      'rejects counted',
      scrape,
      (m) => sum(m, 'vdp_agent_lldp_rejected_frames_total{interface="eth1"') >= before + 3,
    )
    expect(sum(s, 'vdp_agent_lldp_rejected_frames_total{interface="eth1"') - before).toBe(3)
    const stats = (await callDaemon(home.socket, 'lldp.stats')) as {
      interfaces: Record<string, {rxDiscardedByRule: Record<string, number>}>
    }
    for (const [rule, n] of Object.entries(stats.interfaces.eth1.rxDiscardedByRule)) {
      expect(s.get(`vdp_agent_lldp_rejected_frames_total{interface="eth1",rule="${rule}"}`), rule).toBe(n)
    }
  })

  it('ECP retransmissions: the ACKs the simulator dropped, the frames on the wire, the daemon’s own totals', async () => {
    await tor('set-faults', {dropAckRate: 0.5})
    // One port at a time, so each goes in its own ECPDU (the station packs concurrent ones together).
    for (let i = 6; i <= 12; i++) {
      await up(i)
      await eventually(
        `port ${i} associated`,
        () => vsi(i),
        (v) => v?.state === 'associated',
        20_000,
      )
    }
    await tor('set-faults', {})
    await new Promise((r) => setTimeout(r, 500)) // the last retransmissions settle
    const s = await scrape()
    const sim = (await tor('status')) as TorCounters
    const retransmissions = s.get('vdp_agent_ecp_retransmissions_total')!
    const timeouts = s.get('vdp_agent_ecp_timeouts_total')!
    expect(retransmissions).toBeGreaterThan(0)
    // Every dropped ACK makes the station send again, except the last of an ECPDU it then gives up on.
    expect(retransmissions).toBe(sim.counters.bridge.droppedAcks - timeouts)
    const stats = (await callDaemon(home.socket, 'vdp.stats')) as VdpTotals
    expect(retransmissions).toBe(stats.totals.transport.retransmissions)
    // The same count read off the wire by the decoder behind `vdp decode`.
    const tracker = new EcpExchangeTracker()
    const assigned = new Map<string, number>()
    let n = 0
    for await (const r of readPcapRecords(capture)) {
      n++
      if (ethertypeOffset(r.data, ETHERTYPE_ECP) < 0) continue
      const frame = decodeEcpVdpFrame(Buffer.from(r.data))
      tracker.observe(n, r.timestampNs, frame)
      for (const t of frame.vdp?.tlvs ?? []) {
        if (t.kind === 'vsi' && t.mode === 'assoc' && t.status.kind === 'response' && t.vsiid.format === 'uuid')
          assigned.set(t.vsiid.uuid, t.filter.entries[0].vid)
      }
    }
    const wire = tracker.totals()
    expect(wire.retransmissions).toBe(
      retransmissions +
        (sim as unknown as {counters: {transport: {retransmissions: number}}}).counters.transport.retransmissions,
    )
    console.log(
      `ECP retransmissions: metric ${retransmissions}, simulator dropped ACKs ${sim.counters.bridge.droppedAcks}, timeouts ${timeouts}, on the wire ${wire.retransmissions}`,
    )
    // The VLAN each response on the wire assigned is the one the CLI and the simulator hold.
    const vsis = await cliJson<
      {vsis: {portUuid: string; vdpVlan: number | null}[]} | {portUuid: string; vdpVlan: number | null}[]
    >(['vsi', 'list'], home.config)
    const list = Array.isArray(vsis) ? vsis : vsis.vsis
    const held = (await tor('vsis')) as {vsiid: {uuid?: string}; vids: number[]}[]
    for (let i = 1; i <= 12; i++) {
      expect(assigned.get(port(i)), port(i)).toBe(list.find((v) => v.portUuid === port(i))?.vdpVlan)
      expect(assigned.get(port(i))).toBe(held.find((v) => v.vsiid.uuid === port(i))?.vids[0])
    }
    expect(s.get('vdp_agent_vsi_association_duration_seconds_count{operation="assoc"}')).toBe(12)
  })

  it('VDP errors by reason: the rejections the simulator made', async () => {
    await tor('set-faults', {reject: {code: 2, hard: false, keep: false}})
    await up(20)
    await eventually(
      'rejected',
      () => vsi(20),
      (v) => (v?.attempts ?? 0) >= 1,
    )
    await tor('set-faults', {})
    await eventually(
      'associated after the fault',
      () => vsi(20),
      (v) => v?.state === 'associated',
      20_000,
    )
    const s = await scrape()
    const sim = (await tor('status')) as TorCounters
    expect(s.get('vdp_agent_vdp_errors_total{operation="assoc",reason="insufficient_resources"}')).toBe(
      sim.counters.bridge.rejections,
    )
    expect(sim.counters.bridge.rejections).toBeGreaterThan(0)
  })

  it('counters survive an uplink change; the periodic task reports its runs', async () => {
    const before = await scrape()
    const retransmissions = before.get('vdp_agent_ecp_retransmissions_total')!
    expect((await cli(['uplink', 'set', 'lo', '--config', home.config])).code).toBe(0)
    await eventually(
      'uplink moved',
      () => cliJson<{ifname: string}>(['uplink', 'show'], home.config),
      (u) => u.ifname === 'lo',
    )
    expect((await cli(['uplink', 'clear', '--config', home.config])).code).toBe(0)
    await eventually(
      'uplink back',
      () => cliJson<{ifname: string; state: string}>(['uplink', 'show'], home.config),
      (u) => u.ifname === 'eth1' && u.state === 'up',
    )
    await eventually(
      're-associated',
      () => vsi(1),
      (v) => v?.state === 'associated',
      20_000,
    )
    const stats = (await callDaemon(home.socket, 'vdp.stats')) as VdpTotals
    expect(stats.transport!.retransmissions).toBeLessThan(retransmissions) // the new session started from 0...
    const after = await eventually(
      'task ran',
      scrape,
      (m) => (m.get('vdp_agent_task_runs_total{task="reconcile"}') ?? 0) >= 1,
    )
    expect(after.get('vdp_agent_ecp_retransmissions_total')).toBeGreaterThanOrEqual(retransmissions) // ...the metric did not
    expect(after.get('vdp_agent_ecp_retransmissions_total')).toBe(stats.totals.transport.retransmissions)
    expect(after.get('vdp_agent_task_errors_total{task="reconcile"}')).toBe(0)
    expect(after.get('vdp_agent_task_last_success_timestamp_seconds{task="reconcile"}')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    )
    await tcpdump.stop()
  })

  it('SIGHUP with a new [metrics] listen moves the endpoint; the counts go on', async () => {
    const before = (await scrape()).get('vdp_agent_ecp_retransmissions_total')
    writeFileSync(home.config, readFileSync(home.config, 'utf8').replace('listen = on', 'listen = :9478'))
    agent.signal('SIGHUP')
    const moved = await eventually(
      'endpoint moved',
      () => scrape(9478).catch(() => new Map<string, number>()),
      (m) => m.has('vdp_agent_uplink_up'),
    )
    expect(moved.get('vdp_agent_ecp_retransmissions_total')).toBe(before)
    await expect(scrape(9477)).rejects.toThrow()
  })
})
