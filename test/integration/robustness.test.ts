/**
 * Issue 10, items 2, 9, 10 and 11, against real daemon processes in a namespace lab (with our ToR
 * simulator as the switch): a greedy control-socket client, no CAP_NET_RAW, bad `vm bulk` shapes, and the
 * messages that misled (permission denied, corrupt database, read-only file system, deep values,
 * `uplink set`). Waits are bounded and on counts, never timing assertions.
 */
import {execFile} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {type Socket, connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {StatusView} from '../../src/control/views.js'
import {callControl, callDaemon} from '../../src/control/client.js'
import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {Lab, type LabProcess, run} from '../../src/lab/netns.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let host = ''
let agent: AgentProcess
let home: ReturnType<typeof makeAgentHome>
let torSocket = ''
let simOutput = ''

const PORTS = 1000
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const port = (i: number) => `5e2d0b61-7c4a-4f1e-8b3d-${String(i).padStart(12, '0')}`
const mac = (i: number) =>
  `52:54:00:03:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`
const tor = (method: string, params?: unknown) => callControl(torSocket, method, params)
const keepalives = async () =>
  ((await tor('status')) as {counters: {bridge: {keepalives: number}}}).counters.bridge.keepalives
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/** A home readable by other users (the permission test runs the CLI as nobody). */
function sharedHome(extra: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vdp-agent-home-'))
  chmodSync(dir, 0o755)
  return makeAgentHome(extra, {dir, logLevel: 'info'})
}

/** Runs argv to completion; resolves with exit code and output (never rejects). */
function exec(argv: string[], timeoutMs = 30_000): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), {env: CHILD_ENV, timeout: timeoutMs}, (err, stdout, stderr) => {
      resolve({
        code: err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : null) : 0,
        stdout,
        stderr,
      })
    })
  })
}

/** Starts a daemon expected to refuse to start; resolves with its exit code and output. */
async function failedStart(
  home: ReturnType<typeof makeAgentHome>,
  prefix: string[] = [],
): Promise<{code: number | null; output: string}> {
  const proc: LabProcess = lab.spawn(host, [...prefix, process.execPath, CLI, 'daemon', '--config', home.config], {
    env: CHILD_ENV,
  })
  let output = ''
  proc.child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  proc.child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const timer = setTimeout(() => void proc.stop(1000), 30_000)
  const {code} = await proc.exited
  clearTimeout(timer)
  return {code, output}
}

beforeAll(async () => {
  host = await lab.addNamespace('host')
  const torNs = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: torNs, ifname: 'tor1', mac: '02:00:00:00:02:01'},
  )
  await lab.waitForOperstate(host, 'eth1', 'up')
  torSocket = join(await lab.tempDir('tor'), 'tor.sock')
  const sim = lab.spawn(
    torNs,
    [
      process.execPath,
      CLI,
      'lab',
      'tor',
      '-i',
      'tor1',
      '--control',
      torSocket,
      '--vlan-from-segment',
      '--bgid',
      '--rte',
      '12',
      '--rwd',
      '18',
      '--rka',
      '18',
      '--min-tx-gap-ms',
      '0',
      '--log-format',
      'json',
      '--log-level',
      'warn',
    ],
    {env: CHILD_ENV},
  )
  // Its output is read: a child whose stdout pipe fills up would block.
  sim.child.stdout!.on('data', (d: Buffer) => (simOutput = (simOutput + d.toString()).slice(-20_000)))
  sim.child.stderr!.on('data', (d: Buffer) => (simOutput = (simOutput + d.toString()).slice(-20_000)))
  await eventually(
    'simulator up',
    () =>
      tor('status').then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    20_000,
  )
  home = sharedHome(
    '[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\nevb_rte = 12\nevb_rwd = 18\nevb_rka = 18\n[vdp]\nretry_initial = 2\nretry_max = 8\nretry_limit = 1000\n',
  )
  agent = await AgentProcess.start(lab, host, home, 20_000)
  await eventually(
    'uplink up',
    () => cliJson<{state: string}>(['uplink', 'show'], home.config),
    (u) => u.state === 'up',
    30_000,
  )
  const up = Array.from({length: PORTS}, (_, i) => ({
    portUuid: port(i),
    mac: mac(i),
    netUuid: NET,
    segmentationId: 40000 + i,
  }))
  await callDaemon(home.socket, 'vm.bulk', {up}, 60_000)
  await eventually(
    'all associated',
    () => cliJson<StatusView>(['status'], home.config),
    (s) => s.vsis.byState.associated === PORTS,
    90_000,
    500,
  )
}, 180_000)

afterAll(async () => {
  await lab.destroy()
})

describe('item 2: a control-socket client that pipelines and never reads', () => {
  let greedy: Socket
  afterAll(() => greedy?.destroy())

  it('300 pipelined vsi.list: status still answers, keep-alives go on, memory stays bounded', async () => {
    const rssBefore = rssMiB(agent.pid)
    greedy = connect(home.socket)
    await new Promise<void>((resolve, reject) => greedy.once('connect', resolve).once('error', reject))
    greedy.pause() // never reads
    greedy.write(Array.from({length: 300}, (_, i) => JSON.stringify({id: i + 1, method: 'vsi.list'}) + '\n').join(''))

    const answered = await cli(['status', '--json', '--config', home.config])
    expect(answered.code).toBe(0)
    expect(JSON.parse(answered.stdout)).toMatchObject({source: 'daemon', vsis: {total: PORTS}})
    const k0 = await keepalives()
    await eventually('keep-alives go on', keepalives, (n) => n >= k0 + PORTS, 60_000, 200)
    expect(((await tor('status')) as {vsis: number}).vsis).toBe(PORTS) // the switch lost none
    // Before the fix all 300 answers (about 0.4 MB each) were built and queued at once: over 100 MB.
    const rssAfter = rssMiB(agent.pid)
    expect(rssAfter - rssBefore).toBeLessThan(60)
    expect(agent.proc.child.exitCode).toBeNull()
  })

  it('a second client is served as well while the greedy one still holds its connection', async () => {
    const list = await callDaemon(home.socket, 'vsi.list')
    expect(list).toHaveLength(PORTS)
  })
})

describe('item 11: messages that misled', () => {
  it('a value nested 10,000 deep is refused as a bad request, not an INTERNAL stack overflow', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
    const line = `{"id":7,"method":"vm.up","params":{"portUuid":"${port(1)}","mac":"${mac(1)}","netUuid":"${NET}","segmentationId":5,"vmName":${deep}}}\n`
    const reply = await rawRequest(line)
    expect(reply).toMatchObject({
      id: 7,
      ok: false,
      error: {code: 'BAD_REQUEST', message: 'params nest deeper than 32 levels; requests are flat objects and lists'},
    })
    expect(agent.proc.child.exitCode).toBeNull()
  })

  it('an error reply does not echo the whole bad value', async () => {
    const huge = 'x'.repeat(1_000_000)
    const reply = await rawRequest(
      JSON.stringify({
        id: 8,
        method: 'vm.up',
        params: {portUuid: port(1), mac: mac(1), netUuid: huge, segmentationId: 5},
      }) + '\n',
    )
    expect(reply).toMatchObject({id: 8, ok: false, error: {code: 'BAD_ARGUMENT'}})
    const message = (reply as {error: {message: string}}).error.message
    expect(message).toBe(`netUuid = "${'x'.repeat(60)}"… (1000000 characters): expected a UUID`)
  })

  it('uplink set --json gives ISO times like uplink show, and checks that the uplink became that port', async () => {
    const set = await cli(['uplink', 'set', 'eth1', '--json', '--config', home.config])
    expect(set.code).toBe(0)
    const out = JSON.parse(set.stdout) as {
      applied: boolean
      uplink: {ifname: string; source: string; changedAt: string; updatedAt?: unknown}
    }
    expect(out).toMatchObject({applied: true, uplink: {ifname: 'eth1', source: 'override', state: 'up'}})
    expect(out.uplink.changedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const shown = await cliJson<{changedAt: string}>(['uplink', 'show'], home.config)
    expect(typeof shown.changedAt).toBe('string')

    // A typo is refused before anything changes (exit 2, no pin)...
    const typo = await cli(['uplink', 'set', 'eth9', '--json', '--config', home.config])
    expect(typo.code).toBe(2)
    expect(JSON.parse(typo.stdout)).toMatchObject({error: {code: 'NO_SUCH_INTERFACE'}})
    expect(await cliJson<{source: string; ifname: string}>(['uplink', 'show'], home.config)).toMatchObject({
      source: 'override',
      ifname: 'eth1',
    })
    // ...and with --force it is pinned, and the command says the daemon cannot use it.
    const missing = await cli(['uplink', 'set', 'eth9', '--force', '--json', '--config', home.config])
    expect(missing.code).toBe(1)
    const {error} = JSON.parse(missing.stdout) as {error: {code: string; message: string}}
    expect(error.code).toBe('UPLINK_NOT_APPLIED')
    expect(error.message).toMatch(
      /^interface eth9 does not exist on this host, so the daemon has no working uplink \(the pin in .* stays until `vdp-agent uplink clear`\): check the name with `ip link`$/,
    )
    expect((await cli(['uplink', 'clear', '--config', home.config])).code).toBe(0)
    await eventually(
      'uplink back on LLDP',
      () => cliJson<{source: string; state: string}>(['uplink', 'show'], home.config),
      (u) => u.source === 'lldp' && u.state === 'up',
      30_000,
    )
  })

  it('permission denied on the control socket is said as such (exit 77), not "daemon not running"', async () => {
    const r = await exec([
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
      process.execPath,
      CLI,
      'status',
      '--config',
      home.config,
    ])
    expect(r.code).toBe(77)
    expect(r.stderr.replace(/\s*\n\s*›?\s*/g, ' ')).toMatch(
      /permission denied on the control socket .*control\.sock \(EACCES\): only root and members of the socket's group/,
    )
    expect(r.stdout + r.stderr).not.toMatch(/not running/)
  })
})

describe('item 10: vm bulk with unknown keys or the wrong shape', () => {
  const cases: [string, string, RegExp][] = [
    [
      '{"ports": [...]}',
      JSON.stringify({ports: [{portUuid: port(1)}]}),
      /key = "ports": expected only the keys up, down/,
    ],
    ['{"Up": [...]}', JSON.stringify({Up: []}), /key = "Up": expected only the keys up, down/],
    ['{}', '{}', /the bulk list = an empty object \{\}: expected an object/],
    ['a JSON array', '[]', /the bulk list = an array of 0 items: expected an object/],
  ]
  it('a device as FILE is refused at once (exit 2), not read without end', async () => {
    const r = await cli(['vm', 'bulk', '/dev/zero', '--json', '--config', home.config])
    expect(r.code).toBe(2)
    expect((JSON.parse(r.stdout) as {error: {message: string}}).error.message).toBe(
      '/dev/zero is a character device: give a JSON file, a pipe or - for standard input',
    )
  })
  for (const [name, text, message] of cases) {
    it(`${name} is refused with exit 2`, async () => {
      const file = join(home.dir, 'bulk.json')
      writeFileSync(file, text)
      const r = await cli(['vm', 'bulk', file, '--json', '--config', home.config])
      expect(r.code).toBe(2)
      const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string}}
      expect(error.code).toBe('BAD_ARGUMENT')
      expect(error.message).toMatch(message)
    })
  }
})

describe('start-up failures that a restart cannot fix', () => {
  it('item 9: without CAP_NET_RAW the daemon fails loudly with exit 77', async () => {
    const h = sharedHome('')
    const {code, output} = await failedStart(h, ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw', '--'])
    expect(code).toBe(77)
    expect(output).toMatch(
      /cannot open raw \(AF_PACKET\) sockets \(EPERM: .*\)\. The daemon needs CAP_NET_RAW \(and CAP_NET_ADMIN\)/,
    )
    expect(output).not.toContain('vdp-agent daemon started')
  })

  it('item 11: a corrupt database is named, with what to do, and exits 65', async () => {
    const h = sharedHome('')
    mkdirSync(join(h.dir, 'state'))
    const db = join(h.dir, 'state', 'vdp-agent.db')
    writeFileSync(db, Buffer.alloc(16_384, 0x5a))
    const {code, output} = await failedStart(h)
    expect(code).toBe(65)
    expect(output).toContain(`database ${db} is corrupt (file is not a database): stop the daemon, move the file aside`)
    const unit = readFileSync(new URL('../../packaging/vdp-agent.service', import.meta.url), 'utf8')
    expect(unit).toMatch(/^RestartPreventExitStatus=78 65 77$/m)
  })

  it('item 11: a read-only file system is reported as read-only, not "no such file or directory"', async () => {
    const h = sharedHome('')
    const ro = join(h.dir, 'ro')
    mkdirSync(ro)
    writeFileSync(
      h.config,
      readFileSync(h.config, 'utf8').replace(/^state_dir = .*$/m, `state_dir = ${join(ro, 'state')}`),
    )
    const holder = lab.spawn(host, ['unshare', '--mount', '--propagation', 'private', 'sleep', '600'])
    await lab.waitFor(
      'the mount namespace holder',
      () => readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep',
    )
    await run([
      'nsenter',
      '-t',
      String(holder.pid),
      '-m',
      '--',
      'mount',
      '-t',
      'tmpfs',
      '-o',
      'ro,size=1m',
      'vdpt-ro',
      ro,
    ])
    const {code, output} = await failedStart(h, ['nsenter', '-t', String(holder.pid), '-m', '--'])
    await holder.stop(1000)
    expect(code).toBe(1)
    expect(output).toContain(
      `cannot create ${join(ro, 'state')} ([general] state_dir): the file system is read-only (EROFS)`,
    )
    expect(output).not.toMatch(/no such file or directory/i)
  })
})

/** One request line on its own connection; the parsed reply. */
function rawRequest(line: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect(home.socket)
    let buf = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        s.destroy()
        resolve(JSON.parse(buf.slice(0, nl)))
      }
    })
    s.on('error', reject)
    s.on('connect', () => s.write(line))
  })
}
