/**
 * Issue 4 end to end: the daemon in a "host" namespace, three veth links to a "tor" namespace where lldpd
 * plays a plain LLDP neighbour on one port and Debian's lldpad the EVB bridge on another.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab} from '../../src/lab/netns.js'
import {
  type LldpadHandle,
  type LldpdHandle,
  configureEvb,
  startLldpad,
  startLldpd,
  waitForEvbPeer,
} from '../helpers/peers.js'
import {type ProbeClient, startProbe} from '../helpers/probe-client.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

interface UplinkJson {
  ifname: string | null
  state: string
  source: string | null
  reason: string | null
  changedAt: string | null
  evb: {retries: number; rte: number; rwd: number; rka: number} | null
  lldp?: {listening: string[]; transmitting: string[]}
  override?: {ifname: string | null; error: string | null}
}
interface NeighborsJson {
  neighbors: {ifname: string; systemName: string | null; portId: string; evb: {mode: string} | null}[]
}

const lab = new Lab()
let host = ''
let tor = ''
let lldpd: LldpdHandle
let lldpad: LldpadHandle
let agent: AgentProcess
let home: ReturnType<typeof makeAgentHome>

const LLDPD = {ifname: 'ta', hostname: 'tor1.example', txInterval: 1, config: ['configure lldp portidsubtype ifname']}

/** lldpd's monitor and its privilege-separated child (the PIDs whose parent is the monitor). */
async function lldpdPids(monitor: number): Promise<number[]> {
  const {readdir, readFile} = await import('node:fs/promises')
  const children: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === monitor) children.push(Number(entry))
  }
  return [monitor, ...children]
}

const uplink = () => cliJson<UplinkJson>(['uplink', 'show'], home.config)
const neighbors = () => cliJson<NeighborsJson>(['neighbors'], home.config)

beforeAll(async () => {
  host = await lab.addNamespace('host')
  tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'ha', mac: '02:00:00:00:01:0a'},
    {ns: tor, ifname: 'ta', mac: '02:00:00:00:02:0a'},
  )
  await lab.addVethPair(
    {ns: host, ifname: 'hb', mac: '02:00:00:00:01:0b'},
    {ns: tor, ifname: 'tb', mac: '02:00:00:00:02:0b'},
  )
  await lab.addVethPair(
    {ns: host, ifname: 'hc', mac: '02:00:00:00:01:0c'},
    {ns: tor, ifname: 'tc', mac: '02:00:00:00:02:0c'},
  )
  for (const [ns, ifname] of [
    [host, 'ha'],
    [host, 'hb'],
    [host, 'hc'],
    [tor, 'ta'],
    [tor, 'tb'],
    [tor, 'tc'],
  ])
    await lab.waitForOperstate(ns, ifname, 'up')
  lldpd = await startLldpd(lab, tor, LLDPD)
  lldpad = await startLldpad(lab, tor)
  await configureEvb(lldpad, 'tb', 'bridge', {ecpRetries: 3, ecpRte: 14, vdpRwd: 22, vdpRka: 24})
  home = makeAgentHome(
    '[uplink]\nmode = auto\ncandidate_kinds = veth\ndown_debounce = 2\ndetection_interval = 5\n[lldp]\ntx_interval = 2\n',
  )
  agent = await AgentProcess.start(lab, host, home)
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

describe('uplink detection against lldpd and lldpad', () => {
  it('finds the one EVB-capable port among several veths', async () => {
    const u = await eventually('uplink up', uplink, (u) => u.state === 'up')
    expect(u).toMatchObject({ifname: 'hb', source: 'lldp', state: 'up'})
    expect(u.reason).toMatch(/EVB bridge .* on hb/)
    expect(u.lldp).toEqual({listening: ['ha', 'hb', 'hc'], transmitting: ['hb']})
  })

  it('lists both neighbours: lldpd on ha (no EVB) and lldpad on hb (EVB bridge)', async () => {
    const n = await eventually('both neighbours', neighbors, (n) => n.neighbors.length >= 2)
    const byIf = Object.fromEntries(n.neighbors.map((x) => [x.ifname, x]))
    expect(byIf.ha).toMatchObject({systemName: 'tor1.example', portId: 'ta', evb: null})
    expect(byIf.hb?.evb).toMatchObject({mode: 'bridge'})
  })

  it('negotiates the EVB values lldpad advertises, and lldpad sees our station TLV', async () => {
    const u = await eventually('EVB negotiated', uplink, (u) => u.evb !== null)
    // lldpad's own view of its bridge TLV after negotiation with us
    const local = (await lldpad.lldptool(['-t', '-i', 'tb', '-g', 'ncb', '-V', 'evb'])).stdout
    const m = /retries:(\d+) rte:(\d+)[\s\S]*rwd:(\d+)[\s\S]*rka:(\d+)/.exec(local)
    expect(m, local).not.toBeNull()
    const [retries, rte, rwd, rka] = m!.slice(1).map(Number)
    expect(u.evb).toMatchObject({retries, rte, rwd, rka})
    expect(u.evb).toMatchObject({retries: 3, rte: 14, rwd: 22, rka: 24}) // lldpad's larger values win over our defaults (3, 8, 20, 20)
    const station = await waitForEvbPeer(lab, lldpad, 'tb', 'station')
    expect(station).toMatch(/mode:station/)
  })

  it('counts garbage LLDPDUs on the wire and keeps running', async () => {
    const probe: ProbeClient = await startProbe(lab, tor, 'frame-probe')
    await probe.request('open', {id: 'g', ifname: 'tc', ethertype: 0x88cc})
    const header = '0180c200000e' + '02000000020c' + '88cc'
    const garbage = [
      header + '0207', // chassis TLV header running past the end
      header + '02ff' + '00'.repeat(40), // hostile length
      header + '0403056574683000', // port ID first: chassis missing
      header + 'fe09' + '0080c20d'.repeat(3), // starts with an org TLV
      // issue 10 item 6: the TTL TLV comes fourth
      '0180c200000002000000020088cc020704020000000200040c0745746865726e6574312f370a0c746f72312e6578616d706c65060200780e0400140014fe090080c20d00006854140000',
    ]
    for (const hex of garbage) await probe.request('send', {id: 'g', hex})
    await probe.close()
    const counted = await eventually(
      'garbage counted on hc',
      lldpStatsOf,
      (s) => (s.hc?.rxDiscarded ?? 0) >= garbage.length,
    )
    expect(counted.hc.rxFrames).toBeGreaterThanOrEqual(garbage.length)
    // every discard under the rule it broke, in the CLI (lldp stats, status)
    const stats = await cliJson<{interfaces: Record<string, {rxDiscardedByRule: Record<string, number>}>}>(
      ['lldp', 'stats'],
      home.config,
    )
    expect(stats.interfaces.hc.rxDiscardedByRule).toMatchObject({'tlv-overrun': 2, 'mandatory-tlv-order': 3})
    expect(Object.keys(stats.interfaces.hc.rxDiscardedByRule)).not.toContain('not-an-lldpdu')
    expect((await cli(['lldp', 'stats', '--config', home.config])).stdout).toMatch(/hc\s+mandatory-tlv-order\s+3/)
    expect((await cli(['status', '--config', home.config])).stdout).toMatch(
      /lldp: +\d+ LLDPDUs discarded \(.*mandatory-tlv-order 3/,
    )
    expect(JSON.parse((await cli(['status', '--json', '--config', home.config])).stdout).daemon.running).toBe(true)
    expect((await uplink()).state).toBe('up')
  })

  it('the override file set and cleared while running moves the uplink and back', async () => {
    expect((await cli(['uplink', 'set', 'hc', '--config', home.config])).code).toBe(0)
    await eventually('override applied', uplink, (u) => u.ifname === 'hc')
    expect(await uplink()).toMatchObject({ifname: 'hc', source: 'override', state: 'up'})
    expect((await cli(['uplink', 'clear', '--config', home.config])).code).toBe(0)
    await eventually('back to LLDP', uplink, (u) => u.ifname === 'hb' && u.source === 'lldp' && u.state === 'up')
  })

  it('a shutdown LLDPDU removes the neighbour at once (lldpd stopped with SIGTERM)', async () => {
    await lldpd.stop()
    await eventually('lldpd neighbour gone', neighbors, (n) => !n.neighbors.some((x) => x.ifname === 'ha'), 3000)
  })

  it('a neighbour that goes silent ages out by its TTL (lldpd frozen, no shutdown LLDPDU)', async () => {
    lldpd = await startLldpd(lab, tor, LLDPD)
    await eventually('lldpd heard again', neighbors, (n) => n.neighbors.some((x) => x.ifname === 'ha'))
    // Killing lldpd lets its child send a shutdown LLDPDU; freezing both makes it silent.
    const pids = await lldpdPids(lldpd.pid)
    for (const pid of pids) process.kill(pid, 'SIGSTOP')
    try {
      const t0 = Date.now()
      await eventually('aged out', neighbors, (n) => !n.neighbors.some((x) => x.ifname === 'ha'), 15_000, 100)
      // lldpd's TTL is tx-interval (1 s) × hold (4): it stayed until that ran out, it was not dropped at once
      expect(Date.now() - t0).toBeGreaterThan(1500)
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT')
      await lldpd.stop()
    }
  })

  it('carrier loss on the uplink gives down at once', async () => {
    await lab.setLink(tor, 'tb', {down: true})
    const u = await eventually('uplink down', uplink, (u) => u.state === 'down', 5000, 20)
    expect(u).toMatchObject({ifname: 'hb', state: 'down'})
    expect(u.reason).toMatch(/lost carrier/)
    await lab.setLink(tor, 'tb', {up: true})
    await eventually('uplink back up', uplink, (u) => u.ifname === 'hb' && u.state === 'up', 60_000, 100)
  })

  it('follows a rename of a listened port and the deletion of another', async () => {
    await lab.setLink(host, 'ha', {down: true})
    await lab.setLink(host, 'ha', {name: 'hz'})
    await lab.setLink(host, 'hz', {up: true})
    await eventually(
      'renamed port listened to',
      uplink,
      (u) => (u.lldp?.listening ?? []).includes('hz') && !(u.lldp?.listening ?? []).includes('ha'),
    )
    await lab.deleteLink(host, 'hc')
    await eventually('deleted port dropped', uplink, (u) => !(u.lldp?.listening ?? []).includes('hc'))
    expect((await uplink()).state).toBe('up')
  })

  it('a restart resumes the uplink from the database, with no down in between', async () => {
    const before = await uplink()
    expect(await agent.stop()).toBe(0)
    const offline = await uplink()
    expect(offline).toMatchObject({ifname: 'hb', state: 'up', answeredBy: 'database'})
    agent = await AgentProcess.start(lab, host, home)
    const after = await uplink()
    expect(after).toMatchObject({ifname: 'hb', state: 'up', source: 'lldp', answeredBy: 'daemon'})
    expect(after.changedAt).toBe(before.changedAt)
    expect(agent.output).not.toMatch(/"msg":"uplink changed"/)
  })
})

async function lldpStatsOf(): Promise<Record<string, {rxFrames: number; rxDiscarded: number}>> {
  const {callDaemon} = await import('../../src/control/client.js')
  const stats = await callDaemon(home.socket, 'lldp.stats')
  return stats.interfaces
}
