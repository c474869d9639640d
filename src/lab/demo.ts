/**
 * The README's main job: a namespace lab with the ToR simulator on one side and the vdp-agent daemon on
 * the other (three candidate ports, one of them facing the switch), a few VM ports associated, what the
 * agent found and was assigned shown with its own CLI, then everything removed.
 */
import {AgentRunner, makeAgentHome, runCli} from './agent-runner.js'
import {Lab} from './netns.js'
import {startTorSimulator} from './tor-process.js'

const VMS = [
  {name: 'web-1', port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01', mac: '52:54:00:12:34:01', net: '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a', segment: 20000},
  {name: 'web-2', port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e02', mac: '52:54:00:12:34:02', net: '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a', segment: 20000},
  {name: 'db-1', port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e03', mac: '52:54:00:12:34:03', net: '9d0e5c3b-8a7f-4e6d-b5c4-a3b2c1d0e9f8', segment: 30001},
]

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
      await lab.addVethPair({ns: host, ifname: `eth${i}`, mac: `02:00:00:00:01:0${i}`}, {ns: tor, ifname: `sw${i}`, mac: `02:00:00:00:02:0${i}`})
    }
    for (let i = 0; i < 3; i++) await lab.waitForOperstate(host, `eth${i}`, 'up')

    print('Starting the ToR simulator on sw1 (EVB bridge; VLAN from the segmentation ID)')
    const sim = await startTorSimulator(lab, tor, {ifname: 'sw1', args: ['--vlan-from-segment', '--bgid', '--system-name', 'leaf-101', '--port-id', 'Ethernet1/7', '--min-tx-gap-ms', '0']})

    print('Starting the vdp-agent daemon in "host" (auto detection over eth0..eth2)')
    const home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n', {logLevel: 'info'})
    const agent = await AgentRunner.start(lab, host, home)
    const up = await agent.waitForLine((l) => l.msg === 'uplink changed' && l.state === 'up', {timeoutMs: 30_000})
    print(`uplink found: ${String(up.ifname)} (${String(up.reason)})`)
    await show(print, ['uplink', 'show'], home.config)
    await show(print, ['neighbors'], home.config)

    for (const vm of VMS) {
      await show(print, ['vm', 'up', '--port', vm.port, '--mac', vm.mac, '--net', vm.net, '--segment', String(vm.segment), '--vm-name', vm.name, '--wait'], home.config)
    }
    await show(print, ['vsi', 'list'], home.config)
    await show(print, ['status'], home.config)
    const switchView = (await sim.call('vsis')) as unknown[]
    print(`\nThe switch (simulator) holds ${switchView.length} associations.`)
    await show(print, ['vm', 'down', '--port', VMS[2].port, '--wait'], home.config)
    print('\nStopping the daemon and the simulator, removing the lab.')
    await agent.stop()
    await sim.stop()
  } finally {
    process.off('SIGINT', stop)
    await lab.destroy()
  }
  print('Done: no namespace, link or process of the demo is left.')
}
