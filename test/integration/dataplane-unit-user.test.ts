/**
 * Issue 12 item 7: with driver = ovs the hardened unit's user is enough. The daemon runs as an unprivileged
 * uid/gid with only CAP_NET_RAW and CAP_NET_ADMIN (ambient and bounding, no-new-privs: what
 * packaging/vdp-agent.service grants) and reaches Open vSwitch through group access to its sockets, as the
 * unit's SupplementaryGroups=openvswitch gives it. It finds the uplink, adds it to br-ethd, and programs the
 * flows of an associated VM port.
 */
import {chmod, chown, readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {FlowsView} from '../../src/dataplane/index.js'
import {Lab} from '../../src/lab/netns.js'
import {type LabOvs, startOvs} from '../../src/lab/ovs.js'
import {startTorSimulator} from '../../src/lab/tor-process.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

/** No account has these ids: nothing on the machine is changed to run the daemon as "someone else". */
const UID = 61234
const GID = 61234
const CAPS = '-all,+net_raw,+net_admin'
const PORT = '7a1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

const lab = new Lab()
let agent: AgentProcess
let ovs: LabOvs
let home: ReturnType<typeof makeAgentHome>

async function chownTree(dir: string): Promise<void> {
  await chown(dir, UID, GID)
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(path)
    else await chown(path, UID, GID)
  }
}

beforeAll(async () => {
  const host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:01'},
  )
  ovs = await startOvs(lab, host, 'unitovs')
  await ovs.addBridge('br-int')
  await ovs.addBridge('br-ethd')
  await ovs.addPatchPair('br-int', 'int-br-ethd', 'br-ethd', 'phy-br-ethd')
  await ovs.vsctl([
    'add-port',
    'br-int',
    'vm0',
    'tag=7',
    '--',
    'set',
    'interface',
    'vm0',
    'type=patch',
    'options:peer=none',
    `external_ids:iface-id=${PORT}`,
  ])
  // what `--ovs-user=…:openvswitch` gives: the run directory and the sockets reachable by the group
  await chown(ovs.rundir, 0, GID)
  await chmod(ovs.rundir, 0o750)
  for (const socket of ['db.sock', 'br-int.mgmt', 'br-ethd.mgmt']) {
    await chown(join(ovs.rundir, socket), 0, GID)
    await chmod(join(ovs.rundir, socket), 0o770)
  }
  await startTorSimulator(lab, tor, {ifname: 'sw0', args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0']})
  home = makeAgentHome(
    `[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\ntx_interval = 1\n[dataplane]\ndriver = ovs\novs_rundir = ${ovs.rundir}\n`,
  )
  await chownTree(home.dir)
  const setpriv = [
    'setpriv',
    `--reuid=${UID}`,
    `--regid=${GID}`,
    '--clear-groups',
    `--inh-caps=${CAPS}`,
    `--ambient-caps=${CAPS}`,
    `--bounding-set=${CAPS}`,
    '--no-new-privs',
  ]
  // a uid with no passwd entry and no SHELL or HOME in the environment: nothing may look the user up
  setpriv.push('env', '-u', 'SHELL', '-u', 'HOME')
  agent = await AgentProcess.start(lab, host, home, 15_000, setpriv)
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

describe('driver = ovs as the unit user', () => {
  it('runs unprivileged: its uid and gid, CAP_NET_RAW and CAP_NET_ADMIN only', async () => {
    const status = await readFile(`/proc/${agent.pid}/status`, 'utf8')
    expect(status).toMatch(new RegExp(`^Uid:\\s+${UID}\\s+${UID}\\s+${UID}\\s+${UID}$`, 'm'))
    expect(status).toMatch(new RegExp(`^Gid:\\s+${GID}\\s`, 'm'))
    // CAP_NET_ADMIN (12) | CAP_NET_RAW (13)
    expect(status).toMatch(/^CapEff:\s+0000000000003000$/m)
    expect(status).toMatch(/^CapBnd:\s+0000000000003000$/m)
  })

  it('adds the uplink to br-ethd and programs the flows of an associated port', async () => {
    await eventually(
      'dataplane ready',
      () => cliJson<FlowsView>(['flows'], home.config),
      (v) => v.state === 'ready' && v.lastAudit !== null,
      30_000,
      200,
    )
    expect((await ovs.vsctl(['port-to-br', 'eth0'])).trim()).toBe('br-ethd')
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
    expect(JSON.parse(r.stdout)).toMatchObject({state: 'associated', localVlan: 7})
    const view = await cliJson<FlowsView>(['flows'], home.config)
    expect(view.installed).toHaveLength(4)
    expect(view.installed.sort()).toEqual(view.desired.sort())
  })
})
