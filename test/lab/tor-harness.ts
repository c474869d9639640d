/**
 * A ToR simulator on an in-memory wire with a scripted station on the other end: LLDPDUs we build by hand, and
 * our own VdpStation over its own EcpTransport. One ManualClock drives both; `settle(ms)` moves it in small steps
 * and lets the wire deliver (the VirtualWire delivers on the next tick).
 */
import {TorSimulator, type TorEvent, type TorSimulatorOptions} from '../../src/lab/tor-simulator.js'
import {buildLldpFrame, decodeLldpFrame, type EvbTlv, type LldpFrame} from '../../src/lldp/index.js'
import {negotiateEvb, type EvbPolicy} from '../../src/lldp-agent/evb-negotiation.js'
import {ETHERTYPE_ECP, ETHERTYPE_LLDP, NEAREST_CUSTOMER_BRIDGE} from '../../src/core/ethernet.js'
import {MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import {ManualClock} from '../../src/core/clock.js'
import {EcpTransport} from '../../src/vdp/ecp-transport.js'
import {VdpStation, type VsiEvent} from '../../src/vdp/station.js'
import {LLDPAD_DEFAULT_EVB} from '../../src/vdp/timers.js'

export const TOR = '02:00:00:00:02:01'
export const HOST = '02:00:00:00:01:01'
export const STATION_POLICY: EvbPolicy = {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: true, groupId: true}

export function torHarness(options: Partial<TorSimulatorOptions> = {}) {
  const clock = new ManualClock(1_000_000)
  const wire = new VirtualWire()
  const torIo = new MemoryFrameIO('tor')
  const hostIo = new MemoryFrameIO('host')
  wire.attach(torIo, 't0', {mac: TOR}).attach(hostIo, 'h0', {mac: HOST})
  const events: TorEvent[] = []
  const sim = new TorSimulator({
    frames: torIo,
    ifname: 't0',
    localMac: TOR,
    clock,
    firstSequence: 1,
    onEvent: (e) => events.push(e),
    ...options,
  })

  const heard: LldpFrame[] = []
  const hostLldp = hostIo.open('h0', ETHERTYPE_LLDP, {
    multicast: [NEAREST_CUSTOMER_BRIDGE],
    onFrame: (f) => heard.push(decodeLldpFrame(f)),
  })
  const stationEvents: VsiEvent[] = []
  let receiveEcp: (frame: Buffer) => void = () => {}
  const hostEcp = hostIo.open('h0', ETHERTYPE_ECP, {
    multicast: [NEAREST_CUSTOMER_BRIDGE],
    onFrame: (f) => receiveEcp(f),
  })

  /** A station (ECP + VDP) on the host; a second call is a restarted station, its ECP numbering from `firstSequence`. */
  const newStation = (firstSequence = 1) => {
    const transport = new EcpTransport({
      clock,
      send: (f) => hostEcp.send(f),
      localMac: HOST,
      params: LLDPAD_DEFAULT_EVB,
      firstSequence,
    })
    receiveEcp = (f) => transport.receive(f)
    return {
      transport,
      station: new VdpStation({clock, transport, evb: LLDPAD_DEFAULT_EVB, onEvent: (e) => stationEvents.push(e)}),
    }
  }

  /** An LLDPDU from the station, as lldpad's ncb agent sends it (ttl 0: its shutdown). */
  const announce = ({
    evb = negotiateEvb(STATION_POLICY).station,
    ttl = 121,
  }: {evb?: EvbTlv | null; ttl?: number} = {}) =>
    hostLldp.send(
      buildLldpFrame({
        dst: NEAREST_CUSTOMER_BRIDGE,
        src: HOST,
        chassisId: {subtype: 4, value: HOST},
        portId: {subtype: 3, value: HOST},
        ttl,
        ...(evb && ttl > 0 ? {evb} : {}),
      }),
    )

  /** Raw frames from the host (garbage tests). */
  const sendRaw = (ethertype: number, frame: Buffer) => (ethertype === ETHERTYPE_LLDP ? hostLldp : hostEcp).send(frame)

  /** Move the clock `ms` forward in small steps, delivering frames between steps, until nothing is due. */
  const settle = async (ms = 0, stepMs = 0.5) => {
    const end = clock.now() + ms
    const deliver = () => new Promise<void>((resolve) => setImmediate(resolve))
    do {
      clock.advance(Math.min(stepMs, end - clock.now()))
      await deliver()
    } while (clock.now() < end)
    for (let i = 0; i < 3; i++) {
      clock.advance(0) // what the deliveries scheduled for now
      await deliver()
    }
  }

  const of = <T extends TorEvent['type']>(type: T) => events.filter((e): e is TorEvent & {type: T} => e.type === type)
  const stationOf = <T extends VsiEvent['type']>(type: T) =>
    stationEvents.filter((e): e is VsiEvent & {type: T} => e.type === type)
  return {
    clock,
    wire,
    torIo,
    hostIo,
    sim,
    events,
    heard,
    stationEvents,
    newStation,
    announce,
    sendRaw,
    settle,
    of,
    stationOf,
  }
}
