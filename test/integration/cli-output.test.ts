/**
 * The CLI's output against a real daemon and the ToR simulator (issue 13 items 4 and 5): every command's real
 * --json output validates against its schema under docs/json/; the read-only commands' fast path prints
 * exactly what the oclif commands print (same stdout, same exit code); `neighbors -v` shows every TLV the
 * switch sends; `vsi list` filters; tables fit 80 columns or say how to see more.
 */
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Ajv2020} from 'ajv/dist/2020.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {Lab} from '../../src/lab/netns.js'
import {type TorProcess, startTorSimulator} from '../../src/lab/tor-process.js'
import {decodeLldpFrame} from '../../src/lldp/index.js'
import {corpusPath} from '../helpers/corpus.js'
import {AgentProcess, type CliResult, makeAgentHome} from './helpers/agent-process.js'
import {execFile} from 'node:child_process'

const SCHEMAS = fileURLToPath(new URL('../../docs/json/', import.meta.url))
const ajv = new Ajv2020({allErrors: true, strict: true, validateFormats: false})
for (const f of readdirSync(SCHEMAS).filter((n) => n.endsWith('.schema.json')))
  ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')), f.replace('.schema.json', ''))
/** Names of the schemas a test validated against (each must be used at least once). */
const used = new Set<string>()

function expectSchema(schema: string, value: unknown): void {
  used.add(schema)
  const validate = ajv.getSchema(schema)!
  expect(
    validate(value),
    `${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
  ).toBe(true)
}

const NET_A = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const NET_B = '9d0e5c3b-8a7f-4e6d-b5c4-a3b2c1d0e9f8'
const VMS = [
  {port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01', mac: '52:54:00:12:34:01', net: NET_A, segment: 20000},
  {port: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e02', mac: '52:54:00:12:34:02', net: NET_A, segment: 20000},
  {port: '8a2d1b63-1f4c-4b9f-8b66-4d3a7c2e0f03', mac: '52:54:00:12:34:03', net: NET_B, segment: 30001},
]

/** The compiled CLI with extra environment (COLUMNS, the fast-path switch). */
function cliEnv(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {env: {...CHILD_ENV, ...env}, timeout: 30_000, maxBuffer: 16 * 1024 * 1024},
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}

const lab = new Lab()
let home: ReturnType<typeof makeAgentHome>
let agent: AgentProcess
let sim: TorProcess
const run = (args: string[], env: Record<string, string> = {}) => cliEnv([...args, '--config', home.config], env)
const json = async (args: string[]) => {
  const r = await run([...args, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>
}

beforeAll(async () => {
  const host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:00'},
    {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:00'},
  )
  await lab.waitForOperstate(host, 'eth0', 'up')
  sim = await startTorSimulator(lab, tor, {
    ifname: 'sw0',
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
  home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n', {
    dir: await lab.tempDir('cliout'),
    logLevel: 'info',
  })
  agent = await AgentProcess.start(lab, host, home)
  await agent.waitForLine((l) => l.msg === 'uplink changed' && l.state === 'up', {timeoutMs: 30_000})
  for (const vm of VMS) {
    const up = await json([
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
      '--wait',
    ])
    expectSchema('vm-up', up)
    expect(up).toMatchObject({state: 'associated', vdpVlan: expect.any(Number)})
  }
}, 90_000)

afterAll(async () => {
  await agent?.stop()
  await sim?.stop()
  await lab.destroy()
})

describe('--json output matches docs/json schemas', () => {
  it('read-only commands from the running daemon', async () => {
    expectSchema('status', await json(['status']))
    expectSchema('uplink-show', await json(['uplink', 'show']))
    const neighbors = await json(['neighbors'])
    expectSchema('neighbors', neighbors)
    expect(neighbors.neighbors).toHaveLength(1)
    expectSchema('neighbors', await json(['neighbors', '-v']))
    const lldpStats = await json(['lldp', 'stats'])
    expectSchema('lldp-stats', lldpStats)
    expect(lldpStats.listening).toEqual(['eth0'])
    const vsis = await json(['vsi', 'list'])
    expectSchema('vsi-list', vsis)
    expect(vsis.vsis).toHaveLength(3)
    expectSchema('rpc-status', await json(['rpc', 'status']))
    expectSchema('outbox-list', await json(['outbox', 'list']))
    const journal = await json(['journal', '--limit', '1000'])
    expectSchema('journal', journal)
    expect((journal.entries as unknown[]).length).toBeGreaterThan(0)
    // This daemon runs with [dataplane] driver = none; test/integration/dataplane-ovs.test.ts validates driver ovs.
    const flows = await json(['flows'])
    expectSchema('flows', flows)
    expect(flows).toMatchObject({driver: 'none', desired: [], installed: []})
  })

  it('commands that change state, config check and lldp decode', async () => {
    const bulkFile = join(home.dir, 'bulk.json')
    writeFileSync(
      bulkFile,
      JSON.stringify({
        up: [
          {
            portUuid: '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b',
            mac: '52:54:00:12:34:09',
            netUuid: NET_B,
            segmentationId: 30001,
          },
        ],
        down: [],
      }),
    )
    expectSchema('vm-bulk', await json(['vm', 'bulk', bulkFile]))
    expectSchema('vm-down', await json(['vm', 'down', '--port', '3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b']))
    expectSchema('config-check', await json(['config', 'check', '--show']))
    const bad = join(home.dir, 'bad.ini')
    writeFileSync(bad, '[lldp]\ntx_interval = soon\n')
    const invalid = await cliEnv(['config', 'check', '--json', '--config', bad])
    expect(invalid.code).toBe(78)
    expectSchema('config-check', JSON.parse(invalid.stdout))
    const lines = (await cliEnv(['lldp', 'decode', corpusPath('generated', 'lldpd-tor-to-host.pcap'), '--json'])).stdout
      .trim()
      .split('\n')
    expect(lines.length).toBeGreaterThan(1)
    for (const line of lines) expectSchema('lldp-decode', JSON.parse(line))
    const vdpLines = (
      await cliEnv(['vdp', 'decode', corpusPath('generated', 'lldpad-vdp22-assoc-deassoc.pcap'), '--json'])
    ).stdout
      .trim()
      .split('\n')
    const vdpFrames = vdpLines.map(
      (l) => JSON.parse(l) as {vdp?: unknown; exchange?: {acknowledges?: number}; summary?: unknown},
    )
    // Requests with VDPDUs, ACKs matched to them, and the summary: every kind of line this capture has.
    expect(vdpFrames.filter((f) => f.vdp).length).toBe(4)
    expect(vdpFrames.filter((f) => f.exchange?.acknowledges).length).toBe(4)
    expect(vdpFrames.at(-1)).toHaveProperty('summary')
    for (const frame of vdpFrames) expectSchema('vdp-decode', frame)
    const badArg = await run(['uplink', 'set', 'eth0 reboot', '--json'])
    expect(badArg.code).toBe(2)
    expectSchema('error', JSON.parse(badArg.stdout))
  })

  it('uplink set and clear', async () => {
    expectSchema('uplink-set', await json(['uplink', 'set', 'eth0']))
    expectSchema('uplink-clear', await json(['uplink', 'clear']))
  })
})

describe('the read-only fast path prints what the oclif commands print', () => {
  /**
   * Between the two runs a new LLDPDU may arrive (lastSeen, expiresAt move) and ages tick ("12s ago", "41s");
   * everything else must be identical.
   */
  const steady = (s: string) =>
    s
      .replace(/\d+(m\d+)?s( ago)?/g, 'Ns$2')
      .replace(/expires in \d+s/g, 'expires in Ns')
      .replace(/"(lastSeen|expiresAt)": \d+/g, '"$1": N')
      // a periodic task may run between the two (status --json: tasks[].runs, lastRunAt)
      .replace(/"runs": \d+/g, '"runs": N')
      .replace(/"lastRunAt": ("[^"]*"|null)/g, '"lastRunAt": T')
      // an age that gains a digit ("9s ago" → "10s ago") widens its table column
      .replace(/ {2,}/g, '  ')
  const commands = [
    ['status'],
    ['status', '--json'],
    ['uplink', 'show'],
    ['uplink', 'show', '--json'],
    ['neighbors'],
    ['neighbors', '--json'],
    ['neighbors', '-v'],
    ['neighbors', '-v', '--json'],
    ['vsi', 'list'],
    ['vsi', 'list', '--json'],
    ['vsi', 'list', '--state', 'associated', '--network', NET_A],
    ['vsi', 'list', '--port=8a2d1b63', '--json'],
  ]
  for (const c of commands) {
    it(`vdp-agent ${c.join(' ')}`, async () => {
      const fast = await run(c, {COLUMNS: '80'})
      const oclif = await run(c, {COLUMNS: '80', VDP_AGENT_NO_FAST_PATH: '1'})
      expect(fast.code).toBe(oclif.code)
      expect(steady(fast.stdout)).toBe(steady(oclif.stdout))
      expect(fast.stderr).toBe(oclif.stderr)
      expect(fast.stdout.length).toBeGreaterThan(0)
    })
  }

  it('--help and unknown flags still go through oclif', async () => {
    const help = await run(['vsi', 'list', '--help'])
    expect(help.stdout).toMatch(/--state=<option>/)
    const unknown = await run(['status', '--frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Nonexistent flag: --frobnicate/)
  })
})

describe('human output', () => {
  it('neighbors -v shows every TLV of the switch’s LLDPDU, like lldpcli show neighbors details', async () => {
    const detail = (await json(['neighbors', '-v'])).neighbors as {frame: string; tlvs: {kind: string}[]}[]
    // Independent of our formatter: the TLVs in the frame the daemon kept, decoded again here.
    const tlvs = decodeLldpFrame(Buffer.from(detail[0].frame, 'hex')).tlvs
    expect(tlvs.map((t) => t.kind)).toEqual(detail[0].tlvs.map((t) => t.kind))
    expect(tlvs.length).toBeGreaterThanOrEqual(6)
    const text = (await run(['neighbors', '-v'])).stdout
    expect(text).toMatch(/^Interface: +eth0, via: LLDP/m)
    const tlvLines = text.split('\n').filter((l) => /^ {2}\S.*, length \d+/.test(l))
    expect(tlvLines).toHaveLength(tlvs.length)
    expect(text).toContain('leaf-101')
    expect(text).toContain('Ethernet1/7')
    expect(text).toMatch(/EVB/)
  })

  it('vsi list filters by state, network and port (prefix)', async () => {
    const byNet = (await json(['vsi', 'list', '--network', NET_B])).vsis as {portUuid: string}[]
    expect(byNet.map((v) => v.portUuid)).toEqual([VMS[2].port])
    const byPort = (await json(['vsi', 'list', '--port', '7f1c0a52'])).vsis as {portUuid: string}[]
    expect(byPort.map((v) => v.portUuid).sort()).toEqual([VMS[0].port, VMS[1].port])
    expect(((await json(['vsi', 'list', '--state', 'failed'])).vsis as unknown[]).length).toBe(0)
    const several = (await json(['vsi', 'list', '--state', 'failed', '--state', 'associated'])).vsis as unknown[]
    expect(several.length).toBe(3)
    const bad = await run(['vsi', 'list', '--state', 'asleep'])
    expect(bad.code).toBe(2)
  })

  it('tables fit 80 columns, or say how to see more', async () => {
    for (const c of [['vsi', 'list'], ['neighbors'], ['status'], ['uplink', 'show']]) {
      const out = (await run(c, {COLUMNS: '80'})).stdout
      const long = out.split('\n').filter((l) => l.length > 80)
      expect(long, `${c.join(' ')}:\n${out}`).toEqual([])
    }
    const cut = (await run(['vsi', 'list'], {COLUMNS: '80'})).stdout
    expect(cut).toMatch(/\(values cut to fit 80 columns: --port PREFIX or --json shows them whole\)/)
    const wide = (await run(['vsi', 'list'], {COLUMNS: '200'})).stdout
    for (const vm of VMS) expect(wide).toContain(vm.port)
    expect(wide).not.toMatch(/values cut/)
  })

  it('every schema under docs/json is exercised by a real command above', () => {
    expect([...used].sort()).toEqual(
      readdirSync(SCHEMAS)
        .filter((n) => n.endsWith('.schema.json'))
        .map((f) => f.replace('.schema.json', ''))
        .sort(),
    )
  })
})
