import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ManualClock} from '../../src/core/clock.js'
import {createLogger} from '../../src/log/logger.js'
import {OutboxSender} from '../../src/rpc/outbox-sender.js'
import type {OutboxMessage} from '../../src/store/outbox-repo.js'
import {Store} from '../../src/store/store.js'

let dir: string
let store: Store
const log = createLogger({level: 'fatal', format: 'json'})

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vdp-outbox-'))
  store = Store.open(join(dir, 'db'))
})
afterEach(() => {
  store.close()
  rmSync(dir, {recursive: true, force: true})
})

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('outbox', () => {
  it('collapses superseded messages per subject: only the newest result of a port, uplink, interface', () => {
    store.outbox.add('update_vm_result', {port_uuid: 'a', result: 'CREATE:FAIL'}, 1)
    store.outbox.add('update_vm_result', {port_uuid: 'b', result: 'SUCCESS'}, 2)
    store.outbox.add('update_vm_result', {port_uuid: 'a', result: 'SUCCESS'}, 3)
    store.outbox.add('save_uplink', {uplink: 'eth1'}, 4)
    store.outbox.add('save_uplink', {uplink: 'eth2'}, 5)
    store.outbox.add('save_topo_disc_params', {protocol_interface: 'eth1'}, 6)
    const pending = store.outbox.pending()
    expect(
      pending.map((m) => [
        m.subject,
        (m.payload as {result?: string; uplink?: string}).result ?? (m.payload as {uplink?: string}).uplink ?? null,
      ]),
    ).toEqual([
      ['port:b', 'SUCCESS'],
      ['port:a', 'SUCCESS'],
      ['uplink', 'eth2'],
      ['topo:eth1', null],
    ])
    expect(store.outbox.depth()).toEqual({pending: 4, oldestAt: 2})
  })

  it('delivers at least once, in order per subject, retries False/None/errors with backoff, and marks delivered only on an accepted reply', async () => {
    const sent: string[] = []
    let connected = false
    let failUplink = 2
    const sender = new OutboxSender({
      outbox: store.outbox,
      connected: () => connected,
      log,
      retryInitialMs: 10,
      retryMaxMs: 40,
      accepted: (m, r) => (m.method === 'save_uplink' ? r !== false && r !== null : true),
      send: async (m: OutboxMessage) => {
        sent.push(`${m.method}:${JSON.stringify(m.payload)}`)
        await new Promise((r) => setTimeout(r, 2))
        if (m.method === 'save_uplink' && failUplink > 0) return failUplink-- === 2 ? false : null
        if (
          (m.payload as {port_uuid?: string}).port_uuid === 'boom' &&
          sent.filter((s) => s.includes('boom')).length < 2
        )
          throw new Error('RPC_TIMEOUT')
        return 0
      },
    })
    sender.start()
    store.outbox.add('save_uplink', {uplink: 'eth1'}, 1)
    for (let i = 0; i < 50; i++) store.outbox.add('update_vm_result', {port_uuid: `p${i}`, result: 'SUCCESS'}, 2)
    store.outbox.add('update_vm_result', {port_uuid: 'boom', result: 'SUCCESS'}, 3)
    await new Promise((r) => setTimeout(r, 50))
    expect(sent).toEqual([]) // nothing goes while the broker is away, nothing is lost
    connected = true
    sender.kick()
    await until(() => store.outbox.pendingCount() === 0)
    sender.stop()
    expect(sent.filter((s) => s.startsWith('save_uplink'))).toHaveLength(3) // False, None, then True
    expect(sent.filter((s) => s.includes('boom'))).toHaveLength(2)
    expect(sender.stats).toMatchObject({delivered: 52, failures: 3})
  })

  it('never has two messages of one subject in flight', async () => {
    let inFlight = 0
    let maxSame = 0
    const sender = new OutboxSender({
      outbox: store.outbox,
      connected: () => true,
      log,
      accepted: () => true,
      send: async () => {
        inFlight++
        maxSame = Math.max(maxSame, inFlight)
        await new Promise((r) => setTimeout(r, 5))
        inFlight--
        return 0
      },
    })
    sender.start()
    for (let i = 0; i < 20; i++) {
      store.outbox.add('update_vm_result', {port_uuid: 'same', result: i % 2 ? 'SUCCESS' : 'DELETE:FAIL'}, i)
      await new Promise((r) => setTimeout(r, 1))
    }
    await until(() => store.outbox.pendingCount() === 0)
    sender.stop()
    expect(maxSame).toBe(1)
  })

  it('retries on the injected clock: a failed message goes again only when its backoff is over; relay finds no answer while disconnected', async () => {
    const clock = new ManualClock(1_000_000)
    let connected = false
    const sent: number[] = []
    const sender = new OutboxSender({
      outbox: store.outbox,
      connected: () => connected,
      log,
      clock,
      retryInitialMs: 1000,
      retryMaxMs: 1000,
      accepted: () => true,
      send: async () => {
        sent.push(clock.now())
        if (sent.length === 1) throw new Error('RPC_TIMEOUT')
        return 0
      },
    })
    sender.start()
    store.outbox.add('save_uplink', {uplink: 'eth1'}, clock.now())
    expect(sender.relay()).toBe('no-answer')
    connected = true
    expect(sender.relay()).toBe('done')
    await until(() => sender.stats.failures === 1)
    // backoff of 500 to 1000 ms on the manual clock: no real time makes it due
    await new Promise((r) => setTimeout(r, 20))
    expect(sender.relay()).toBe('done')
    await new Promise((r) => setTimeout(r, 20))
    expect(sent).toEqual([1_000_000])
    clock.advance(1001)
    await until(() => store.outbox.pendingCount() === 0)
    expect(sent).toHaveLength(2)
    expect(sent[1] - sent[0]).toBeGreaterThanOrEqual(500)
    expect(store.outbox.depth().pending).toBe(0)
    sender.stop()
    expect(clock.pendingTimers).toBe(0)
    expect(sender.relay()).toBe('done') // stopped: nothing to do
  })
})
