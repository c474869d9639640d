/**
 * A private Open vSwitch in a lab namespace (docs/dataplane.md "Tests"): its own database, run directory and
 * logs in a lab temp dir, the userspace ("netdev") datapath (no kernel module needed), ovsdb-server and
 * ovs-vswitchd as lab children (foreground, stopped by PID in lab.destroy()). Nothing touches
 * /run/openvswitch. `restartVswitchd()` is an OVS restart as an operator or a package upgrade does it: every
 * flow is lost, the database stays.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {validateIfName} from '../net/ifname.js'
import {type Lab, LabTimeoutError, type LabProcess, run} from './netns.js'

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'

export interface LabOvs {
  readonly ns: string
  readonly rundir: string
  readonly dbSocket: string
  vsctl(args: readonly string[]): Promise<string>
  ofctl(args: readonly string[]): Promise<string>
  /** The bridge's OpenFlow target for ovs-ofctl. */
  mgmt(bridge: string): string
  addBridge(name: string): Promise<void>
  /** A patch pair a <-> b between two bridges (how Neutron joins br-int and the physical bridge). */
  addPatchPair(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void>
  restartVswitchd(): Promise<void>
  stop(): Promise<void>
}

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await ok())) {
    if (Date.now() > deadline) throw new LabTimeoutError(what, timeoutMs)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export async function startOvs(lab: Lab, ns: string, label = 'ovs'): Promise<LabOvs> {
  const dir = await lab.tempDir(label)
  const db = join(dir, 'conf.db')
  const dbSocket = join(dir, 'db.sock')
  // OVS_RUNDIR: where ovs-vswitchd puts <bridge>.mgmt; the others keep every file of this instance here
  const env = {...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir}
  await run(['ovsdb-tool', 'create', db, SCHEMA])
  const ovsdb = lab.spawn(
    ns,
    [
      'ovsdb-server',
      db,
      `--remote=punix:${dbSocket}`,
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
      `--log-file=${join(dir, 'ovsdb-server.log')}`,
      '--no-chdir',
    ],
    {env, stdio: 'ignore'},
  )
  await until('ovsdb-server', () => existsSync(dbSocket))
  const vsctl = async (args: readonly string[]) =>
    (await lab.exec(ns, ['ovs-vsctl', `--db=unix:${dbSocket}`, '--timeout=10', ...args])).stdout
  await vsctl(['--no-wait', 'init'])
  const startVswitchd = (): LabProcess =>
    lab.spawn(
      ns,
      [
        'ovs-vswitchd',
        `unix:${dbSocket}`,
        `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
        `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
        '--no-chdir',
      ],
      {env, stdio: 'ignore'},
    )
  let vswitchd = startVswitchd()
  // ready when it has applied the database (ovs-vsctl waits for cur_cfg without --no-wait)
  await vsctl(['set', 'Open_vSwitch', '.', 'external_ids:lab=vdp-agent'])
  const mgmt = (bridge: string) => `unix:${join(dir, `${validateIfName(bridge)}.mgmt`)}`
  return {
    ns,
    rundir: dir,
    dbSocket,
    vsctl,
    mgmt,
    ofctl: async (args) => (await lab.exec(ns, ['ovs-ofctl', ...args])).stdout,
    async addBridge(name) {
      await vsctl(['--may-exist', 'add-br', validateIfName(name), '--', 'set', 'bridge', name, 'datapath_type=netdev'])
      await until(`${name}.mgmt`, () => existsSync(join(dir, `${name}.mgmt`)))
    },
    async addPatchPair(bridgeA, portA, bridgeB, portB) {
      for (const n of [bridgeA, portA, bridgeB, portB]) validateIfName(n)
      await vsctl([
        'add-port',
        bridgeA,
        portA,
        '--',
        'set',
        'interface',
        portA,
        'type=patch',
        `options:peer=${portB}`,
        '--',
        'add-port',
        bridgeB,
        portB,
        '--',
        'set',
        'interface',
        portB,
        'type=patch',
        `options:peer=${portA}`,
      ])
    },
    async restartVswitchd() {
      await vswitchd.stop(5000)
      vswitchd = startVswitchd()
      await vsctl(['set', 'Open_vSwitch', '.', 'external_ids:lab-restart=' + String(Date.now())])
    },
    async stop() {
      await vswitchd.stop(5000)
      await ovsdb.stop(5000)
    },
  }
}
