/**
 * bench/rpc: the controller path, side by side with the original agent's design, in the same run.
 *
 *   node dist/bench/rpc.js [--vms 4000] [--outbox 4000]
 *
 * 1. Ours end to end: the Python DFA server stand-in (real oslo.messaging) sends one bulk send_vm_info of N VMs
 *    to the daemon; the daemon associates them with the ToR simulator over VDP and reports every result
 *    (update_vm_result through the outbox); timed until the server has recorded N SUCCESS results.
 * 2. The original design's reporting, run: one blocking update_vm_result call per result, one after the
 *    other (its single worker thread), against the same kind of server. Its 10 s sleep per VM event (upstream
 *    ovs_vdp.py waits 10 s per port for the br-int tag) is computed, not run.
 * 3. The outbox alone: N messages delivered into a running broker, and N queued during a broker outage,
 *    timed from the broker being ready again.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {AgentRunner, makeAgentHome} from '../src/lab/agent-runner.js'
import {DfaStandin, type VmInfo, pyStr} from '../src/lab/dfa-standin.js'
import {Lab} from '../src/lab/netns.js'
import {PrivateBroker, brokerPortFor} from '../src/lab/rabbitmq.js'
import {startTorSimulator} from '../src/lab/tor-process.js'
import {createLogger} from '../src/log/logger.js'
import {pyJsonDumps} from '../src/rpc/oslo-envelope.js'
import {OsloRpc} from '../src/rpc/oslo-rpc.js'
import {OutboxSender} from '../src/rpc/outbox-sender.js'
import {RabbitTransport} from '../src/rpc/rabbit-transport.js'
import {parseBrokerUrl} from '../src/rpc/transport-url.js'
import {Store} from '../src/store/store.js'

const args = process.argv.slice(2)
const num = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const VMS = num('vms', 4000)
const OUTBOX = num('outbox', 4000)
const HOST = 'compute-bench'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const log = createLogger({level: 'fatal', format: 'json'})

const vm = (i: number): VmInfo => ({
  status: 'up',
  vm_mac: `52:54:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
  segmentation_id: 20000 + (i % 500),
  host: HOST,
  port_uuid: `7f1c0a52-0e3b-4a8e-9abc-${i.toString(16).padStart(12, '0')}`,
  net_uuid: NET,
  oui: {
    ip_addr: '0.0.0.0',
    vm_name: `vm-${i}`,
    vm_uuid: `a1b2c3d4e5f60718293a4b5c${i.toString(16).padStart(8, '0')}`,
    fwd_mod: 'anycast-gateway',
    oui_id: 'cisco',
  },
})

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const successes = (s: DfaStandin) =>
  new Set(
    s
      .records('update_vm_result')
      .filter((r) => r.parsed?.result === 'SUCCESS')
      .map((r) => r.parsed!.port_uuid),
  ).size

async function endToEnd(): Promise<{seconds: number}> {
  const lab = new Lab()
  let broker: PrivateBroker | undefined
  let standin: DfaStandin | undefined
  try {
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair(
      {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
      {ns: tor, ifname: 'sw1', mac: '02:00:00:00:02:01'},
    )
    await lab.waitForOperstate(host, 'eth1', 'up')
    await startTorSimulator(lab, tor, {
      ifname: 'sw1',
      args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0', '--log-level', 'warn'],
    })
    const port = brokerPortFor(5)
    broker = new PrivateBroker({port, netns: host})
    await broker.start()
    const url = `rabbit://guest:guest@127.0.0.1:${port}/`
    standin = new DfaStandin({
      url,
      record: join(await lab.tempDir('standin'), 'record.jsonl'),
      react: true,
      spawnArgv: (a) => ['ip', 'netns', 'exec', host, ...a],
    })
    await standin.started()
    const home = makeAgentHome(
      `[uplink]\nmode = auto\ncandidate_kinds = veth\n[rpc]\ntransport = amqp\nurl = ${url}\n`,
      {logLevel: 'info'},
    )
    const {readFileSync, writeFileSync} = await import('node:fs')
    writeFileSync(
      home.config,
      readFileSync(home.config, 'utf8').replace('[general]\n', `[general]\nhost_id = ${HOST}\n`),
    )
    await AgentRunner.start(lab, host, home, 30_000)
    await waitUntil(
      'uplink stored at the server',
      () => standin!.records('save_uplink').some((r) => r.parsed?.uplink === 'eth1'),
      60_000,
    )
    const vms = Array.from({length: VMS}, (_, i) => vm(i + 1))
    const t0 = performance.now()
    const reply = await standin.call(HOST, 'send_vm_info', pyStr(vms), {}, 120)
    if (reply.error) throw new Error(`send_vm_info failed: ${reply.error}`)
    await waitUntil(`${VMS} results at the server`, () => successes(standin!) >= VMS, 600_000)
    return {seconds: (performance.now() - t0) / 1000}
  } finally {
    await standin?.stop()
    await broker?.destroy()
    await lab.destroy()
  }
}

async function transportOnly(): Promise<{blockingSeconds: number; outboxSeconds: number; afterOutageSeconds: number}> {
  const dir = mkdtempSync(join(tmpdir(), 'vdp-bench-rpc-'))
  const broker = new PrivateBroker({port: brokerPortFor(6)})
  await broker.start()
  const standin = new DfaStandin({url: broker.url.replace('amqp://', 'rabbit://'), record: join(dir, 'record.jsonl')})
  await standin.started()
  const transport = new RabbitTransport({
    broker: parseBrokerUrl(broker.url),
    publishExchanges: [{exchange: 'dfa', type: 'topic', durable: false, autoDelete: false}],
    retryLowMs: 200,
    retryHighMs: 1000,
  })
  const rpc = new OsloRpc({transport, log, exchange: 'dfa', durable: false})
  await rpc.startReplies()
  const store = Store.open(join(dir, 'db'))
  try {
    const result = (i: number, tag: string) => ({
      port_uuid: `${tag}-${i}`,
      result: 'SUCCESS',
      fail_reason: null,
      local_vlan: null,
      vdp_vlan: 3000,
    })
    // 2. the original: one blocking call per result, in one worker
    let t0 = performance.now()
    for (let i = 0; i < VMS; i++)
      await rpc.call(
        'dfa_server_q',
        'update_vm_result',
        {msg: pyJsonDumps(result(i, 'blocking'))},
        {agent: HOST},
        60_000,
      )
    const blockingSeconds = (performance.now() - t0) / 1000
    // 3a. the outbox into a running broker
    const sender = new OutboxSender({
      outbox: store.outbox,
      send: (m) => rpc.call('dfa_server_q', m.method, {msg: pyJsonDumps(m.payload)}, {agent: HOST}, 60_000),
      accepted: () => true,
      connected: () => transport.state.connected,
      log,
    })
    t0 = performance.now()
    sender.start()
    store.transaction(() => {
      for (let i = 0; i < OUTBOX; i++) store.outbox.add('update_vm_result', result(i, 'outbox'), Date.now())
    })
    await waitUntil('outbox drained', () => store.outbox.pendingCount() === 0, 600_000)
    const outboxSeconds = (performance.now() - t0) / 1000
    // 3b. queued during an outage, delivered after it
    await broker.stop({keepEpmd: true})
    await waitUntil('disconnected', () => !transport.state.connected, 30_000)
    store.transaction(() => {
      for (let i = 0; i < OUTBOX; i++) store.outbox.add('update_vm_result', result(i, 'outage'), Date.now())
    })
    await broker.start()
    t0 = performance.now()
    await waitUntil('outbox drained after the outage', () => store.outbox.pendingCount() === 0, 600_000)
    const afterOutageSeconds = (performance.now() - t0) / 1000
    sender.stop()
    const recorded = new Set(standin.records('update_vm_result').map((r) => r.parsed?.port_uuid)).size
    if (recorded < VMS + 2 * OUTBOX)
      throw new Error(`the server recorded ${recorded} distinct results, expected ${VMS + 2 * OUTBOX}`)
    return {blockingSeconds, outboxSeconds, afterOutageSeconds}
  } finally {
    store.close()
    await rpc.close()
    await transport.close()
    await standin.stop()
    await broker.destroy()
    rmSync(dir, {recursive: true, force: true})
  }
}

const e2e = await endToEnd()
const t = await transportOnly()
const rate = (n: number, s: number) => Math.round(n / s)
const sleepHours = (VMS * 10) / 3600
console.log(
  `bench/rpc: ${VMS} VMs, outbox ${OUTBOX} messages (private RabbitMQ 3.10, stand-in server on oslo.messaging 14)`,
)
console.log('')
console.log('| what | time | rate |')
console.log('|---|---|---|')
console.log(
  `| ours: bulk send_vm_info -> VDP via the ToR simulator -> ${VMS} update_vm_result recorded by the server | ${e2e.seconds.toFixed(1)} s | ${rate(VMS, e2e.seconds)} VMs/s |`,
)
console.log(
  `| original design: one blocking update_vm_result call per result (run) | ${t.blockingSeconds.toFixed(1)} s | ${rate(VMS, t.blockingSeconds)} results/s |`,
)
console.log(
  `| original design: 10 s sleep per VM event (computed) | ${sleepHours.toFixed(1)} h | ${(1 / 10).toFixed(1)} VMs/s |`,
)
console.log(
  `| outbox alone into a running broker | ${t.outboxSeconds.toFixed(2)} s | ${rate(OUTBOX, t.outboxSeconds)} msgs/s |`,
)
console.log(
  `| outbox after a broker outage (from broker ready) | ${t.afterOutageSeconds.toFixed(2)} s | ${rate(OUTBOX, t.afterOutageSeconds)} msgs/s |`,
)
console.log('')
console.log(
  `ratios: outbox vs blocking calls ${(t.blockingSeconds / t.outboxSeconds).toFixed(1)}x; end to end vs the original's sleeps ${((VMS * 10) / e2e.seconds).toFixed(0)}x`,
)
process.exit(0)
