/**
 * Issue 10 item 5 end to end: 15 spoofed neighbours (no EVB TLV, TTL 65535) on the uplink next to lldpad as
 * the EVB bridge, a graceful restart of lldpad (its shutdown LLDPDU frees its slot), one more fake: lldpad is
 * heard again when it comes back, and after a restart of the daemon too (the fakes were persisted).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab} from '../../src/lab/netns.js'
import {type LldpadHandle, configureEvb, startLldpad} from '../helpers/peers.js'
import {type ProbeClient, startProbe} from '../helpers/probe-client.js'
import {buildLldpFrame} from '../../src/lldp/index.js'
import {AgentProcess, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

interface NeighborsJson {
  neighbors: {ifname: string; portId: string; evb: {mode: string} | null}[]
}
interface UplinkJson {
  ifname: string | null
  state: string
}

const lab = new Lab()
let host = ''
let tor = ''
let lldpad: LldpadHandle
let probe: ProbeClient

const fake = (i: number) =>
  buildLldpFrame({
    dst: '01:80:c2:00:00:0e',
    src: `02:99:00:00:00:${i.toString(16).padStart(2, '0')}`,
    chassisId: {subtype: 7, value: `fake-chassis-${i}`},
    portId: {subtype: 7, value: `fake${i}`},
    ttl: 65535,
  }).toString('hex')

beforeAll(async () => {
  host = await lab.addNamespace('host')
  tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'hu', mac: '02:00:00:00:01:0e'},
    {ns: tor, ifname: 'tu', mac: '02:00:00:00:02:0e'},
  )
  await lab.waitForOperstate(host, 'hu', 'up')
  await lab.waitForOperstate(tor, 'tu', 'up')
  lldpad = await startLldpad(lab, tor)
  await configureEvb(lldpad, 'tu', 'bridge')
  probe = await startProbe(lab, tor, 'frame-probe')
  await probe.request('open', {id: 'f', ifname: 'tu', ethertype: 0x88cc})
}, 60_000)

afterAll(async () => {
  await probe?.close()
  await lab.destroy()
})

describe('the neighbour table bound never locks the switch out', () => {
  it('15 fakes, lldpad restarted gracefully, one more fake: lldpad is back as the EVB bridge, across a daemon restart too', async () => {
    const home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\ndown_debounce = 1\n', {logLevel: 'info'})
    let agent = await AgentProcess.start(lab, host, home)
    const neighbors = () => cliJson<NeighborsJson>(['neighbors'], home.config)
    const uplink = () => cliJson<UplinkJson>(['uplink', 'show'], home.config)
    await eventually('uplink up on hu', uplink, (u) => u.ifname === 'hu' && u.state === 'up', 20_000)
    for (let i = 0; i < 15; i++) await probe.request('send', {id: 'f', hex: fake(i)})
    await eventually('16 neighbours', neighbors, (n) => n.neighbors.length === 16)

    await lldpad.stop() // SIGTERM: lldpad says goodbye with a shutdown LLDPDU
    await eventually(
      'the EVB bridge gone',
      neighbors,
      (n) => !n.neighbors.some((x) => x.evb?.mode === 'bridge'),
      10_000,
    )
    await probe.request('send', {id: 'f', hex: fake(15)})
    await eventually('16 fakes', neighbors, (n) => n.neighbors.length === 16)
    lldpad = await startLldpad(lab, tor)
    await configureEvb(lldpad, 'tu', 'bridge')
    const back = await eventually(
      'lldpad heard again',
      neighbors,
      (n) => n.neighbors.some((x) => x.evb?.mode === 'bridge'),
      20_000,
    )
    expect(back.neighbors).toHaveLength(16)
    await eventually('uplink up again', uplink, (u) => u.ifname === 'hu' && u.state === 'up', 10_000)

    // the daemon restarts while a 16th fake again fills the table (lldpad restarted once more)
    await lldpad.stop()
    await eventually(
      'the EVB bridge gone',
      neighbors,
      (n) => !n.neighbors.some((x) => x.evb?.mode === 'bridge'),
      10_000,
    )
    await probe.request('send', {id: 'f', hex: fake(16)})
    await eventually('16 fakes again', neighbors, (n) => n.neighbors.length === 16)
    expect(await agent.stop()).toBe(0)
    lldpad = await startLldpad(lab, tor)
    await configureEvb(lldpad, 'tu', 'bridge')
    agent = await AgentProcess.start(lab, host, home)
    await eventually('uplink up after the daemon restart', uplink, (u) => u.ifname === 'hu' && u.state === 'up', 20_000)
    // The uplink resumes from the database at once; lldpad is heard when it answers the daemon's greeting.
    const after = await eventually(
      'lldpad heard after the daemon restart',
      neighbors,
      (n) => n.neighbors.some((x) => x.evb?.mode === 'bridge'),
      20_000,
    )
    expect(after.neighbors).toHaveLength(16)
    expect(after.neighbors.filter((n) => n.evb?.mode === 'bridge')).toHaveLength(1)
    expect(await agent.stop()).toBe(0)
  })
})
