/**
 * Issue 12 item 2: what the original reported as "Integ or Physical Patch/Veth Ports not configured by
 * Openstack" — here a clear failure reason in `vdp-agent flows` and in the VM port's result, retried, and
 * healed by the audit once the operator (Neutron) creates the patch pair. Real Open vSwitch.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {TaskView} from '../../src/core/scheduler.js'
import type {FlowsView} from '../../src/dataplane/index.js'
import {Lab} from '../../src/lab/netns.js'
import {type LabOvs, startOvs} from '../../src/lab/ovs.js'
import {startTorSimulator} from '../../src/lab/tor-process.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const PORT = '8b1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

const lab = new Lab()
let ovs: LabOvs
let home: ReturnType<typeof makeAgentHome>
const flows = () => cliJson<FlowsView>(['flows'], home.config)
interface VsiView {
  portUuid: string
  state: string
  failReason: string | null
  localVlan: number | null
}
const vsi = async () =>
  (await cliJson<{vsis: VsiView[]}>(['vsi', 'list'], home.config)).vsis.find((v) => v.portUuid === PORT)

beforeAll(async () => {
  const host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:01'},
  )
  ovs = await startOvs(lab, host, 'failovs')
  await ovs.addBridge('br-int')
  await ovs.addBridge('br-ethd')
  await ovs.vsctl([
    'add-port',
    'br-int',
    'vm0',
    'tag=9',
    '--',
    'set',
    'interface',
    'vm0',
    'type=patch',
    'options:peer=none',
    `external_ids:iface-id=${PORT}`,
  ])
  await startTorSimulator(lab, tor, {ifname: 'sw0', args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0']})
  home = makeAgentHome(
    `[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\ntx_interval = 1\n[vdp]\nretry_initial = 1\nretry_max = 2\n[dataplane]\ndriver = ovs\novs_rundir = ${ovs.rundir}\naudit_interval = 1\n`,
  )
  await AgentProcess.start(lab, host, home)
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

describe('driver = ovs without the patch pair', () => {
  it('says why it is not ready', async () => {
    const view = await eventually('dataplane failed', flows, (v) => v.state === 'failed', 30_000, 200)
    expect(view.failReason).toBe(
      'no patch port pair between br-int and br-ethd (Neutron creates int-br-ethd and phy-br-ethd)',
    )
    expect(view.installed).toEqual([])
  })

  it("a VM port's result carries the reason and is retried", async () => {
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
      '--config',
      home.config,
    ])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const v = await eventually(
      'failed with the reason',
      vsi,
      (v) => v?.failReason?.includes('no patch port pair') === true,
      15_000,
      200,
    )
    expect(v!.state).not.toBe('associated')
  })

  it('heals once the patch pair exists: ready, flows in, the port associated with its local VLAN', async () => {
    await ovs.addPatchPair('br-int', 'int-br-ethd', 'br-ethd', 'phy-br-ethd')
    await eventually('dataplane ready', flows, (v) => v.state === 'ready', 15_000, 200)
    const v = await eventually('associated', vsi, (v) => v?.state === 'associated', 20_000, 200)
    expect(v!.localVlan).toBe(9)
    const view = await eventually('flows in', flows, (f) => f.installed.length === 4, 10_000, 200)
    expect(view.installed.sort()).toEqual(view.desired.sort())
    // the periodic audit (it retries the failed set-up) is the daemon's flow-audit task: listed, counted, none failing
    const {tasks} = await cliJson<{tasks: TaskView[]}>(['status'], home.config)
    const audit = tasks.find((t) => t.name === 'flow-audit')
    expect(audit).toMatchObject({periodS: 1, errors: 0, lastError: null})
    expect(audit!.runs).toBeGreaterThanOrEqual(1)
  })
})
