/**
 * Issue 12 items 2-6 with real Open vSwitch (userspace datapath, private instances started here):
 *
 *   vm ns: vnic0 ── tap0 [br-int, tag=LVID, iface-id=PORT] ── int-br-ethd ═ phy-br-ethd [br-ethd] ── eth0
 *                                                                                                     │ veth
 *   tor ns: ToR simulator on sw0; a second OVS (br-tor): sw0 trunk, rsw0 access on the assigned VLAN ── remote ns: rh0
 *
 * The simulator forwards no data, so the test reads the VLAN it assigned and sets the ToR's access port to it
 * (again after a VLAN change). A ping VM -> remote only works once the agent's translation flows are in.
 */
import {readFileSync} from 'node:fs'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {FlowsView} from '../../src/dataplane/index.js'
import {Lab} from '../../src/lab/netns.js'
import {type LabOvs, startOvs} from '../../src/lab/ovs.js'
import {type TorProcess, startTorSimulator} from '../../src/lab/tor-process.js'
import {samples} from '../helpers/prometheus-text.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let host = ''
let vm = ''
let remote = ''
let hostOvs: LabOvs
let torOvs: LabOvs
let sim: TorProcess
let home: ReturnType<typeof makeAgentHome>

const PORT = '6e1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const SEGMENT = 20000
const LVID = 5

/** docs/json/flows.schema.json with driver = ovs (test/integration/cli-output.test.ts covers driver = none). */
const ajv = new Ajv2020({allErrors: true, strict: true, validateFormats: false})
const flowsSchema = ajv.compile(
  JSON.parse(readFileSync(new URL('../../docs/json/flows.schema.json', import.meta.url), 'utf8')) as object,
)
function expectFlowsSchema(view: unknown): void {
  expect(flowsSchema(view), `${ajv.errorsText(flowsSchema.errors)}\n${JSON.stringify(view).slice(0, 2000)}`).toBe(true)
}

const flows = async () => {
  const view = await cliJson<FlowsView>(['flows'], home.config)
  expectFlowsSchema(view)
  return view
}

/** GET /metrics from inside the host namespace, where the daemon listens on loopback (`[metrics] listen = on`). */
async function scrape(): Promise<Map<string, number>> {
  const script = `fetch('http://127.0.0.1:9477/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`
  const {stdout} = await lab.exec(host, [process.execPath, '-e', script])
  return samples(stdout)
}

/** One ping from the VM to the remote host: true when answered. */
async function pings(): Promise<boolean> {
  try {
    await lab.exec(vm, ['ping', '-c', '1', '-W', '1', '198.51.100.2'])
    return true
  } catch {
    return false
  }
}

/** The ToR's access port joins the VLAN the simulator assigned (the simulator forwards no data itself). */
async function torAccessVlan(vid: number): Promise<void> {
  await torOvs.vsctl(['set', 'port', 'rsw0', `tag=${vid}`])
}

/** An operator's flow without our cookie: audits and uplink down must leave it alone. */
async function plantOperatorFlow(): Promise<void> {
  await hostOvs.ofctl([
    'add-flow',
    hostOvs.mgmt('br-ethd'),
    'cookie=0x1234,priority=1,in_port=1,dl_vlan=999,actions=drop',
  ])
}

async function assignedVlan(): Promise<number> {
  const vsis = (await sim.call('vsis')) as {vids: number[]}[]
  expect(vsis).toHaveLength(1)
  return vsis[0].vids[0]
}

beforeAll(async () => {
  host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  vm = await lab.addNamespace('vm')
  remote = await lab.addNamespace('remote')
  await lab.addVethPair(
    {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:01'},
  )
  await lab.addVethPair(
    {ns: host, ifname: 'tap0', mac: '02:00:00:00:03:01'},
    {ns: vm, ifname: 'vnic0', mac: '52:54:00:12:34:01'},
  )
  await lab.addVethPair(
    {ns: tor, ifname: 'rsw0', mac: '02:00:00:00:02:02'},
    {ns: remote, ifname: 'rh0', mac: '02:00:00:00:04:01'},
  )
  await lab.addAddress(vm, 'vnic0', '198.51.100.1/24')
  await lab.addAddress(remote, 'rh0', '198.51.100.2/24')

  // The host as Neutron leaves it: br-int with the VM port tagged, br-ethd, the patch pair; the uplink not yet added.
  hostOvs = await startOvs(lab, host, 'hostovs')
  await hostOvs.addBridge('br-int')
  await hostOvs.addBridge('br-ethd')
  await hostOvs.addPatchPair('br-int', 'int-br-ethd', 'br-ethd', 'phy-br-ethd')
  await hostOvs.vsctl([
    'add-port',
    'br-int',
    'tap0',
    `tag=${LVID}`,
    '--',
    'set',
    'interface',
    'tap0',
    `external_ids:iface-id=${PORT}`,
  ])

  // The switch: the simulator on sw0, and a VLAN-aware datapath behind it towards the remote host.
  torOvs = await startOvs(lab, tor, 'torovs')
  await torOvs.addBridge('br-tor')
  await torOvs.vsctl(['add-port', 'br-tor', 'sw0', '--', 'add-port', 'br-tor', 'rsw0', 'tag=4000'])
  sim = await startTorSimulator(lab, tor, {
    ifname: 'sw0',
    args: ['--vlan-from-segment', '--bgid', '--system-name', 'leaf-12', '--min-tx-gap-ms', '0'],
  })

  home = makeAgentHome(
    `[uplink]\nmode = auto\ncandidate_kinds = veth\ninclude = eth*\n[lldp]\ntx_interval = 1\n[dataplane]\ndriver = ovs\novs_rundir = ${hostOvs.rundir}\nport_tag_timeout = 5\naudit_interval = 3600\n[metrics]\nlisten = on\n`,
  )
  await AgentProcess.start(lab, host, home)
}, 90_000)

afterAll(async () => {
  await lab.destroy()
})

describe('[dataplane] driver = ovs against Open vSwitch', () => {
  it('on uplink up: the uplink joins br-ethd, the patch pair is found, the LLDP/ECP drop flows are in', async () => {
    const view = await eventually(
      'dataplane ready, first audit done',
      flows,
      (v) => v.state === 'ready' && v.lastAudit !== null,
      30_000,
      200,
    )
    expect(view.uplink).toBe('eth0')
    expect(view.patch).toMatchObject({integration: 'int-br-ethd', external: 'phy-br-ethd'})
    expect((await hostOvs.vsctl(['port-to-br', 'eth0'])).trim()).toBe('br-ethd')
    expect(view.installed.filter((f) => f.includes('actions=drop'))).toHaveLength(2)
    expect(view.installed.sort()).toEqual(view.desired.sort())
  })

  it('no ping before association', async () => {
    await torAccessVlan(4000)
    expect(await pings()).toBe(false)
  })

  it('associates: the flows are in before the result, with local_vlan = the tag; the VM reaches the remote host', async () => {
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
      String(SEGMENT),
      '--wait',
      '--json',
      '--config',
      home.config,
    ])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const vsi = JSON.parse(r.stdout) as {state: string; vdpVlan: number; localVlan: number}
    const vid = await assignedVlan()
    expect(vsi).toMatchObject({state: 'associated', vdpVlan: vid, localVlan: LVID})
    const view = await flows()
    expect(view.installed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`dl_vlan=${LVID} actions=mod_vlan_vid:${vid},NORMAL`)),
        expect.stringMatching(new RegExp(`dl_vlan=${vid} actions=mod_vlan_vid:${LVID},NORMAL`)),
      ]),
    )
    // the switch's LLDPDUs and ECPDUs reached br-ethd and went nowhere: our drop flows took them
    const drops = await hostOvs.ofctl([
      'dump-flows',
      hostOvs.mgmt('br-ethd'),
      'cookie=0x7664706103000000/0xffffffffff000000',
    ])
    expect(drops.match(/n_packets=[1-9]\d*.*dl_type=0x(88cc|8940) actions=drop/g)).toHaveLength(2)
    await torAccessVlan(vid)
    await eventually('ping across the switch', pings, (ok) => ok, 10_000, 100).catch(async (err) => {
      for (const [o, b] of [
        [hostOvs, 'br-ethd'],
        [hostOvs, 'br-int'],
        [torOvs, 'br-tor'],
      ] as const)
        console.log(b, await o.ofctl(['dump-flows', o.mgmt(b)]), await o.ofctl(['dump-ports-desc', o.mgmt(b)]))
      console.log(await torOvs.vsctl(['show']), await hostOvs.vsctl(['show']))
      throw err
    })
  })

  it('keeps working after the switch changes the VLAN (flows replaced)', async () => {
    const before = await assignedVlan()
    const next = before === 3001 ? 3002 : 3001
    await sim.call('change-vlan', {groupId: SEGMENT, vid: next})
    const view = await eventually(
      'flows on the new VLAN',
      flows,
      (v) => v.installed.some((f) => f.includes(`mod_vlan_vid:${next},NORMAL`)),
      10_000,
      100,
    )
    expect(view.installed.some((f) => f.includes(`mod_vlan_vid:${before},`))).toBe(false)
    expect(view.networks).toEqual([expect.objectContaining({lvid: LVID, vdpVlan: next, ports: 1})])
    await torAccessVlan(next)
    await eventually('ping on the new VLAN', pings, (ok) => ok, 10_000, 100)
  })

  it('the audit removes stale flows planted by hand and counts them', async () => {
    await hostOvs.ofctl([
      'add-flow',
      hostOvs.mgmt('br-ethd'),
      'cookie=0x7664706101000777,priority=4,in_port=1,dl_vlan=777,actions=mod_vlan_vid:778,NORMAL',
    ])
    await hostOvs.ofctl([
      'add-flow',
      hostOvs.mgmt('br-int'),
      'cookie=0x7664706102000778,priority=3,in_port=1,dl_vlan=778,actions=mod_vlan_vid:777,NORMAL',
    ])
    await plantOperatorFlow()
    const r = await cli(['flows', '--audit', '--json', '--config', home.config])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const view = JSON.parse(r.stdout) as FlowsView
    expectFlowsSchema(view)
    expect(view.lastAudit).toMatchObject({removed: 2, added: 0, errors: []})
    expect(view.installed.sort()).toEqual(view.desired.sort())
    expect(await hostOvs.ofctl(['dump-flows', hostOvs.mgmt('br-ethd'), 'cookie=0x1234/-1'])).toContain('dl_vlan=999')
    // the metrics tell the same: our flows per bridge as `flows` lists them, the audit and what it removed
    const m = await scrape()
    const installed = (await flows()).installed.length
    expect(installed).toBeGreaterThan(0)
    expect(
      m.get('vdp_agent_dataplane_flows{bridge="br-ethd"}')! + m.get('vdp_agent_dataplane_flows{bridge="br-int"}')!,
    ).toBe(installed)
    expect(m.get('vdp_agent_dataplane_ready')).toBe(1)
    expect(m.get('vdp_agent_dataplane_audits_total')).toBeGreaterThanOrEqual(1)
    expect(m.get('vdp_agent_dataplane_audit_flows_removed_total')).toBeGreaterThanOrEqual(2)
  })

  it('heals an OVS restart (every flow lost): the flows are back and the ping works', async () => {
    await hostOvs.restartVswitchd()
    const view = await eventually(
      'flows re-installed',
      flows,
      (v) => v.installed.length > 0 && v.installed.length === v.desired.length,
      20_000,
      200,
    )
    expect(view.lastAudit?.reason).toMatch(/restart|reconnect|renumbered/)
    expect(view.lastAudit?.added).toBe(view.desired.length)
    await eventually('ping after the restart', pings, (ok) => ok, 15_000, 200)
  })

  it('de-association removes the network flows (last port) and the ping stops', async () => {
    const r = await cli(['vm', 'down', '--port', PORT, '--wait', '--config', home.config])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const view = await eventually(
      'translation flows gone',
      flows,
      (v) => v.installed.every((f) => f.includes('actions=drop')),
      10_000,
      100,
    )
    expect(view.networks).toEqual([])
    expect(await pings()).toBe(false)
  })

  it('on uplink down: our flows go, nothing of the operator is touched', async () => {
    await plantOperatorFlow() // the OVS restart above wiped the first one
    await lab.setLink(host, 'eth0', {down: true})
    await eventually('no flows of ours', flows, (v) => v.state === 'idle' && v.installed.length === 0, 15_000, 200)
    expect(await hostOvs.ofctl(['dump-flows', hostOvs.mgmt('br-ethd'), 'cookie=0x1234/-1'])).toContain('dl_vlan=999')
    expect((await hostOvs.vsctl(['list-ports', 'br-int'])).split('\n')).toEqual(
      expect.arrayContaining(['int-br-ethd', 'tap0']),
    )
  })
})
