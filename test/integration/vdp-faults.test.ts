/**
 * Issue 5: our daemon (the station) against our ToR simulator (the bridge), both in namespaces, with the
 * simulator's faults steered through its control socket while the daemon runs.
 */
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {callControl, callDaemon} from '../../src/control/client.js'
import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {Lab, type LabProcess} from '../../src/lab/netns.js'
import type {JournalEntry} from '../../src/store/journal-repo.js'
import {AgentProcess, cli, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let home: ReturnType<typeof makeAgentHome>
let torSocket = ''
let sim: LabProcess

const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const port = (i: number) => `9e2d0b61-7c4a-4f1e-8b3d-${String(i).padStart(12, '0')}`
const mac = (i: number) => `52:54:00:01:00:${i.toString(16).padStart(2, '0')}`
const vsi = (i: number) => callDaemon(home.socket, 'vsi.get', {portUuid: port(i)})
const up = (i: number, segment = 20000) =>
  callDaemon(home.socket, 'vm.up', {portUuid: port(i), mac: mac(i), netUuid: NET, segmentationId: segment})
const tor = (method: string, params?: unknown) => callControl(torSocket, method, params)

beforeAll(async () => {
  const host = await lab.addNamespace('host')
  const torNs = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: torNs, ifname: 'tor1', mac: '02:00:00:00:02:01'},
  )
  await lab.waitForOperstate(host, 'eth1', 'up')
  torSocket = join(await lab.tempDir('tor'), 'tor.sock')
  sim = lab.spawn(
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
      '8',
      '--rwd',
      '14',
      '--rka',
      '14',
      '--min-tx-gap-ms',
      '0',
      '--log-format',
      'json',
    ],
    {env: CHILD_ENV},
  )
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
  home = makeAgentHome(
    '[uplink]\nmode = auto\ncandidate_kinds = veth\n[lldp]\nevb_rwd = 14\nevb_rka = 14\n[vdp]\nretry_initial = 0.2\nretry_max = 1\nretry_limit = 30\n',
  )
  await AgentProcess.start(lab, host, home)
  await eventually(
    'uplink up',
    () => cliJson<{state: string}>(['uplink', 'show'], home.config),
    (u) => u.state === 'up',
    30_000,
  )
}, 60_000)

afterAll(async () => {
  await lab.destroy()
})

const journal = async (): Promise<JournalEntry[]> => {
  const {Store, databasePath} = await import('../../src/store/store.js')
  const store = Store.open(databasePath(join(home.dir, 'state')), {readonly: true})
  try {
    return store.journal.recent(500)
  } finally {
    store.close()
  }
}

describe('our station against our ToR simulator', () => {
  it('the switch assigns the VLAN from the segment (VID 0 requested)', async () => {
    await up(1)
    const v = await eventually(
      'associated',
      () => vsi(1),
      (v) => v?.state === 'associated',
    )
    expect(v).toMatchObject({vdpVlan: 3628, uplink: 'eth1'}) // 2 + (20000 − 2) mod 4093, the simulator's segment policy
  })

  it('lost ACKs: retransmission wins', async () => {
    await tor('set-faults', {dropAckRate: 0.5})
    for (let i = 2; i <= 6; i++) await up(i, 20000 + i)
    for (let i = 2; i <= 6; i++)
      await eventually(
        `port ${i} associated`,
        () => vsi(i),
        (v) => v?.state === 'associated',
      )
    const stats = (await callDaemon(home.socket, 'vdp.stats')) as {transport: {retransmissions: number}}
    expect(stats.transport.retransmissions).toBeGreaterThan(0)
    await tor('set-faults', {})
  })

  it('a rejection names the error; a hard one is not retried', async () => {
    // Aimed at the ports of this test: a reject for all would also hit the others' keep-alives (every 164 ms here).
    await tor('set-faults', {reject: {code: 2, hard: false, keep: false, match: {groupId: 30000}}})
    await up(8, 30000)
    const soft = await eventually(
      'rejected',
      () => vsi(8),
      (v) => (v?.attempts ?? 0) >= 1,
    )
    expect(soft!.failReason).toMatch(/insufficient resources/i)
    expect(soft!.state).toBe('pending')
    await tor('set-faults', {reject: {code: 5, hard: true, keep: false, match: {groupId: 30001}}})
    await up(9, 30001)
    const hard = await eventually(
      'hard failure',
      () => vsi(9),
      (v) => v?.state === 'failed',
    )
    expect(hard!.failReason).toMatch(/not transient|hard/i)
    await tor('set-faults', {})
    expect(
      await eventually(
        'soft one recovers',
        () => vsi(8),
        (v) => v?.state === 'associated',
        20_000,
      ),
    ).toBeTruthy()
    expect((await vsi(9))!.state).toBe('failed') // left failed until the next uplink up or VM event
  })

  it('an unsolicited De-Associate: state and database updated, then re-associated', async () => {
    await eventually(
      'steady',
      () => vsi(1),
      (v) => v?.state === 'associated',
    )
    expect(await tor('deassociate', {vsiid: port(1)})).toEqual({deassociated: 1})
    // 'vsi-lost' when the association stood; 'vsi-failed' if a request of ours was answered by the De-Associate
    const lost = await eventually('loss recorded', journal, (j) =>
      j.some((e) => (e.kind === 'vsi-lost' || e.kind === 'vsi-failed') && e.subject === port(1)),
    )
    expect(
      lost.find((e) => e.subject === port(1) && (e.kind === 'vsi-lost' || e.kind === 'vsi-failed'))?.detail.reason,
    ).toMatch(/de-associated/)
    expect(
      await eventually(
        're-associated',
        () => vsi(1),
        (v) => v?.state === 'associated',
        20_000,
      ),
    ).toMatchObject({vdpVlan: 3628})
  })

  it('a VLAN change by the switch is adopted and recorded', async () => {
    await eventually(
      'steady',
      () => vsi(2),
      (v) => v?.state === 'associated',
    )
    expect(await tor('change-vlan', {vsiid: port(2), vid: 999})).toEqual({changed: 1})
    expect(
      await eventually(
        'new VLAN',
        () => vsi(2),
        (v) => v?.vdpVlan === 999,
        10_000,
      ),
    ).toMatchObject({state: 'associated'})
    const change = (await journal()).find((e) => e.kind === 'vsi-vlan-changed' && e.subject === port(2))
    expect(change?.detail).toMatchObject({to: 999})
  })

  it('a silent bridge: the association times out with a clear reason, is retried, and succeeds once it answers', async () => {
    // A frozen simulator answers nothing at all, not even ECP ACKs (its link stays up).
    process.kill(sim.pid, 'SIGSTOP')
    try {
      await up(7)
      const failed = await eventually(
        'timed out',
        () => vsi(7),
        (v) => (v?.attempts ?? 0) >= 1,
      )
      expect(failed).toMatchObject({state: 'pending'})
      expect(failed!.failReason).toMatch(/no (ECP )?ack|no response|not answer|timed out|timeout/i)
    } finally {
      process.kill(sim.pid, 'SIGCONT')
    }
    expect(
      await eventually(
        'retried and associated',
        () => vsi(7),
        (v) => v?.state === 'associated',
        20_000,
      ),
    ).toMatchObject({vdpVlan: 3628})
  })

  it('VM events that arrive with no uplink are kept and run when the uplink comes up', async () => {
    await cli(['uplink', 'set', 'lo', '--config', home.config]) // an uplink with no switch behind it...
    await lab.setLink(
      lab.namespaceNames.find((n) => n.endsWith('-host'))!,
      'eth1',
      {down: true},
    )
    await cli(['uplink', 'clear', '--config', home.config])
    await eventually(
      'no usable uplink',
      () => cliJson<{state: string}>(['uplink', 'show'], home.config),
      (u) => u.state !== 'up',
    )
    await up(10, 20010)
    const kept = await eventually(
      'kept waiting',
      () => vsi(10),
      (v) => v?.state === 'pending' && v.failReason !== null,
    )
    expect(kept).toMatchObject({failReason: expect.stringMatching(/waiting for the uplink/)})
    await lab.setLink(
      lab.namespaceNames.find((n) => n.endsWith('-host'))!,
      'eth1',
      {up: true},
    )
    expect(
      await eventually(
        'associated after the uplink came up',
        () => vsi(10),
        (v) => v?.state === 'associated',
        30_000,
      ),
    ).toMatchObject({uplink: 'eth1'})
  })
})
