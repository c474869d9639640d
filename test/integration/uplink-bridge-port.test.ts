/**
 * Issue 12 item 1: the uplink enslaved to a Linux bridge. The bridge's rx_handler consumes frames for
 * 01:80:c2:00:00:00 before sockets bound to one ethertype see them; the agent's frame sockets tap ETH_P_ALL
 * with a kernel filter (docs/net.md), so the EVB TLV and the ECP ACKs are still heard and the VM port
 * associates. The ToR simulator is the switch.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab} from '../../src/lab/netns.js'
import {type ProbeClient, startProbe} from '../helpers/probe-client.js'
import {type TorProcess, startTorSimulator} from '../../src/lab/tor-process.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let host = ''
let vmProbe: ProbeClient
let sim: TorProcess
let home: ReturnType<typeof makeAgentHome>

const PORT = '5d1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

beforeAll(async () => {
  host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:01'},
  )
  // The operator's bridge with STP off (the kernel default) and a VM port on it.
  await lab.addBridge(host, 'br0')
  await lab.setLink(host, 'eth0', {master: 'br0'})
  const vm = await lab.addNamespace('vm')
  await lab.addVethPair(
    {ns: host, ifname: 'tap0', mac: '02:00:00:00:03:01'},
    {ns: vm, ifname: 'vnic0', mac: '52:54:00:12:34:01'},
  )
  await lab.setLink(host, 'tap0', {master: 'br0'})
  vmProbe = await startProbe(lab, vm, 'frame-probe')
  await vmProbe.request('open', {id: 'lldp', ifname: 'vnic0', ethertype: 0x88cc, multicast: ['01:80:c2:00:00:00']})
  await lab.setLink(host, 'br0', {up: true})
  await lab.waitForOperstate(host, 'eth0', 'up')
  sim = await startTorSimulator(lab, tor, {
    ifname: 'sw0',
    args: ['--vlan-from-segment', '--bgid', '--system-name', 'leaf-7', '--min-tx-gap-ms', '0', '--tx-interval', '1'],
  })
  home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\ntx_interval = 1\n')
  await AgentProcess.start(lab, host, home)
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

describe('an uplink that is a Linux bridge port', () => {
  it('is found by LLDP: the bridge port is a candidate and the EVB TLV is heard', async () => {
    const links = await lab.links(host)
    expect(links.find((l) => l.ifname === 'eth0')?.master).toBe('br0')
    const u = await eventually(
      'uplink up',
      () => cliJson<{ifname: string; state: string; reason: string}>(['uplink', 'show'], home.config),
      (u) => u.state === 'up',
    )
    expect(u).toMatchObject({ifname: 'eth0', state: 'up'})
    expect(u.reason).toMatch(/EVB bridge leaf-7 .*on eth0/)
  })

  it('associates a VM port: the ECP ACKs and the VDP response are heard through the bridge', async () => {
    const r = await cli([
      'vm',
      'up',
      '--port',
      PORT,
      '--mac',
      '52:54:00:12:34:01',
      '--net',
      NET,
      '--segment',
      '20000',
      '--wait',
      '--json',
      '--config',
      home.config,
    ])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const vsi = JSON.parse(r.stdout) as {state: string; vdpVlan: number; uplink: string}
    expect(vsi).toMatchObject({state: 'associated', uplink: 'eth0'})
    expect(vsi.vdpVlan).toBeGreaterThan(0)
    const switchView = (await sim.call('vsis')) as {vsiid?: string; state?: string}[]
    expect(switchView.length).toBe(1)
  })

  it('de-associates it again', async () => {
    const r = await cli(['vm', 'down', '--port', PORT, '--wait', '--json', '--config', home.config])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    await eventually(
      'switch forgot the VSI',
      async () => (await sim.call('vsis')) as unknown[],
      (v) => v.length === 0,
    )
  })

  it("with STP off (the default) the bridge floods the switch's EVB LLDPDUs to the VM port: what docs/net.md tells the operator to stop", async () => {
    const from = vmProbe.mark()
    const frame = await vmProbe.waitFor((m) => m.ev === 'frame' && m.src === '02:00:00:00:02:01', {
      from,
      timeoutMs: 5000,
      what: 'the switch LLDPDU on the VM port',
    })
    expect(frame.dst).toBe('01:80:c2:00:00:00')
  })

  it('with STP on the bridge keeps them to itself, and the agent still hears the switch', async () => {
    await lab.exec(host, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'stp_state', '1'])
    await new Promise((r) => setTimeout(r, 500))
    const from = vmProbe.mark()
    const heardBefore = await neighborLastSeen()
    await new Promise((r) => setTimeout(r, 3000))
    expect(vmProbe.messages.slice(from).filter((m) => m.ev === 'frame' && m.src === '02:00:00:00:02:01')).toEqual([])
    // the agent's tap keeps receiving the switch's LLDPDUs (1 s apart): the neighbour was seen again since
    expect(await neighborLastSeen()).toBeGreaterThan(heardBefore + 2000)
    expect((await cliJson<{state: string}>(['uplink', 'show'], home.config)).state).toBe('up')
  })
})

async function neighborLastSeen(): Promise<number> {
  const n = await cliJson<{neighbors: {ifname: string; lastSeen: number}[]}>(['neighbors'], home.config)
  return n.neighbors.find((x) => x.ifname === 'eth0')!.lastSeen
}
