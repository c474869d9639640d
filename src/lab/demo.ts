/**
 * The README's main job: a namespace lab with the ToR simulator on one side and the vdp-agent daemon on
 * the other (three candidate ports, one of them facing the switch), a few VM ports associated, what the
 * agent found and was assigned shown with its own CLI, then everything removed.
 *
 * The host side is Neutron's Open vSwitch layout (br-int with the VM ports tagged with local VLANs, br-ethd,
 * a patch pair; private OVS instances, userspace datapath) and the agent runs with [dataplane] driver = ovs:
 * web-1 lives in its own namespace and pings a remote host that sits behind the switch on an access port
 * of the VLAN the switch assigned (the simulator forwards no data, so a second OVS plays its data plane).
 */
import {AgentRunner, makeAgentHome, runCli} from './agent-runner.js'
import {Lab} from './netns.js'
import {startOvs} from './ovs.js'
import {startTorSimulator} from './tor-process.js'

const VMS = [
  {
    name: 'web-1',
    port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01',
    mac: '52:54:00:12:34:01',
    net: '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a',
    segment: 20000,
    lvid: 1,
  },
  {
    name: 'web-2',
    port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e02',
    mac: '52:54:00:12:34:02',
    net: '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a',
    segment: 20000,
    lvid: 1,
  },
  {
    name: 'db-1',
    port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e03',
    mac: '52:54:00:12:34:03',
    net: '9d0e5c3b-8a7f-4e6d-b5c4-a3b2c1d0e9f8',
    segment: 30001,
    lvid: 2,
  },
]
const WEB1_IP = '198.51.100.11'
const REMOTE_IP = '198.51.100.99'

export interface DemoOptions {
  /** Where the demo writes what it shows (the terminal). */
  print(line: string): void
}

async function show(print: DemoOptions['print'], args: string[], config: string): Promise<string> {
  const r = await runCli([...args, '--config', config])
  print(`\n$ vdp-agent ${args.join(' ')}`)
  print((r.stdout + r.stderr).trimEnd())
  return r.stdout
}

export async function runDemo({print}: DemoOptions): Promise<void> {
  const lab = new Lab()
  const stop = () => void lab.destroy().then(() => process.exit(130))
  process.once('SIGINT', stop)
  try {
    print('Building the lab: namespaces "host" and "tor", three veth links (eth0..eth2 <-> sw0..sw2)')
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    for (let i = 0; i < 3; i++) {
      await lab.addVethPair(
        {ns: host, ifname: `eth${i}`, mac: `02:00:00:00:01:0${i}`},
        {ns: tor, ifname: `sw${i}`, mac: `02:00:00:00:02:0${i}`},
      )
    }
    for (let i = 0; i < 3; i++) await lab.waitForOperstate(host, `eth${i}`, 'up')

    print(
      'Host datapath as Neutron leaves it: Open vSwitch br-int (VM ports, local VLANs) and br-ethd, joined by a patch pair',
    )
    const vm = await lab.addNamespace('web1')
    const remote = await lab.addNamespace('remote')
    await lab.addVethPair(
      {ns: host, ifname: 'tap-web1', mac: '02:00:00:00:03:01'},
      {ns: vm, ifname: 'eth0', mac: VMS[0].mac},
    )
    await lab.addAddress(vm, 'eth0', `${WEB1_IP}/24`)
    const ovs = await startOvs(lab, host, 'hostovs')
    await ovs.addBridge('br-int')
    await ovs.addBridge('br-ethd')
    await ovs.addPatchPair('br-int', 'int-br-ethd', 'br-ethd', 'phy-br-ethd')
    await ovs.vsctl([
      'add-port',
      'br-int',
      'tap-web1',
      `tag=${VMS[0].lvid}`,
      '--',
      'set',
      'interface',
      'tap-web1',
      `external_ids:iface-id=${VMS[0].port}`,
    ])
    // the other VMs need no namespace: an OVS port carrying Neutron's binding is enough for the agent
    for (const v of VMS.slice(1)) {
      const name = `tap-${v.name.replace('-', '')}`
      await ovs.vsctl([
        'add-port',
        'br-int',
        name,
        `tag=${v.lvid}`,
        '--',
        'set',
        'interface',
        name,
        'type=patch',
        'options:peer=none',
        `external_ids:iface-id=${v.port}`,
      ])
    }
    print(
      `A remote host ${REMOTE_IP} behind the switch, on an access port (the switch's data plane: a second OVS in "tor")`,
    )
    await lab.addVethPair(
      {ns: tor, ifname: 'acc0', mac: '02:00:00:00:02:10'},
      {ns: remote, ifname: 'eth0', mac: '02:00:00:00:04:01'},
    )
    await lab.addAddress(remote, 'eth0', `${REMOTE_IP}/24`)
    const torOvs = await startOvs(lab, tor, 'torovs')
    await torOvs.addBridge('br-tor')
    await torOvs.vsctl(['add-port', 'br-tor', 'sw1', '--', 'add-port', 'br-tor', 'acc0', 'tag=4094'])
    const ping = async (timeoutMs: number): Promise<number | null> => {
      const deadline = Date.now() + timeoutMs
      do {
        const t0 = Date.now()
        try {
          await lab.exec(vm, ['ping', '-c', '1', '-W', '1', REMOTE_IP])
          return Date.now() - t0
        } catch {
          // not (yet) reachable
        }
      } while (Date.now() < deadline)
      return null
    }

    print('Starting the ToR simulator on sw1 (EVB bridge; VLAN from the segmentation ID)')
    const sim = await startTorSimulator(lab, tor, {
      ifname: 'sw1',
      args: [
        '--vlan-from-segment',
        '--bgid',
        '--system-name',
        'leaf-101',
        '--port-id',
        'Ethernet1/7',
        '--min-tx-gap-ms',
        '0',
      ],
    })

    print('Starting the vdp-agent daemon in "host" (auto detection over eth0..eth2)')
    const home = makeAgentHome(
      `[uplink]\nmode = auto\ncandidate_kinds = veth\ninclude = eth*\n[dataplane]\ndriver = ovs\novs_rundir = ${ovs.rundir}\n`,
      {logLevel: 'info'},
    )
    const agent = await AgentRunner.start(lab, host, home)
    const up = await agent.waitForLine((l) => l.msg === 'uplink changed' && l.state === 'up', {timeoutMs: 30_000})
    print(`uplink found: ${String(up.ifname)} (${String(up.reason)})`)
    await show(print, ['uplink', 'show'], home.config)
    await show(print, ['neighbors'], home.config)
    print(
      `\nweb-1 pings ${REMOTE_IP} before any association: ${(await ping(1500)) === null ? 'no answer (nothing translates its local VLAN yet)' : 'answered?!'}`,
    )

    for (const vm of VMS) {
      await show(
        print,
        [
          'vm',
          'up',
          '--port',
          vm.port,
          '--mac',
          vm.mac,
          '--net',
          vm.net,
          '--segment',
          String(vm.segment),
          '--vm-name',
          vm.name,
          '--wait',
        ],
        home.config,
      )
    }
    await show(print, ['vsi', 'list'], home.config)
    const assigned = ((await sim.call('vsis')) as {vsiid: {text?: string} | string; vids: number[]}[]).find((v) =>
      JSON.stringify(v.vsiid).includes(VMS[0].port),
    )?.vids[0]
    if (assigned) {
      await torOvs.vsctl(['set', 'port', 'acc0', `tag=${assigned}`])
      print(
        `\nThe switch assigned VLAN ${assigned} to web-1's network; its access port to ${REMOTE_IP} is on that VLAN.`,
      )
      const ms = await ping(10_000)
      print(
        ms === null
          ? `web-1 -> ${REMOTE_IP}: no answer`
          : `web-1 -> ${REMOTE_IP}: answered across the switch on VLAN ${assigned} (local VLAN ${VMS[0].lvid} on br-int)`,
      )
    }
    await show(print, ['flows'], home.config)
    await show(print, ['status'], home.config)
    const switchView = (await sim.call('vsis')) as unknown[]
    print(`\nThe switch (simulator) holds ${switchView.length} associations.`)
    await show(print, ['vm', 'down', '--port', VMS[2].port, '--wait'], home.config)
    print('\nStopping the daemon and the simulator, removing the lab.')
    await agent.stop()
    await sim.stop()
    await ovs.stop()
    await torOvs.stop()
  } finally {
    process.off('SIGINT', stop)
    await lab.destroy()
  }
  print('Done: no namespace, link or process of the demo is left.')
}
