/**
 * The dataplane seam of the VDP reconciler (issue 12): a result is committed and reported only once the
 * datapath says the port's flows are in, with the local VLAN it returned; a datapath failure is a failed,
 * retried association; the last port down reaches the datapath. The Dataplane here is a recording stand-in
 * for the seam (the OVS driver itself is tested against real Open vSwitch in test/integration).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pino from 'pino'
import {afterEach, describe, expect, it} from 'vitest'

import {EventQueue, type QueueItem} from '../../src/agent/event-queue.js'
import type {AgentEvent} from '../../src/agent/events.js'
import {type VdpSession, VdpReconciler} from '../../src/agent/reconciler.js'
import {StoreResultSink} from '../../src/agent/result-sink.js'
import type {VsiOutcome} from '../../src/agent/vsi-manager.js'
import {defaultConfig} from '../../src/config/load.js'
import {NoDataplane, type PortBinding, type PortUpResult} from '../../src/dataplane/dataplane.js'
import {VmResultOutbox} from '../../src/rpc/vm-result-outbox.js'
import {Store} from '../../src/store/store.js'
import {systemClock} from '../../src/core/clock.js'

const PORT = '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01'
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

class RecordingDataplane extends NoDataplane {
  readonly calls: string[] = []
  pendingUp?: (r: PortUpResult) => void
  override async uplinkUp(ifname: string): Promise<void> {
    this.calls.push(`uplink-up ${ifname}`)
  }
  override portUp(port: PortBinding, vlan: number): Promise<PortUpResult> {
    this.calls.push(`port-up ${port.portUuid} ${vlan}`)
    return new Promise((resolve) => (this.pendingUp = resolve))
  }
  override async portDown(port: PortBinding): Promise<void> {
    this.calls.push(`port-down ${port.portUuid}`)
  }
}

const stores: Store[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function setup(config = defaultConfig()) {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'vdp-vmproc-')), 'vdp-agent.db'))
  stores.push(store)
  const dataplane = new RecordingDataplane()
  const session: VdpSession = {
    uplink: 'eth1',
    open: () => undefined,
    close: () => undefined,
    associateMany: (ports) => ports.map(() => Promise.resolve<VsiOutcome>({ok: true, vid: 3628})),
    deassociate: () => Promise.resolve<VsiOutcome>({ok: true, vid: null}),
  }
  const queue = new EventQueue<AgentEvent>({capacity: {uplink: 16, vm: 16, bulk: 16}})
  // with a controller: results are reported through its outbox
  const results = new StoreResultSink(store, systemClock, new VmResultOutbox(store.outbox))
  const vm = new VdpReconciler({
    vsis: store.vsis,
    uplinkRecord: () => store.uplink.get(),
    results,
    session,
    queue,
    log: pino({level: 'silent'}),
    clock: systemClock,
    config: () => config,
    macOf: () => '02:00:00:00:01:01',
    dataplane,
  })
  const item = (payload: AgentEvent): QueueItem<AgentEvent> => ({
    seq: 1,
    priority: 'vm',
    ports: [],
    exclusive: false,
    payload,
  })
  return {store, dataplane, vm, item}
}

describe('VdpReconciler with a dataplane', () => {
  it('commits and reports the association only after portUp, with its local VLAN', async () => {
    const {store, dataplane, vm, item} = setup()
    const rec = store.vsis.requestUp(
      {portUuid: PORT, mac: '52:54:00:12:34:01', netUuid: NET, segmentationId: 20000},
      Date.now(),
    )
    const done = vm.handle(item({kind: 'vm-up', port: rec}))
    await new Promise((r) => setTimeout(r, 20))
    expect(dataplane.calls).toEqual([`port-up ${PORT} 3628`])
    // the switch answered, the flows are not in yet: nothing is committed or reported
    expect(store.vsis.get(PORT)?.state).toBe('associating')
    expect(store.outbox.pending(10)).toEqual([])
    dataplane.pendingUp!({ok: true, localVlan: 5})
    await done
    expect(store.vsis.get(PORT)).toMatchObject({state: 'associated', vdpVlan: 3628, localVlan: 5})
    expect(store.outbox.pending(10).map((m) => m.payload)).toEqual([
      expect.objectContaining({port_uuid: PORT, result: 'SUCCESS', vdp_vlan: 3628, local_vlan: 5}),
    ])
  })

  it('a datapath failure fails the association with its reason (retried), and nothing is reported associated', async () => {
    const {store, dataplane, vm, item} = setup()
    const rec = store.vsis.requestUp(
      {portUuid: PORT, mac: '52:54:00:12:34:01', netUuid: NET, segmentationId: 20000},
      Date.now(),
    )
    const done = vm.handle(item({kind: 'vm-up', port: rec}))
    await new Promise((r) => setTimeout(r, 20))
    dataplane.pendingUp!({ok: false, reason: 'no patch port pair between br-int and br-ethd'})
    await done
    vm.stop()
    expect(store.vsis.get(PORT)).toMatchObject({
      state: 'pending',
      attempts: 1,
      failReason: 'no patch port pair between br-int and br-ethd',
    })
    expect(store.outbox.pending(10).map((m) => (m.payload as {result: string}).result)).toEqual(['CREATE:FAIL'])
  })

  it('uplink up and the last port down reach the datapath', async () => {
    const {store, dataplane, vm, item} = setup()
    await vm.handle(item({kind: 'uplink-up', ifname: 'eth1', source: 'lldp'}))
    store.vsis.requestUp({portUuid: PORT, mac: '52:54:00:12:34:01', netUuid: NET, segmentationId: 20000}, Date.now())
    store.vsis.requestDown(PORT, Date.now())
    await vm.handle(item({kind: 'vm-down', portUuid: PORT}))
    expect(dataplane.calls).toEqual(['uplink-up eth1', `port-down ${PORT}`])
    expect(store.vsis.get(PORT)).toBeUndefined()
  })
})
