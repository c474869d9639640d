/**
 * `make demo-controller`: the lab demo with a controller. A private RabbitMQ and the Python stand-in of the
 * DFA server (real oslo.messaging) run in the host namespace with the daemon ([rpc] transport = amqp); the
 * server pushes the VM list when the agent reports its uplink, the agent associates the VMs with the ToR
 * simulator, and the results arrive at the server. From a checkout only (the stand-in lives under test/).
 */
import {join} from 'node:path'

import {AgentRunner, makeAgentHome, runCli} from './agent-runner.js'
import {DfaStandin, type StandinRecord, type VmInfo, pyStr} from './dfa-standin.js'
import {Lab} from './netns.js'
import {PrivateBroker, brokerPortFor} from './rabbitmq.js'
import {startTorSimulator} from './tor-process.js'

const HOST = 'compute-demo'
const NET_A = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const NET_B = '9d0e5c3b-8a7f-4e6d-b5c4-a3b2c1d0e9f8'
const vm = (name: string, n: number, net: string, segment: number): VmInfo => ({
  status: 'up',
  vm_mac: `52:54:00:12:34:0${n}`,
  segmentation_id: segment,
  host: HOST,
  port_uuid: `7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e0${n}`,
  net_uuid: net,
  oui: {
    ip_addr: '0.0.0.0',
    vm_name: name,
    vm_uuid: `a1b2c3d4e5f60718293a4b5c6d7e8f9${n}`,
    fwd_mod: 'anycast-gateway',
    oui_id: 'cisco',
  },
})
const VMS = [vm('web-1', 1, NET_A, 20000), vm('web-2', 2, NET_A, 20000), vm('db-1', 3, NET_B, 30001)]

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

function serverLine(r: StandinRecord): string {
  const p = r.parsed ?? {}
  const t = new Date(r.t * 1000).toISOString().slice(11, 23)
  switch (r.method) {
    case 'heartbeat':
      return `${t}  heartbeat            agent=${String(p.agent)} when="${String(p.when)}" seq=${String(p.seq)}`
    case 'save_uplink':
      return `${t}  save_uplink          uplink=${JSON.stringify(p.uplink)} fail_reason=${JSON.stringify(p.fail_reason)} -> ${JSON.stringify(r.result)}`
    case 'update_vm_result':
      return `${t}  update_vm_result     port=${String(p.port_uuid).slice(-4)} ${String(p.result)} vdp_vlan=${String(p.vdp_vlan)}`
    case 'save_topo_disc_params':
      return `${t}  save_topo_disc_params ${String(p.protocol_interface)}: ${String(p.remote_system_name)} evb=${String(p.remote_evb_mode)}`
    case 'request_uplink_info':
      return `${t}  request_uplink_info  agent=${String(r.kwargs.agent)}`
    default:
      return `${t}  ${r.method.padEnd(20)} ${r.outcome ? (r.outcome.error ?? 'ok') : ''}`
  }
}

export async function runControllerDemo({print}: {print(line: string): void}): Promise<void> {
  const lab = new Lab()
  let broker: PrivateBroker | undefined
  let standin: DfaStandin | undefined
  const stop = () =>
    void Promise.allSettled([standin?.stop(), broker?.destroy()])
      .then(() => lab.destroy())
      .then(() => process.exit(130))
  process.once('SIGINT', stop)
  let shown = 0
  const showServer = () => {
    const recs = standin!.records()
    for (const r of recs.slice(shown)) print(`  server| ${serverLine(r)}`)
    shown = recs.length
  }
  const show = async (args: string[], config: string) => {
    const r = await runCli([...args, '--config', config])
    print(`\n$ vdp-agent ${args.join(' ')}`)
    print((r.stdout + r.stderr).trimEnd())
  }
  try {
    print('Building the lab: namespaces "host" and "tor", a veth link eth1 <-> sw1')
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair(
      {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
      {ns: tor, ifname: 'sw1', mac: '02:00:00:00:02:01'},
    )
    await lab.waitForOperstate(host, 'eth1', 'up')
    print('Starting the ToR simulator on sw1 (EVB bridge; VLAN from the segmentation ID)')
    await startTorSimulator(lab, tor, {
      ifname: 'sw1',
      args: [
        '--vlan-from-segment',
        '--bgid',
        '--system-name',
        'leaf-101',
        '--min-tx-gap-ms',
        '0',
        '--log-level',
        'warn',
      ],
    })
    const port = brokerPortFor(9)
    print(`Starting a private RabbitMQ in "host" on 127.0.0.1:${port} (about 10 s)`)
    broker = new PrivateBroker({port, netns: host})
    await broker.start()
    const url = `rabbit://guest:guest@127.0.0.1:${port}/`
    print('Starting the DFA server stand-in (Python, oslo.messaging) with 3 VMs for this host')
    standin = new DfaStandin({
      url,
      record: join(await lab.tempDir('server'), 'record.jsonl'),
      react: true,
      spawnArgv: (a) => ['ip', 'netns', 'exec', host, ...a],
    })
    await standin.started()
    await standin.setVms(HOST, VMS)
    print(`Starting the vdp-agent daemon (host_id ${HOST}, [rpc] transport = amqp)`)
    const home = makeAgentHome(
      `[uplink]\nmode = auto\ncandidate_kinds = veth\n[rpc]\ntransport = amqp\nurl = ${url}\nheartbeat_interval = 5\n`,
      {logLevel: 'info'},
    )
    const {readFileSync, writeFileSync} = await import('node:fs')
    writeFileSync(
      home.config,
      readFileSync(home.config, 'utf8').replace('[general]\n', `[general]\nhost_id = ${HOST}\n`),
    )
    const agent = await AgentRunner.start(lab, host, home, 30_000)
    print('\nWhat the server receives (heartbeat, uplink, then the bulk VM list goes out and the results come back):')
    await until('3 results at the server', () => {
      showServer()
      const ok = new Set(
        standin!
          .records('update_vm_result')
          .filter((r) => r.parsed?.result === 'SUCCESS')
          .map((r) => r.parsed!.port_uuid),
      )
      return ok.size >= 3 ? true : undefined
    })
    await show(['vsi', 'list'], home.config)
    await show(['rpc', 'status'], home.config)
    print('\nThe server sends "db-1 down":')
    const r = await standin.call(HOST, 'send_vm_info', pyStr({...VMS[2], status: 'down'}))
    print(`  server| send_vm_info -> ${r.error ?? 'None'} (${(r.elapsed_s * 1000).toFixed(0)} ms)`)
    await until('the down result', () =>
      standin!.records('update_vm_result').filter((x) => x.parsed?.port_uuid === VMS[2].port_uuid).length >= 2
        ? true
        : undefined,
    )
    showServer()
    print('\nStopping the daemon, the server, the broker and the simulator, removing the lab.')
    await agent.stop()
  } finally {
    process.off('SIGINT', stop)
    await standin?.stop()
    await broker?.destroy()
    await lab.destroy()
  }
  print('Done: no namespace, link or process of the demo is left.')
}
