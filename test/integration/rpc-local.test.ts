/**
 * Issue 11: with [rpc] transport = local (no controller) results are not queued for anyone: the outbox
 * stays empty, and `rpc status` says local.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {callDaemon} from '../../src/control/client.js'
import {Lab} from '../../src/lab/netns.js'
import {startTorSimulator} from '../../src/lab/tor-process.js'
import {AgentProcess, cliJson, eventually, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
let home: ReturnType<typeof makeAgentHome>

beforeAll(async () => {
  const host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw1', mac: '02:00:00:00:02:01'},
  )
  await startTorSimulator(lab, tor, {
    ifname: 'sw1',
    args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0', '--log-level', 'warn'],
  })
  home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n', {logLevel: 'info'})
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

describe('transport = local', () => {
  it('results are recorded but nothing piles up in the outbox', async () => {
    const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
    for (let i = 1; i <= 5; i++) {
      await callDaemon(home.socket, 'vm.up', {
        portUuid: `9e2d0b61-7c4a-4f1e-8b3d-00000000000${i}`,
        mac: `52:54:00:01:00:0${i}`,
        netUuid: NET,
        segmentationId: 20000,
      })
    }
    await callDaemon(home.socket, 'vm.down', {portUuid: '9e2d0b61-7c4a-4f1e-8b3d-000000000005'})
    await eventually(
      'associated',
      () => cliJson<{vsis: {byState: Record<string, number>}}>(['status'], home.config),
      (s) => s.vsis.byState.associated === 4,
      30_000,
    )
    const status = await cliJson<{outbox: {pending: number}; rpc: {transport: string}}>(['status'], home.config)
    expect(status.outbox.pending).toBe(0)
    expect(status.rpc).toEqual({transport: 'local'})
    expect(await cliJson<{pending: number}>(['outbox', 'list'], home.config)).toMatchObject({pending: 0, messages: []})
    expect(await cliJson(['rpc', 'status'], home.config)).toMatchObject({transport: 'local'})
  })
})
