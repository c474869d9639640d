// A VdpStation and a VdpBridge wired back to back through an in-memory link driven by a ManualClock.
import {VdpBridge, type VdpBridgeOptions} from '../../../src/lab/vdp-bridge.js'
import {ManualClock} from '../../../src/core/clock.js'
import {decodeEcpFrame, type EcpFrame} from '../../../src/vdp/ecp-codec.js'
import {EcpTransport, type EcpTransportOptions} from '../../../src/vdp/ecp-transport.js'
import {VdpStation, type VdpStationOptions, type VsiEvent} from '../../../src/vdp/station.js'
import {LLDPAD_DEFAULT_EVB} from '../../../src/vdp/timers.js'
import {uuidVsiid, type Vsiid} from '../../../src/vdp/vsiid.js'
import type {VsiRequest} from '../../../src/vdp/vsi-request.js'
import type {EvbValues} from '../../../src/model/evb.js'

export const STATION = '02:00:00:00:01:01'
export const BRIDGE = '02:00:00:00:02:01'

interface WireRecord {
  at: number
  from: 'station' | 'bridge'
  frame: EcpFrame
}

export interface BackToBackOptions {
  evb?: EvbValues
  latencyMs?: number
  station?: Partial<VdpStationOptions>
  transport?: Partial<EcpTransportOptions>
  bridge?: Partial<VdpBridgeOptions>
}

export function backToBack(options: BackToBackOptions = {}) {
  const clock = new ManualClock()
  const evb = options.evb ?? LLDPAD_DEFAULT_EVB
  const latency = options.latencyMs ?? 0.05
  const wire: WireRecord[] = []
  const link = {up: true}
  const events: VsiEvent[] = []
  let bridge: VdpBridge | undefined
  const carry = (from: 'station' | 'bridge', frame: Buffer, deliver: (f: Buffer) => void) => {
    if (!link.up) return
    wire.push({at: clock.now(), from, frame: decodeEcpFrame(frame)})
    clock.setTimer(latency, () => deliver(frame))
  }
  const transport = new EcpTransport({
    clock,
    send: (frame) => carry('station', frame, (f) => bridge?.receive(f)),
    localMac: STATION,
    params: {retries: evb.retries, rte: evb.rte},
    firstSequence: 1,
    ...options.transport,
  })
  const station = new VdpStation({clock, transport, evb, onEvent: (e) => events.push(e), ...options.station})
  bridge = new VdpBridge({
    clock,
    send: (frame) => carry('bridge', frame, (f) => transport.receive(f)),
    localMac: BRIDGE,
    evb,
    firstSequence: 1,
    ...options.bridge,
  })
  const vdpRequests = (from: 'station' | 'bridge') =>
    wire.filter((w) => w.from === from && w.frame.operation === 'request')
  return {
    clock,
    station,
    bridge,
    transport,
    events,
    wire,
    link,
    vdpRequests,
    of: (type: VsiEvent['type']) => events.filter((e) => e.type === type),
  }
}

export function vsiidFor(n: number): Vsiid {
  return uuidVsiid(`00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`)
}

export function macFor(n: number): string {
  const hex = n.toString(16).padStart(8, '0')
  return `52:54:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`
}

/** The request networking-cisco makes: UUID VSIID, format 4 (group = segmentation id), VID 0. */
export function dfaRequest(n: number, groupId = 20000, vid = 0, extra: Partial<VsiRequest> = {}): VsiRequest {
  return {
    typeId: 0,
    typeVersion: 0,
    vsiid: vsiidFor(n),
    filter: {format: 4, entries: [{ps: false, pcp: 0, vid, mac: macFor(n), groupId}]},
    ...extra,
  }
}
