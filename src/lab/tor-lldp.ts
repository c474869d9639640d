/**
 * The LLDP side of the ToR simulator, as a pure engine (frames in through `receive`, out through the injected
 * `send`, time from the injected clock): it advertises the switch (chassis MAC, port "Ethernet1/1", system
 * name, Bridge/Router capabilities and the EVB TLV in bridge mode) to the nearest-customer-bridge group, and
 * listens for the station's EVB TLV. The bridge TLV is negotiated against the last station TLV heard
 * (negotiateEvbBridge, lldpad's bridge rules); a change is sent at once, followed by a few fast LLDPDUs.
 *
 * One station per port: the most recent sender of a station-mode EVB TLV. It goes away with a shutdown LLDPDU
 * (TTL 0), when its TTL runs out, or when its LLDPDUs stop carrying the EVB TLV. As lldpad: only LLDPDUs to
 * the nearest-customer-bridge group count (EVB22's agent), and a new neighbour there gets an LLDPDU at once
 * (802.1AB fast start).
 */
import {buildLldpFrame, encodeEvbTlv, scanLldpHeader, type EvbTlv} from '../lldp/index.js'
import {negotiateEvbBridge, type EvbBridgePolicy} from '../lldp-agent/evb-negotiation.js'
import type {EvbNegotiated} from '../model/evb.js'
import {advertisedTtl, TxSchedule} from '../lldp-agent/tx-schedule.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {NEAREST_CUSTOMER_BRIDGE} from '../core/ethernet.js'

/** Interface-name port ID subtype (802.1AB): what switches send, "Ethernet1/1". */
const PORT_SUBTYPE_INTERFACE_NAME = 5
const CHASSIS_SUBTYPE_MAC = 4
const SWITCH_CAPABILITIES = ['Bridge', 'Router']

export interface TorIdentity {
  readonly systemName: string
  readonly systemDescription: string
  /** Port ID (interface-name subtype), also sent as the port description. */
  readonly portId: string
}

export const DEFAULT_TOR_IDENTITY: TorIdentity = Object.freeze({
  systemName: 'tor-sim',
  systemDescription: 'vdp-agent ToR simulator (802.1Qbg EVB bridge)',
  portId: 'Ethernet1/1',
})

export interface TorLldpTimers {
  /** msgTxInterval once the fast start is over. */
  readonly intervalMs: number
  /** LLDPDUs sent at the fast interval after start and after each change of our TLV. */
  readonly fastCount: number
  readonly fastIntervalMs: number
  /** msgTxHold: the advertised TTL is interval × hold + 1 s. */
  readonly hold: number
}

export const DEFAULT_TOR_LLDP_TIMERS: TorLldpTimers = Object.freeze({
  intervalMs: 5000,
  fastCount: 4,
  fastIntervalMs: 1000,
  hold: 4,
})

export interface HeardStation {
  readonly mac: string
  readonly evb: EvbTlv
  /** Clock time when its TTL runs out. */
  readonly expiresAt: number
}

export type StationChange =
  | {readonly change: 'appeared' | 'changed'; readonly station: HeardStation; readonly negotiated: EvbNegotiated}
  | {readonly change: 'gone'; readonly reason: 'shutdown' | 'expired' | 'evb-withdrawn'; readonly mac: string}

export interface TorLldpOptions {
  readonly clock: Clock
  readonly send: (frame: Buffer) => void
  readonly localMac: string
  readonly policy: EvbBridgePolicy
  readonly identity?: TorIdentity
  readonly timers?: TorLldpTimers
  readonly onStation?: (change: StationChange) => void
}

export interface TorLldpCounters {
  rxFrames: number
  /** Not an LLDPDU, or one whose TLV chain is broken (802.1AB discards it). */
  rxDiscarded: number
  /** Well-formed LLDPDUs without a station EVB TLV from anyone but the station (lldpd, another bridge). */
  rxIgnored: number
  /** LLDPDUs carrying a station-mode EVB TLV. */
  rxStationFrames: number
  stationChanges: number
  txFrames: number
  txErrors: number
}

interface Station extends HeardStation {
  readonly msap: string
  readonly evbBytes: Buffer
}

export class TorLldp {
  private readonly clock: Clock
  private readonly sendFrame: (frame: Buffer) => void
  private readonly localMac: string
  private readonly policy: EvbBridgePolicy
  private readonly identity: TorIdentity
  private readonly timers: TorLldpTimers
  private readonly onStation: (change: StationChange) => void
  private readonly schedule: TxSchedule
  private station: Station | undefined
  /** The neighbour the nearest-customer-bridge agent holds (for fast start on a new one). */
  private neighbor: {msap: string; expiresAt: number} | undefined
  private advertised: EvbTlv
  private txTimer: TimerHandle | undefined
  private expiryTimer: TimerHandle | undefined
  private state: 'idle' | 'running' | 'stopped' = 'idle'
  private readonly stats: TorLldpCounters = {
    rxFrames: 0,
    rxDiscarded: 0,
    rxIgnored: 0,
    rxStationFrames: 0,
    stationChanges: 0,
    txFrames: 0,
    txErrors: 0,
  }

  constructor(options: TorLldpOptions) {
    this.clock = options.clock
    this.sendFrame = options.send
    this.localMac = options.localMac.toLowerCase()
    this.policy = options.policy
    this.identity = options.identity ?? DEFAULT_TOR_IDENTITY
    this.timers = options.timers ?? DEFAULT_TOR_LLDP_TIMERS
    this.onStation = options.onStation ?? (() => {})
    this.advertised = negotiateEvbBridge(this.policy).bridge
    this.schedule = new TxSchedule(this.txTimers(), this.clock.now())
    // Fail now, not at the first timer tick, on an identity or timers buildLldpFrame would refuse.
    this.frame(this.ttl())
  }

  /** Begin advertising: one LLDPDU now, then on the fast-start and regular intervals. */
  start(): void {
    if (this.state !== 'idle') return
    this.state = 'running'
    this.scheduleTx()
  }

  /** Send the shutdown LLDPDU (TTL 0) and stop; later frames are ignored. */
  stop(): void {
    if (this.state === 'stopped') return
    const wasRunning = this.state === 'running'
    this.state = 'stopped'
    this.cancel(this.txTimer)
    this.cancel(this.expiryTimer)
    this.txTimer = this.expiryTimer = undefined
    if (wasRunning) this.transmit(0)
  }

  /** The station's EVB TLV as last heard, if a station is there. */
  get heardStation(): HeardStation | undefined {
    const s = this.station
    return s && {mac: s.mac, evb: s.evb, expiresAt: s.expiresAt}
  }

  /** The EVB TLV we advertise now. */
  get bridgeTlv(): EvbTlv {
    return this.advertised
  }

  /** What ECP and VDP run with: negotiated with the station, or our own policy while none is heard. */
  get negotiated(): EvbNegotiated | undefined {
    return this.station && negotiateEvbBridge(this.policy, this.station.evb).negotiated
  }

  get counters(): Readonly<TorLldpCounters> {
    return {...this.stats}
  }

  /** One received Ethernet frame (EtherType 0x88cc, any of the three LLDP groups). Never throws. */
  receive(frame: Uint8Array): void {
    if (this.state === 'stopped') return
    this.stats.rxFrames++
    const scan = scanLldpHeader(frame)
    if (scan === null || !scan.tlvChainComplete) {
      this.stats.rxDiscarded++
      return
    }
    if (scan.src === this.localMac) return // our own frame, where the socket shows transmissions
    // As lldpad: EVB22 runs on the nearest-customer-bridge agent only; the other agents' LLDPDUs are theirs.
    if (scan.dst !== NEAREST_CUSTOMER_BRIDGE) {
      this.stats.rxIgnored++
      return
    }
    const msap = scan.msapKey
    this.noteNeighbor(msap, scan.ttl)
    const fromStation = this.station?.msap === msap
    const evb = scan.evb
    if (scan.isShutdown) {
      if (fromStation) this.forgetStation('shutdown')
      else this.stats.rxIgnored++
      return
    }
    if (evb?.mode !== 'station') {
      if (fromStation) this.forgetStation('evb-withdrawn')
      else this.stats.rxIgnored++
      return
    }
    this.stats.rxStationFrames++
    const evbBytes = encodeEvbTlv(evb)
    const expiresAt = this.clock.now() + scan.ttl * 1000
    const previous = this.station
    this.station = {mac: scan.src, msap, evb, evbBytes, expiresAt}
    this.armExpiry()
    if (previous?.msap === msap && previous.evbBytes.equals(evbBytes)) return // a refresh
    this.renegotiate()
    this.stats.stationChanges++
    const negotiated = this.negotiated as EvbNegotiated
    this.onStation({
      change: fromStation ? 'changed' : 'appeared',
      station: this.heardStation as HeardStation,
      negotiated,
    })
  }

  /**
   * 802.1AB fast start (newNeighbor → txFast), as lldpad does it: an MSAP the agent does not hold (lldpad
   * keeps one neighbour per agent) makes it transmit at once, then fast for a while. A shutdown forgets it.
   */
  private noteNeighbor(msap: string, ttl: number): void {
    const now = this.clock.now()
    const known = this.neighbor !== undefined && this.neighbor.msap === msap && this.neighbor.expiresAt > now
    if (ttl === 0) {
      if (known) this.neighbor = undefined
      return
    }
    this.neighbor = {msap, expiresAt: now + ttl * 1000}
    if (known) return
    this.schedule.changed(now)
    this.scheduleTx()
  }

  private forgetStation(reason: 'shutdown' | 'expired' | 'evb-withdrawn'): void {
    const gone = this.station
    if (!gone) return
    this.station = undefined
    this.cancel(this.expiryTimer)
    this.expiryTimer = undefined
    this.renegotiate()
    this.stats.stationChanges++
    this.onStation({change: 'gone', reason, mac: gone.mac})
  }

  /** Recompute our TLV; a change goes out at once and starts a fast-transmit run (802.1AB somethingChangedLocal). */
  private renegotiate(): void {
    const next = negotiateEvbBridge(this.policy, this.station?.evb).bridge
    if (encodeEvbTlv(next).equals(encodeEvbTlv(this.advertised))) return
    this.advertised = next
    this.schedule.changed(this.clock.now())
    this.scheduleTx()
  }

  private armExpiry(): void {
    this.cancel(this.expiryTimer)
    const station = this.station as Station
    this.expiryTimer = this.clock.setTimer(station.expiresAt - this.clock.now(), () => {
      this.expiryTimer = undefined
      if (this.station === station) this.forgetStation('expired')
    })
  }

  private scheduleTx(): void {
    if (this.state !== 'running') return
    this.cancel(this.txTimer)
    const delay = Math.max(0, this.schedule.nextDue() - this.clock.now())
    this.txTimer = this.clock.setTimer(delay, () => {
      this.txTimer = undefined
      if (this.schedule.takeSlot(this.clock.now())) this.transmit(this.ttl())
      this.scheduleTx()
    })
  }

  private transmit(ttl: number): void {
    try {
      this.sendFrame(this.frame(ttl))
      this.stats.txFrames++
    } catch {
      // a lost LLDPDU; the next one follows on schedule
      this.stats.txErrors++
    }
  }

  /** A shutdown LLDPDU carries only the chassis, port and TTL (802.1AB §9.2.7.4). */
  private frame(ttl: number): Buffer {
    const id = this.identity
    return buildLldpFrame({
      dst: NEAREST_CUSTOMER_BRIDGE,
      src: this.localMac,
      chassisId: {subtype: CHASSIS_SUBTYPE_MAC, value: this.localMac},
      portId: {subtype: PORT_SUBTYPE_INTERFACE_NAME, value: id.portId},
      ttl,
      ...(ttl === 0
        ? {}
        : {
            portDescription: id.portId,
            systemName: id.systemName,
            systemDescription: id.systemDescription,
            capabilities: {supported: SWITCH_CAPABILITIES, enabled: SWITCH_CAPABILITIES},
            evb: this.advertised,
          }),
    })
  }

  private ttl(): number {
    return advertisedTtl(Math.ceil(this.timers.intervalMs / 1000), this.timers.hold)
  }

  private txTimers() {
    const t = this.timers
    return {intervalMs: t.intervalMs, fastCount: t.fastCount, fastIntervalMs: t.fastIntervalMs}
  }

  private cancel(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.clock.clearTimer(timer)
  }
}
