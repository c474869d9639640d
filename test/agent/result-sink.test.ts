/**
 * The result sink commits each result whole (state, VLANs, journal entry) and, with a controller, reports it in
 * the same transaction as the DFA server's update_vm_result (upstream dfa_agent.py; docs/rpc.md).
 */
import {afterEach, describe, expect, it} from 'vitest'

import {StoreResultSink, type VmResult} from '../../src/agent/result-sink.js'
import {ManualClock} from '../../src/core/clock.js'
import {VmResultOutbox} from '../../src/rpc/vm-result-outbox.js'
import {Store} from '../../src/store/store.js'

const A = '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e0a'
const B = '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e0b'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

const stores: Store[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function setup({controller = true} = {}) {
  const store = Store.open(':memory:')
  stores.push(store)
  const clock = new ManualClock(1_700_000_000_000)
  const sink = new StoreResultSink(store, clock, controller ? new VmResultOutbox(store.outbox) : undefined)
  const up = (portUuid: string) =>
    store.vsis.requestUp({portUuid, mac: '52:54:00:12:34:01', netUuid: NET, segmentationId: 20000}, clock.now())
  const reported = () => store.outbox.pending(100).map((m) => m.payload)
  return {store, clock, sink, up, reported}
}

describe('StoreResultSink', () => {
  it('commits a batch of associations with their journal entries and reports each as SUCCESS; a port taken down meanwhile is skipped', () => {
    const {store, sink, up, reported, clock} = setup()
    const a = up(A)
    const b = up(B)
    store.vsis.requestDown(B, clock.now())
    sink.associated([
      {port: a, uplink: 'eth0', vid: 3617, localVlan: 5},
      {port: b, uplink: 'eth0', vid: 3618, localVlan: 6},
    ])
    expect(store.vsis.get(A)).toMatchObject({
      state: 'associated',
      vdpVlan: 3617,
      localVlan: 5,
      uplink: 'eth0',
      attempts: 0,
      failReason: null,
    })
    expect(store.vsis.get(B)).toMatchObject({desired: 'down', vdpVlan: null})
    expect(store.journal.list({limit: 10}).map((e) => [e.kind, e.subject])).toEqual([['vsi-associated', A]])
    expect(reported()).toEqual([{port_uuid: A, result: 'SUCCESS', fail_reason: null, vdp_vlan: 3617, local_vlan: 5}])
  })

  it('a failure with a retry stays pending; without one it ends failed; both report CREATE:FAIL', () => {
    const {store, sink, up, reported} = setup()
    const a = up(A)
    const b = up(B)
    sink.failed(a, {
      reason: 'no answer',
      attempts: 1,
      nextRetryAt: 123,
      retryInMs: 100,
      vdpVlan: 3617,
      kind: 'vsi-failed',
    })
    sink.failed(b, {
      reason: 'refused; retry budget spent',
      attempts: 5,
      nextRetryAt: null,
      retryInMs: null,
      vdpVlan: null,
      kind: 'vsi-lost',
    })
    expect(store.vsis.get(A)).toMatchObject({
      state: 'pending',
      attempts: 1,
      nextRetryAt: 123,
      vdpVlan: 3617,
      failReason: 'no answer',
    })
    expect(store.vsis.get(B)).toMatchObject({state: 'failed', attempts: 5, nextRetryAt: null})
    expect(reported().map((p) => (p as {result: string}).result)).toEqual(['CREATE:FAIL', 'CREATE:FAIL'])
  })

  it('a de-association ends the row: SUCCESS when confirmed, DELETE:FAIL with the reason when not', () => {
    const {store, sink, up, reported} = setup()
    sink.deassociated(up(A), null)
    sink.deassociated(up(B), 'no answer; the switch drops it at its keep-alive timeout')
    expect(store.vsis.list()).toEqual([])
    expect(reported()).toEqual([
      {port_uuid: A, result: 'SUCCESS', fail_reason: null, vdp_vlan: null, local_vlan: null},
      {
        port_uuid: B,
        result: 'DELETE:FAIL',
        fail_reason: 'no answer; the switch drops it at its keep-alive timeout',
        vdp_vlan: null,
        local_vlan: null,
      },
    ])
  })

  it('a re-confirmation is reported only when the VLAN changed', () => {
    const store = Store.open(':memory:')
    stores.push(store)
    const results: VmResult[] = []
    const sink = new StoreResultSink(store, new ManualClock(0), {report: (r) => results.push(r)})
    const a = store.vsis.requestUp({portUuid: A, mac: '52:54:00:12:34:01', netUuid: NET, segmentationId: 20000}, 0)
    sink.associated([{port: a, uplink: 'eth0', vid: 3617, localVlan: null}])
    sink.confirmed(store.vsis.get(A)!, 3617, null)
    sink.confirmed(store.vsis.get(A)!, 3700, null)
    expect(results.map((r) => [r.outcome, r.vdpVlan])).toEqual([
      ['associated', 3617],
      ['associated', 3700],
    ])
    expect(store.vsis.get(A)?.vdpVlan).toBe(3700)
    expect(
      store.journal
        .list({limit: 10})
        .map((e) => e.kind)
        .sort(),
    ).toEqual(['vsi-associated', 'vsi-confirmed', 'vsi-confirmed'])
  })

  it('without a controller nothing is reported, and the results are still committed', () => {
    const {store, sink, up, reported} = setup({controller: false})
    sink.associated([{port: up(A), uplink: 'eth0', vid: 3617, localVlan: null}])
    expect(store.vsis.get(A)?.state).toBe('associated')
    expect(reported()).toEqual([])
  })
})
