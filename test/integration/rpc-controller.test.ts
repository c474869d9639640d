/**
 * Issue 11 end to end: the daemon with [rpc] transport = amqp, a private RabbitMQ and the Python DFA server
 * stand-in (real oslo.messaging) in the agent's namespace, the ToR simulator as the switch. VM events come
 * from the server, go through VDP to the switch, and the results come back to the server; the broker is
 * restarted and the agent killed in the middle of 1,000-VM bulk lists; the server is slow or raising;
 * hostile payloads are refused.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {callDaemon} from '../../src/control/client.js'
import {DfaStandin, type StandinRecord, type VmInfo, pyStr} from '../../src/lab/dfa-standin.js'
import {Lab} from '../../src/lab/netns.js'
import {PrivateBroker, brokerPortFor} from '../../src/lab/rabbitmq.js'
import {startTorSimulator} from '../../src/lab/tor-process.js'
import type {TaskView} from '../../src/core/scheduler.js'
import type {RpcStatus} from '../../src/rpc/controller-link.js'
import type {JournalEntry} from '../../src/store/journal-repo.js'
import {samples} from '../helpers/prometheus-text.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
const HOST = 'compute-t2'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
let agent: AgentProcess
let home: ReturnType<typeof makeAgentHome>
let broker: PrivateBroker
let standin: DfaStandin
let hostNs = ''
let sim: Awaited<ReturnType<typeof startTorSimulator>>

const portId = (block: number, i: number) =>
  `9e2d0b61-7c4a-4f1e-${String(8000 + block).padStart(4, '0')}-${String(i).padStart(12, '0')}`
const macOf = (block: number, i: number) =>
  `52:54:${block.toString(16).padStart(2, '0')}:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`
const vm = (block: number, i: number, status: 'up' | 'down' = 'up'): VmInfo => ({
  status,
  vm_mac: macOf(block, i),
  segmentation_id: 20000 + (i % 50),
  host: HOST,
  port_uuid: portId(block, i),
  net_uuid: NET,
  oui: {
    ip_addr: '0.0.0.0',
    vm_name: `vm-${block}-${i}`,
    vm_uuid: `a1b2c3d4e5f60718293a${String(block).padStart(4, '0')}${String(i).padStart(8, '0')}`,
    fwd_mod: 'anycast-gateway',
    oui_id: 'cisco',
  },
})

/** The newest result the server recorded per port. */
function resultsByPort(records: StandinRecord[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>()
  for (const r of records) if (r.parsed && typeof r.parsed.port_uuid === 'string') out.set(r.parsed.port_uuid, r.parsed)
  return out
}
const successCount = (prefix: number) =>
  [...resultsByPort(standin.records('update_vm_result')).entries()].filter(
    ([p, r]) => p.includes(`-${8000 + prefix}-`) && r.result === 'SUCCESS',
  ).length

async function journal(): Promise<JournalEntry[]> {
  const {Store, databasePath} = await import('../../src/store/store.js')
  const store = Store.open(databasePath(join(home.dir, 'state')), {readonly: true})
  try {
    return store.journal.recent(5000)
  } finally {
    store.close()
  }
}

async function startAgent(): Promise<void> {
  agent = await AgentProcess.start(lab, hostNs, home, 30_000)
}

beforeAll(async () => {
  hostNs = await lab.addNamespace('host')
  const torNs = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: hostNs, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: torNs, ifname: 'tor1', mac: '02:00:00:00:02:01'},
  )
  // the helper reads the simulator's output: an unread pipe would fill and stop it
  sim = await startTorSimulator(lab, torNs, {
    ifname: 'tor1',
    args: [
      '--vlan-from-segment',
      '--bgid',
      '--rte',
      '8',
      '--rwd',
      '14',
      '--rka',
      '20',
      '--min-tx-gap-ms',
      '0',
      '--log-level',
      'warn',
    ],
  })
  const port = brokerPortFor(2)
  broker = new PrivateBroker({port, netns: hostNs})
  await broker.start()
  const url = `rabbit://guest:guest@127.0.0.1:${port}/`
  standin = new DfaStandin({
    url,
    record: join(await lab.tempDir('standin'), 'record.jsonl'),
    react: true,
    timeoutS: 30,
    spawnArgv: (argv) => ['ip', 'netns', 'exec', hostNs, ...argv],
  })
  await standin.started()
  await standin.setVms(HOST, [vm(1, 1), vm(1, 2), vm(1, 3)])
  home = makeAgentHome(
    `[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\nevb_rwd = 14\nevb_rka = 20\n[vdp]\nretry_initial = 0.2\nretry_max = 2\nretry_limit = 50\n[rpc]\ntransport = amqp\nurl = ${url}\nheartbeat_interval = 2\ncall_timeout = 5\ntopology_interval = 10\n[metrics]\nlisten = on\n`,
    {logLevel: 'info'},
  )
  // the host id is the agent's identity on the bus (and in every payload, the heartbeat included)
  const {readFileSync, writeFileSync} = await import('node:fs')
  writeFileSync(home.config, readFileSync(home.config, 'utf8').replace('[general]\n', `[general]\nhost_id = ${HOST}\n`))
  await startAgent()
}, 180_000)

afterAll(async () => {
  await standin?.stop()
  await broker?.destroy()
  await lab.destroy()
}, 120_000)

describe('start-up sequence as upstream', () => {
  it('heartbeat (host id, ctime), request_uplink_info, uplink back, save_uplink, bulk VM list, results', async () => {
    const hb = await standin.waitFor('heartbeat', () => standin.records('heartbeat').find((r) => r.parsed), 30_000)
    expect(hb.parsed).toMatchObject({
      agent: HOST,
      seq: expect.any(Number),
      version: expect.any(String),
      uplink: expect.any(Object),
    })
    expect(String(hb.parsed!.when)).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/)
    expect(standin.records('heartbeat').every((r) => !r.error)).toBe(true) // upstream's strptime accepted every one
    await standin.waitFor('request_uplink_info', () => standin.records('request_uplink_info')[0], 30_000)
    const saved = await standin.waitFor(
      'save_uplink eth1',
      () => standin.records('save_uplink').find((r) => r.parsed?.uplink === 'eth1' && r.result === true),
      60_000,
    )
    expect(saved.parsed).toMatchObject({agent: HOST, uplink: 'eth1', memb_port_list: null})
    await standin.waitFor('3 results', () => successCount(1) === 3 || undefined, 60_000)
    const r = resultsByPort(standin.records('update_vm_result')).get(portId(1, 1))!
    expect(r).toMatchObject({result: 'SUCCESS', vdp_vlan: expect.any(Number), fail_reason: null})
    expect(standin.records('update_vm_result')[0].ctxt).toMatchObject({agent: HOST})
    // the server's uplink memory came back as send_msg_to_agent 1002 and was answered
    await standin.waitFor(
      'send_msg_to_agent',
      () => standin.records('->send_msg_to_agent').find((x) => x.outcome && !x.outcome.error),
      30_000,
    )
  })

  it('save_topo_disc_params reports the EVB bridge on eth1', async () => {
    const topo = await standin.waitFor(
      'topology',
      () => standin.records('save_topo_disc_params').find((r) => r.result === true),
      30_000,
    )
    expect(topo.parsed).toMatchObject({
      host: HOST,
      protocol_interface: 'eth1',
      remote_evb_cfgd: true,
      remote_evb_mode: 'bridge',
    })
  })

  it('rpc status and status show the link without credentials; outbox list works', async () => {
    const s = await cliJson<RpcStatus & {source: string}>(['rpc', 'status'], home.config)
    expect(s).toMatchObject({
      connected: true,
      agentTopic: `dfa_agent_${HOST}`,
      broker: expect.stringMatching(/^amqp:\/\/127\.0\.0\.1:\d+\/$/),
    })
    expect(s.lastHeartbeat).not.toBeNull()
    const validate = new Ajv2020({strict: true, validateFormats: false}).compile(
      JSON.parse(readFileSync(new URL('../../docs/json/rpc-status.schema.json', import.meta.url), 'utf8')) as object,
    )
    expect(validate(s), JSON.stringify(validate.errors)).toBe(true)
    const text = await cli(['status', '--config', home.config])
    expect(text.stdout).toMatch(/rpc: +amqp:\/\/127\.0\.0\.1:\d+\/ connected/)
    expect(text.stdout + JSON.stringify(s)).not.toContain('guest:guest')
    expect(agent.output).not.toContain('guest:guest')
    const out = await cliJson<{pending: number}>(['outbox', 'list'], home.config)
    expect(out.pending).toBeGreaterThanOrEqual(0)
    // the metrics endpoint (loopback in the host namespace) tells the same
    const script = `fetch('http://127.0.0.1:9477/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`
    const m = samples((await lab.exec(hostNs, [process.execPath, '-e', script])).stdout)
    expect(m.get('vdp_agent_rpc_connected')).toBe(1)
    expect(m.get('vdp_agent_rpc_heartbeats_total')).toBeGreaterThanOrEqual(Math.max(1, s.heartbeatsSent))
    expect(m.get('vdp_agent_rpc_bad_messages_total')).toBe(s.badMessages)
    // the controller's periodic work is on the daemon's scheduler: listed, counted, none failing
    const {tasks} = await cliJson<{tasks: TaskView[]}>(['status'], home.config)
    expect(tasks.map((t) => [t.name, t.periodS])).toEqual([
      ['reconcile', 30],
      ['prune', 30],
      ['heartbeat', 2],
      ['topology', 5],
      ['outbox-relay', 1],
      ['rpc-connection', 1],
    ])
    const heartbeat = tasks.find((t) => t.name === 'heartbeat')!
    expect(heartbeat).toMatchObject({errors: 0, lastError: null})
    expect(heartbeat.runs).toBeGreaterThanOrEqual(1)
    expect(tasks.filter((t) => t.errors > 0)).toEqual([])
    expect(m.get('vdp_agent_task_runs_total{task="heartbeat"}')).toBeGreaterThanOrEqual(1)
    expect(m.get('vdp_agent_task_errors_total{task="heartbeat"}')).toBe(0)
  })
})

describe('VM events from the server', () => {
  it('one VM up then down reaches the switch and comes back as results', async () => {
    const up = await standin.call(HOST, 'send_vm_info', pyStr(vm(2, 1)))
    expect(up).toMatchObject({result: null})
    await eventually(
      'associated',
      () => callDaemon(home.socket, 'vsi.get', {portUuid: portId(2, 1)}),
      (v) => (v as {state?: string} | null)?.state === 'associated',
      30_000,
    )
    await standin.waitFor('up result', () => successCount(2) === 1 || undefined, 30_000)
    const before = standin.records('update_vm_result').length
    expect(await standin.call(HOST, 'send_vm_info', pyStr(vm(2, 1, 'down')))).toMatchObject({result: null})
    await eventually(
      'gone',
      () => callDaemon(home.socket, 'vsi.get', {portUuid: portId(2, 1)}),
      (v) => v === null,
      30_000,
    )
    await standin.waitFor(
      'down result',
      () =>
        standin
          .records('update_vm_result')
          .slice(before)
          .find((r) => r.parsed?.port_uuid === portId(2, 1) && r.parsed.result === 'SUCCESS'),
      30_000,
    )
  })

  it('hostile and malformed payloads get a clear remote error, a journal entry, and the daemon carries on', async () => {
    const marker = join(home.dir, 'pwned')
    const r = await standin.call(HOST, 'send_vm_info', `__import__('os').system('touch ${marker}')`)
    expect(r.error_class).toBe('ValueError')
    expect(r.error).toMatch(/not a Python literal/)
    expect(existsSync(marker)).toBe(false)
    const bad = await standin.call(HOST, 'send_vm_info', pyStr({...vm(2, 2), vm_mac: 'ff:ff:ff:ff:ff:ff'}))
    expect(bad.error_class).toBe('ValueError')
    const ip = await standin.call(
      HOST,
      'update_ip_rule',
      pyStr({ip: '10.0.0.5', mac: 'fa:16:3e:00:00:01', port: portId(2, 2), status: 'up'}),
    )
    expect(ip.error_class).toBe('NotImplementedError')
    const kinds = (await journal()).map((j) => j.kind)
    expect(kinds).toContain('rpc-bad-message')
    expect(kinds).toContain('rpc-unsupported')
    expect(await standin.call(HOST, 'send_vm_info', pyStr(vm(2, 3)))).toMatchObject({result: null})
  })

  it('a server remembering another uplink is recorded, never adopted, and told ours; a missing bulk list is asked for again', async () => {
    await standin.fault('save_uplink', 'nobulk', {count: 1})
    const before = standin.records('save_uplink').length
    const bulksBefore = standin.records('->send_vm_info').length
    expect(
      await standin.call(HOST, 'send_msg_to_agent', JSON.stringify({uplink: 'eth9', veth_intf: ''}), {type: 1002}),
    ).toMatchObject({result: null})
    const s = await cliJson<RpcStatus>(['rpc', 'status'], home.config)
    expect(s.serverUplink).toMatchObject({uplink: 'eth9', agrees: false})
    expect((await cliJson<{ifname: string}>(['uplink', 'show'], home.config)).ifname).toBe('eth1')
    // ours goes back to the server at once; it stores it but "forgets" the bulk list
    await standin.waitFor(
      'save_uplink eth1 again',
      () =>
        standin
          .records('save_uplink')
          .slice(before)
          .find((r) => r.parsed?.uplink === 'eth1'),
      30_000,
    )
    // the watchdog asks again (about 20 s later) and the list comes
    await standin.waitFor(
      'a second save_uplink',
      () =>
        standin
          .records('save_uplink')
          .slice(before)
          .filter((r) => r.parsed?.uplink === 'eth1').length >= 2 || undefined,
      60_000,
    )
    await standin.waitFor(
      'a bulk list',
      () => standin.records('->send_vm_info').length > bulksBefore || undefined,
      30_000,
    )
    expect((await journal()).map((j) => j.kind)).toContain('rpc-uplink-disagreement')
  }, 120_000)

  it('a raising or slow server delays results but never stalls VDP work; nothing is lost', async () => {
    await standin.fault('update_vm_result', 'raise', {count: 5})
    await standin.fault('save_uplink', 'sleep', {seconds: 7, count: 1})
    await standin.call(HOST, 'send_vm_info', pyStr([vm(3, 1), vm(3, 2)]))
    // VDP goes on while the server refuses results
    await eventually(
      'associated meanwhile',
      () => callDaemon(home.socket, 'vsi.get', {portUuid: portId(3, 2)}),
      (v) => (v as {state?: string} | null)?.state === 'associated',
      30_000,
    )
    await standin.waitFor('both results after retries', () => successCount(3) === 2 || undefined, 60_000)
  })
})

describe('never losing a result', () => {
  it('broker restart in the middle of a 1,000-VM bulk list: every port final result delivered', async () => {
    const vms = Array.from({length: 1000}, (_, i) => vm(4, i))
    await standin.setVms(HOST, [vm(1, 1), vm(1, 2), vm(1, 3), ...vms])
    const call = standin.call(HOST, 'send_vm_info', pyStr(vms), {}, 60)
    await standin.waitFor('first results', () => successCount(4) >= 50 || undefined, 120_000)
    await broker.restart()
    await call
    await standin.waitFor('all 1000 results', () => successCount(4) === 1000 || undefined, 240_000)
    expect(successCount(4)).toBe(1000)
  }, 400_000)

  it('kill -9 of the agent in the middle of a 1,000-VM bulk list: all results delivered after the restart', async () => {
    const vms = Array.from({length: 1000}, (_, i) => vm(5, i))
    await standin.setVms(HOST, [
      vm(1, 1),
      vm(1, 2),
      vm(1, 3),
      ...Array.from({length: 1000}, (_, i) => vm(4, i)),
      ...vms,
    ])
    expect(await standin.call(HOST, 'send_vm_info', pyStr(vms), {}, 60)).toMatchObject({result: null})
    await standin.waitFor('first results', () => successCount(5) >= 50 || undefined, 120_000)
    agent.signal('SIGKILL')
    await agent.proc.exited
    await startAgent()
    await standin.waitFor('all 1000 results', () => successCount(5) === 1000 || undefined, 240_000)
    expect(successCount(5)).toBe(1000)
  }, 400_000)

  it('the switch goes away: the no-neighbour topology and the uplink loss reach the server', async () => {
    const before = standin.records('save_topo_disc_params').length
    await sim.stop() // a shutdown LLDPDU (TTL 0): the neighbour goes at once
    const gone = await standin.waitFor(
      'no-neighbour topology',
      () =>
        standin
          .records('save_topo_disc_params')
          .slice(before)
          .find((r) => r.parsed?.remote_evb_cfgd === false),
      60_000,
    )
    expect(gone.parsed).toMatchObject({
      host: HOST,
      protocol_interface: 'eth1',
      remote_system_name: null,
      remote_chassis_id_mac: null,
    })
    const lost = await standin.waitFor(
      'uplink lost',
      () =>
        standin
          .records('save_uplink')
          .reverse()
          .find((r) => r.parsed?.uplink === ''),
      60_000,
    )
    expect(String(lost.parsed!.fail_reason)).not.toBe('')
  }, 120_000)
})
