/**
 * A third party reads our ToR simulator's LLDPDUs: lldpd in the host namespace must decode the system name,
 * port, capabilities and show the EVB TLV among its unknown TLVs, and drop the neighbour when the simulator's
 * shutdown LLDPDU arrives.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, sweepStaleLabs} from '../../../src/lab/netns.js'
import {startLldpd, type LldpdHandle} from '../../helpers/peers.js'
import {DEFAULT_TOR_EVB_POLICY} from '../../../src/lab/tor-simulator.js'
import {startTorSimulator, type TorProcess} from '../../../src/lab/tor-process.js'
import {encodeEvbTlv} from '../../../src/lldp/index.js'
import {negotiateEvbBridge} from '../../../src/lldp-agent/evb-negotiation.js'

const isRoot = process.getuid?.() === 0
const built = existsSync(new URL('../../../dist/commands/lab/tor.js', import.meta.url))
const TOR_MAC = '02:00:00:00:02:01'

const CLI = fileURLToPath(new URL('../../../bin/run.js', import.meta.url))

/** `vdp-agent lab tor-ctl …` (compiled: vitest's NODE_ENV=test would send oclif looking for TypeScript). */
function torCtl(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'lab', 'tor-ctl', ...args],
      {env: {...process.env, NODE_ENV: 'production'}, timeout: 30_000},
      (err, stdout, stderr) => {
        resolve({code: err ? Number((err as {code?: unknown}).code ?? 1) : 0, stdout, stderr})
      },
    )
  })
}

/** lldpcli's json0 form of a neighbour (every value an array). */
interface Json0Neighbour {
  chassis?: {
    id?: {type: string; value: string}[]
    name?: {value: string}[]
    descr?: {value: string}[]
    capability?: {type: string; enabled: boolean}[]
  }[]
  port?: {id?: {type: string; value: string}[]; descr?: {value: string}[]; ttl?: {value: string}[]}[]
  'unknown-tlvs'?: {'unknown-tlv'?: {oui: string; subtype: string; len: string; value: string}[]}[]
}

describe.skipIf(!isRoot || !built)('lldpd hears the ToR simulator', () => {
  const lab = new Lab()
  let host: string
  let tor: string
  let lldpd: LldpdHandle
  let sim: TorProcess

  const neighbours = async (): Promise<Json0Neighbour[]> =>
    ((await lldpd.neighbors()).lldp[0]?.interface ?? []) as Json0Neighbour[]

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'h0', mac: '02:00:00:00:01:01'}, {ns: tor, ifname: 't0', mac: TOR_MAC})
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')
    lldpd = await startLldpd(lab, host, {ifname: 'h0', hostname: 'host1'})
    sim = await startTorSimulator(lab, tor, {
      ifname: 't0',
      args: ['--system-name', 'tor-lab-1', '--port-id', 'Ethernet1/7'],
    })
  })

  afterAll(async () => {
    await sim?.stop()
    await lab.destroy()
  })

  it('decodes the system name, port, capabilities and TTL, and lists the EVB TLV as unknown', async () => {
    await lab.waitFor('lldpd to learn the simulator', async () => (await neighbours()).length > 0, {
      timeoutMs: 10_000,
      intervalMs: 200,
    })
    const [tor] = await neighbours()
    const chassis = tor.chassis?.[0]
    expect(chassis?.id?.[0]).toEqual({type: 'mac', value: TOR_MAC})
    expect(chassis?.name?.[0]?.value).toBe('tor-lab-1')
    expect(chassis?.capability).toEqual(
      expect.arrayContaining([
        {type: 'Bridge', enabled: true},
        {type: 'Router', enabled: true},
      ]),
    )
    expect(tor.port?.[0]?.id?.[0]).toEqual({type: 'ifname', value: 'Ethernet1/7'})
    expect(tor.port?.[0]?.descr?.[0]?.value).toBe('Ethernet1/7')
    expect(tor.port?.[0]?.ttl?.[0]?.value).toBe('21')
    // lldpd sends no EVB TLV, so ours is the bridge policy alone: BGID|RRCAP, R 3/RTE 8, bridge mode/RWD 20, RKA 20
    const body = encodeEvbTlv(negotiateEvbBridge(DEFAULT_TOR_EVB_POLICY).bridge).subarray(4)
    expect(body.toString('hex')).toBe('0600685414')
    expect(tor['unknown-tlvs']?.[0]?.['unknown-tlv']).toContainEqual({
      oui: '00,80,C2',
      subtype: '13',
      len: '5',
      value: [...body].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(','),
    })
  })

  it('vdp-agent lab tor-ctl steers it from the command line', async () => {
    const status = await torCtl(['status', '--control', sim.controlPath])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(`tor-lab-1 port Ethernet1/7 on t0 (${TOR_MAC}), running`)
    expect(status.stdout).toContain('station:     none heard (ECP ignored until its EVB TLV arrives)')
    const set = await torCtl([
      'set-faults',
      '--control',
      sim.controlPath,
      '--reject',
      '2,hard',
      '--reject-group',
      '20000',
      '--drop-acks',
      '0.25',
    ])
    expect(set.stdout.trim()).toBe(
      'faults now: drop 0.25 of ACKs; reject with error 2 (hard) matching {"groupId":20000}',
    )
    const json = JSON.parse((await torCtl(['status', '--control', sim.controlPath, '--json'])).stdout) as {
      faults: unknown
    }
    expect(json.faults).toEqual({
      dropAckRate: 0.25,
      reject: {code: 2, hard: true, keep: false, match: {groupId: 20000}},
    })
    expect((await torCtl(['set-faults', '--control', sim.controlPath, '--clear'])).stdout.trim()).toBe(
      'faults now: none',
    )
    expect(
      (await torCtl(['change-vlan', '--control', sim.controlPath, '--group', '20000', '--vid', '3001'])).stdout.trim(),
    ).toBe('0 VSI(s) moved to VLAN 3001; stations learn it at their next keep-alive')
    const bad = await torCtl(['change-vlan', '--control', sim.controlPath, '--group', '20000', '--vid', '4095'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('a VLAN ID must be an integer from 2 to 4094')
    const absent = await torCtl(['status', '--control', '/nonexistent/tor.sock'])
    expect(absent.code).toBe(3)
    expect(absent.stderr).toContain('no ToR simulator answers on /nonexistent/tor.sock')
  })

  it('drops the neighbour on our shutdown LLDPDU, long before its 21 s TTL', async () => {
    expect(await sim.stop()).toEqual({code: 0, signal: null})
    await lab.waitFor('lldpd to drop the simulator', async () => (await neighbours()).length === 0, {
      timeoutMs: 5000,
      intervalMs: 100,
    })
  })
})
