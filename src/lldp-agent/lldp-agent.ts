import {errorMessage} from '../errors.js'
import {ETHERTYPE_LLDP, type EvbTlv, LLDP_MULTICAST, LldpDecodeError, buildLldpFrame, decodeLldpFrame, scanLldpHeader} from '../lldp/index.js'
import type {Logger} from '../log/logger.js'
import type {FrameIO, FrameSocket} from '../net/frames.js'
import type {Clock, TimerHandle} from '../vdp/clock.js'
import {type EvbNegotiation, type EvbPolicy, negotiateEvb} from './evb-negotiation.js'
import {type NeighborEvent, NeighborTable, isEvbBridgeNeighbor, neighborKey} from './neighbor-table.js'
import {TxSchedule, advertisedTtl} from './tx-schedule.js'

/** EVB lives on the nearest-customer-bridge agent (01:80:c2:00:00:00), as in lldpad. */
const NEAREST_CUSTOMER_BRIDGE = LLDP_MULTICAST.nearestCustomerBridge
/** Station Only (802.1AB capability bit 0x0080): what a host is. */
const STATION_ONLY = 0x0080
/** Bound of the receive fast-path cache (one entry per interface and sender). */
const MAX_FAST_PATH_ENTRIES = 1024

export interface LldpAgentSettings {
  mode: 'rxtx' | 'rx' | 'off'
  txIntervalSeconds: number
  txHold: number
  txFastCount: number
  txFastIntervalSeconds: number
  systemName: string
  systemDescription: string
  evb: EvbPolicy
}

export interface LldpAgentDeps {
  frames: FrameIO
  clock: Clock
  log: Logger
  /** The MAC address of a local interface (the source of what we send on it). */
  macOf(ifname: string): string | undefined
  /** Neighbour table changes, in order. */
  onNeighborEvents(events: NeighborEvent[]): void
  /** The EVB negotiation on the uplink changed (a bridge TLV appeared, changed or went away). */
  onEvbChange?(ifname: string, negotiation: EvbNegotiation): void
}

export interface LldpInterfaceStats {
  rxFrames: number
  /** LLDPDUs 802.1AB says to discard (bad first TLVs, overruns...), by rule. */
  rxDiscarded: number
  rxDiscardedByRule: Record<string, number>
  txFrames: number
  txErrors: number
}

interface TxPort {
  ifname: string
  schedule: TxSchedule
}

/**
 * Our own LLDP agent: receives on the candidate ports (neighbour table with TTL ageing, shutdown
 * LLDPDUs, bounded per port), and on the uplink transmits the EVB station TLV negotiated against the
 * bridge's, on 802.1AB timers. A malformed LLDPDU is counted and dropped, never fatal.
 */
export class LldpAgent {
  readonly table = new NeighborTable()
  private readonly rx = new Map<string, FrameSocket>()
  private readonly tx = new Map<string, TxPort>()
  private readonly stats = new Map<string, LldpInterfaceStats>()
  private readonly fastPath = new Map<string, {frame: Buffer; key: string}>()
  private readonly negotiations = new Map<string, EvbNegotiation>()
  private txTimer?: TimerHandle
  private expiryTimer?: TimerHandle
  private stopped = false

  constructor(
    private settings: LldpAgentSettings,
    private readonly deps: LldpAgentDeps,
  ) {}

  /** Listen on exactly these ports (opens new sockets, closes the others). */
  setListenPorts(ports: readonly string[]): void {
    if (this.settings.mode === 'off' || this.stopped) return
    const want = new Set(ports)
    for (const [ifname, socket] of this.rx) {
      if (!want.has(ifname)) {
        socket.close()
        this.rx.delete(ifname)
      }
    }
    for (const ifname of want) {
      if (this.rx.has(ifname)) continue
      try {
        const socket = this.deps.frames.open(ifname, ETHERTYPE_LLDP, {
          multicast: [LLDP_MULTICAST.nearestCustomerBridge, LLDP_MULTICAST.nearestNonTpmrBridge, LLDP_MULTICAST.nearestBridge],
          onFrame: (frame) => this.receive(ifname, frame),
          onError: (err) => this.deps.log.debug({ifname, err: err.message}, 'LLDP socket error'),
        })
        this.rx.set(ifname, socket)
      } catch (err) {
        this.deps.log.warn({ifname, err: errorMessage(err)}, 'cannot listen for LLDP on this interface')
      }
    }
  }

  listening(): string[] {
    return [...this.rx.keys()].sort()
  }

  /** Transmit on exactly these ports (the uplink, or a bond's members). Ports that stop get a shutdown LLDPDU. */
  setTransmitPorts(ports: readonly string[]): void {
    if (this.settings.mode !== 'rxtx' || this.stopped) return
    const want = new Set(ports)
    for (const ifname of [...this.tx.keys()]) {
      if (!want.has(ifname)) {
        this.sendShutdown(ifname)
        this.tx.delete(ifname)
      }
    }
    const now = this.deps.clock.now()
    for (const ifname of want) {
      if (!this.tx.has(ifname)) this.tx.set(ifname, {ifname, schedule: new TxSchedule(this.txTimers(), now)})
      this.updateNegotiation(ifname)
    }
    this.scheduleTx()
  }

  transmitting(): string[] {
    return [...this.tx.keys()].sort()
  }

  /** The EVB negotiation on a transmit port (undefined values until the bridge's TLV arrived). */
  negotiation(ifname: string): EvbNegotiation | undefined {
    return this.negotiations.get(ifname)
  }

  /**
   * Hook for VDP (issue 9): the switch restarted or stopped acknowledging ECP, and ignores ECP until it hears
   * our EVB TLV again. Send an LLDPDU on `ifname` now and fast for a while (802.1AB-2009 §9.2.7.7 txFast),
   * within the txCredit limit. No-op where we do not transmit.
   */
  announce(ifname: string): void {
    const port = this.tx.get(ifname)
    if (!port || this.stopped) return
    port.schedule.changed(this.deps.clock.now())
    this.scheduleTx()
  }

  interfaceStats(): Record<string, LldpInterfaceStats> {
    return Object.fromEntries(this.stats)
  }

  /** The port lost carrier or vanished: forget what was heard there. */
  dropInterface(ifname: string, reason: 'link-down' | 'interface-gone'): void {
    for (const key of this.fastPath.keys()) if (key.startsWith(`${ifname}|`)) this.fastPath.delete(key)
    this.apply(this.table.dropInterface(ifname, reason))
  }

  updateSettings(settings: LldpAgentSettings): void {
    this.settings = settings
    const now = this.deps.clock.now()
    for (const port of this.tx.values()) {
      port.schedule.setTimers(this.txTimers(), now)
      this.updateNegotiation(port.ifname)
    }
    this.scheduleTx()
  }

  /** Send shutdown LLDPDUs where we transmit and close every socket. */
  stop(): void {
    if (this.stopped) return
    for (const ifname of this.tx.keys()) this.sendShutdown(ifname)
    this.stopped = true
    if (this.txTimer) this.deps.clock.clearTimer(this.txTimer)
    if (this.expiryTimer) this.deps.clock.clearTimer(this.expiryTimer)
    for (const s of this.rx.values()) s.close()
    this.rx.clear()
    this.tx.clear()
  }

  /** Feed one received frame (the socket callback; public for tests and replay). */
  receive(ifname: string, frame: Buffer): void {
    const stats = this.statsOf(ifname)
    stats.rxFrames++
    const now = this.deps.clock.now()
    const scan = scanLldpHeader(frame)
    if (!scan) return this.discard(stats, 'not-an-lldpdu')
    // Our own LLDPDU looped back (loopback, a hairpinning bridge): never a neighbour.
    if (scan.src === this.deps.macOf(ifname)) return this.discard(stats, 'own-frame')
    // The same bytes from the same sender: only the TTL restarts, no decode (the receive hot path).
    const senderKey = `${ifname}|${scan.src}`
    const last = this.fastPath.get(senderKey)
    if (last && this.table.has(last.key) && last.frame.equals(frame)) return this.apply(this.table.refresh(last.key, now))
    let pdu
    try {
      pdu = decodeLldpFrame(frame)
    } catch (err) {
      return this.discard(stats, err instanceof LldpDecodeError ? err.rule : 'decode-error')
    }
    if (pdu.discardRequired) return this.discard(stats, pdu.warnings.find((w) => w.action === 'discard-lldpdu')?.rule ?? 'discard')
    const events = this.table.receive(ifname, scan.src, pdu, now)
    const first = events[0]
    if (first && first.type !== 'removed') {
      if (this.fastPath.size >= MAX_FAST_PATH_ENTRIES) this.fastPath.delete(this.fastPath.keys().next().value!)
      this.fastPath.set(senderKey, {frame, key: neighborKey(first.neighbor)})
    } else this.fastPath.delete(senderKey)
    this.apply(events)
  }

  private discard(stats: LldpInterfaceStats, rule: string): void {
    stats.rxDiscarded++
    stats.rxDiscardedByRule[rule] = (stats.rxDiscardedByRule[rule] ?? 0) + 1
  }

  private apply(events: NeighborEvent[]): void {
    if (events.length === 0) return
    this.scheduleExpiry()
    for (const e of events) {
      if (this.tx.has(e.neighbor.ifname) && (e.type !== 'updated' || e.changed)) this.updateNegotiation(e.neighbor.ifname)
    }
    this.deps.onNeighborEvents(events)
  }

  /** Recompute our station TLV from the bridge's; a change is announced at once (fast transmit). */
  private updateNegotiation(ifname: string): void {
    const bridge = this.table
      .onInterface(ifname)
      .filter(isEvbBridgeNeighbor)
      .sort((a, b) => b.lastSeen - a.lastSeen)[0]?.evb as EvbTlv | undefined
    const next = negotiateEvb(this.settings.evb, bridge)
    const prev = this.negotiations.get(ifname)
    if (prev && JSON.stringify(prev) === JSON.stringify(next)) return
    this.negotiations.set(ifname, next)
    this.tx.get(ifname)?.schedule.changed(this.deps.clock.now())
    this.scheduleTx()
    this.deps.onEvbChange?.(ifname, next)
  }

  private txTimers() {
    const s = this.settings
    return {intervalMs: s.txIntervalSeconds * 1000, fastCount: s.txFastCount, fastIntervalMs: s.txFastIntervalSeconds * 1000}
  }

  private scheduleTx(): void {
    if (this.txTimer) this.deps.clock.clearTimer(this.txTimer)
    this.txTimer = undefined
    if (this.tx.size === 0 || this.stopped) return
    const now = this.deps.clock.now()
    const due = Math.min(...[...this.tx.values()].map((p) => p.schedule.nextDue()))
    this.txTimer = this.deps.clock.setTimer(Math.max(0, due - now), () => this.transmitDue())
  }

  private transmitDue(): void {
    this.txTimer = undefined
    const now = this.deps.clock.now()
    for (const port of this.tx.values()) {
      if (port.schedule.takeSlot(now)) this.send(port.ifname, advertisedTtl(this.settings.txIntervalSeconds, this.settings.txHold))
    }
    this.scheduleTx()
  }

  private sendShutdown(ifname: string): void {
    this.send(ifname, 0)
  }

  private send(ifname: string, ttl: number): void {
    const stats = this.statsOf(ifname)
    const mac = this.deps.macOf(ifname)
    if (!mac) return
    const s = this.settings
    // A shutdown LLDPDU carries only the chassis, port and TTL (802.1AB §9.2.7.4).
    const frame = buildLldpFrame({
      dst: NEAREST_CUSTOMER_BRIDGE,
      src: mac,
      chassisId: {subtype: 4, value: mac},
      portId: {subtype: 5, value: ifname},
      ttl,
      ...(ttl === 0
        ? {}
        : {
            portDescription: ifname,
            systemName: s.systemName,
            systemDescription: s.systemDescription,
            capabilities: {supported: STATION_ONLY, enabled: STATION_ONLY},
            evb: this.negotiations.get(ifname)?.station ?? negotiateEvb(s.evb).station,
          }),
    })
    try {
      const socket = this.rx.get(ifname) ?? this.openTxOnly(ifname)
      socket.send(frame)
      stats.txFrames++
    } catch (err) {
      stats.txErrors++
      this.deps.log.debug({ifname, err: errorMessage(err)}, 'LLDP transmit failed')
    }
  }

  /** The uplink is normally a listened port; a bond member outside the candidates gets its own socket. */
  private openTxOnly(ifname: string): FrameSocket {
    const socket = this.deps.frames.open(ifname, ETHERTYPE_LLDP, {onFrame: (frame) => this.receive(ifname, frame)})
    this.rx.set(ifname, socket)
    return socket
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer) this.deps.clock.clearTimer(this.expiryTimer)
    this.expiryTimer = undefined
    const next = this.table.nextExpiry()
    if (next === undefined || this.stopped) return
    this.expiryTimer = this.deps.clock.setTimer(Math.max(0, next - this.deps.clock.now()), () => {
      this.expiryTimer = undefined
      this.apply(this.table.expire(this.deps.clock.now()))
      this.scheduleExpiry()
    })
  }

  private statsOf(ifname: string): LldpInterfaceStats {
    let s = this.stats.get(ifname)
    if (!s) {
      s = {rxFrames: 0, rxDiscarded: 0, rxDiscardedByRule: {}, txFrames: 0, txErrors: 0}
      this.stats.set(ifname, s)
    }
    return s
  }
}
