/**
 * What the VSI manager tells the metrics: association latency on the manual clock, failures with the
 * bridge's error, and ECP counters that add up across VDP sessions (a new uplink starts a new session).
 */
import {describe, expect, it} from 'vitest'

import {VsiManager} from '../../src/agent/vsi-manager.js'
import {defaultConfig} from '../../src/config/load.js'
import {VdpBridge} from '../../src/lab/vdp-bridge.js'
import {silentLogger} from '../../src/log/logger.js'
import type {FrameIO, FrameSocket} from '../../src/net/frames.js'
import type {VsiRecord} from '../../src/model/vsi.js'
import {ManualClock} from '../../src/core/clock.js'
import {LLDPAD_DEFAULT_EVB} from '../../src/vdp/timers.js'

// The bridge's EVB TLV is known: VDP runs at once (without it VDP waits for [vdp] evb_wait).
const NEGOTIATED = {...LLDPAD_DEFAULT_EVB, groupIds: true, reflectiveRelay: false}

const STATION = '02:00:00:00:01:01'

function record(i: number): VsiRecord {
  return {
    portUuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`,
    netUuid: '5b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a',
    segmentationId: 20000 + i,
    vmName: null,
    vmUuid: null,
    ipv4: null,
    vlan: null,
    desired: 'up',
    state: 'pending',
    uplink: null,
    localVlan: null,
    vdpVlan: null,
    failReason: null,
    attempts: 0,
    nextRetryAt: null,
    createdAt: 0,
    updatedAt: 0,
  } as VsiRecord
}

function setup() {
  const clock = new ManualClock()
  const latency = 2 // ms each way
  let deliver: ((frame: Buffer) => void) | undefined
  const bridge = new VdpBridge({
    clock,
    localMac: '02:00:00:00:02:01',
    evb: LLDPAD_DEFAULT_EVB,
    send: (f) => clock.setTimer(latency, () => deliver?.(f)),
  })
  const frames: FrameIO = {
    open(ifname, ethertype, opts): FrameSocket {
      deliver = opts.onFrame as (frame: Buffer) => void
      return {
        ifname,
        ethertype,
        send: (f) => (clock.setTimer(latency, () => bridge.receive(f)), f.length),
        close: () => undefined,
        stats: () => ({framesDelivered: 0, kernelDrops: 0}),
      }
    },
  }
  const answered: [string, number][] = []
  const failed: [string, string, number | undefined][] = []
  const config = defaultConfig()
  const manager = new VsiManager({
    frames,
    clock,
    log: silentLogger,
    config: () => config,
    observer: {
      answered: (op, s) => answered.push([op, s]),
      failed: (op, reason, code) => failed.push([op, reason, code]),
    },
  })
  return {clock, bridge, manager, answered, failed}
}

describe('VSI manager → metrics', () => {
  it('reports each answered request with its latency on the clock, and failures with the bridge’s error', async () => {
    const t = setup()
    t.manager.open('eth1', STATION, NEGOTIATED)
    const ok = t.manager.associate(record(1))
    t.clock.advance(100)
    expect(await ok).toMatchObject({ok: true})
    expect(t.answered).toEqual([['assoc', 0.004]]) // request there 2 ms, answer back 2 ms (ACK aside)
    t.bridge.setFaults({reject: {code: 2, hard: false, keep: false}})
    const no = t.manager.associate(record(2))
    t.clock.advance(100)
    expect(await no).toMatchObject({ok: false})
    expect(t.failed).toEqual([['assoc', 'rejected', 2]])
  })

  it('ECP counters add up across sessions: a new uplink restarts the session, not the totals', async () => {
    const t = setup()
    t.manager.open('eth1', STATION, NEGOTIATED)
    t.bridge.setFaults({dropAckRate: 1})
    const pending = t.manager.associate(record(1))
    t.clock.advance(20_000)
    await pending
    const first = t.manager.counters()!.transport
    expect(first.retransmissions).toBeGreaterThan(0)
    t.manager.open('eth2', STATION, NEGOTIATED) // the uplink moved
    expect(t.manager.counters()!.transport.retransmissions).toBe(0)
    expect(t.manager.totals().transport.retransmissions).toBe(first.retransmissions)
    t.manager.associate(record(3))
    t.clock.advance(20_000)
    const second = t.manager.counters()!.transport
    expect(t.manager.totals().transport.retransmissions).toBe(first.retransmissions + second.retransmissions)
    expect(t.manager.totals().transport.giveUps).toBe(first.giveUps + second.giveUps)
    t.manager.close('done')
    expect(t.manager.totals().transport.txPdus).toBe(first.txPdus + second.txPdus)
  })
})
