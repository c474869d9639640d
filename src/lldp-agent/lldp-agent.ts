import {EventEmitter} from 'node:events'

import {errorMessage} from '../errors.js'
import {type EvbTlv, LldpDecodeError, buildLldpFrame, decodeLldpFrame, scanLldpHeader} from '../lldp/index.js'
import type {Logger} from '../log/logger.js'
import type {NeighborRecord} from '../model/neighbor.js'
import type {FrameIO, FrameSocket} from '../net/frames.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {ETHERTYPE_LLDP, formatMac, LLDP_AGENT_ADDRESSES, NEAREST_CUSTOMER_BRIDGE} from '../core/ethernet.js'
import {DiscardLog} from './discard-log.js'
import {type EvbNegotiation, type EvbPolicy, negotiateEvb} from './evb-negotiation.js'
import {type NeighborEvent, NeighborTable, isEvbBridgeNeighbor, neighborKey} from './neighbor-table.js'
import {TxSchedule, advertisedTtl} from './tx-schedule.js'

/** Station Only (802.1AB capability bit 0x0080): what a host is. */
const STATION_ONLY = 0x0080
/** Bound of the receive fast-path cache (one entry per interface, agent and sender). */
const MAX_FAST_PATH_ENTRIES = 1024
/** The destination group addresses of the three 802.1AB LLDP agents; anything else reaches none of them. */
const AGENT_ADDRESSES: ReadonlySet<string> = new Set(LLDP_AGENT_ADDRESSES)

/**
 * Why the agent drops an LLDPDU besides the decoder's rules (src/lldp/rules.ts, e.g. `mandatory-tlv-order`):
 * the keys of LldpInterfaceStats.rxDiscardedByRule are these or a decoder rule name.
 */
export const LLDP_AGENT_DISCARD_RULES = {
  'own-frame': 'our own LLDPDU looped back (a hairpinning bridge, loopback)',
  'unknown-destination': 'not addressed to an 802.1AB LLDP agent (01:80:c2:00:00:00, :03 or :0e)',
  'too-many-neighbors':
    'the port already holds the bound of neighbours and the sender is not an EVB bridge (802.1AB tooManyNeighbors)',
  'receive-queue-full':
    'dropped by the kernel before we read it: the socket receive queue was full (PACKET_STATISTICS tp_drops)',
  'frame-too-large': 'larger than the 64 KiB receive buffer (no LLDPDU is)',
} as const

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
}

/** What the agent tells its listeners (`agent.on(name, fn)`). */
export interface LldpAgentEvents {
  /** Neighbours appeared, changed, or left (TTL expiry, shutdown LLDPDU, eviction, interface gone). */
  neighbors: [events: NeighborEvent[]]
  /** The EVB negotiation on a transmitting port changed (a bridge TLV appeared, changed or went away). */
  evb: [ifname: string, negotiation: EvbNegotiation]
}

export interface LldpInterfaceStats {
  rxFrames: number
  /**
   * LLDPDUs dropped, by the rule they broke: a decoder rule (src/lldp/rules.ts) or one of
   * LLDP_AGENT_DISCARD_RULES (own frame, not to an LLDP agent, full table, socket drops).
   */
  rxDiscarded: number
  rxDiscardedByRule: Record<string, number>
  /** Neighbours whose TTL ran out (802.1AB statsAgeoutsTotal). */
  ageouts: number
  /** Non-EVB neighbours evicted to make room for an EVB bridge on a full port. */
  evictions: number
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
export class LldpAgent extends EventEmitter<LldpAgentEvents> {
  readonly table = new NeighborTable()
  private readonly rx = new Map<string, FrameSocket>()
  private readonly tx = new Map<string, TxPort>()
  private readonly stats = new Map<string, LldpInterfaceStats>()
  private readonly fastPath = new Map<string, {frame: Buffer; key: string}>()
  private readonly negotiations = new Map<string, EvbNegotiation>()
  private readonly discardLog: DiscardLog
  /** Ports to greet the switch on at the next turn (see greet()). */
  private readonly helloDue = new Set<string>()
  private readonly closedSocketDrops = new Map<string, Record<'receive-queue-full' | 'frame-too-large', number>>()
  private helloTimer?: TimerHandle
  private txTimer?: TimerHandle
  private expiryTimer?: TimerHandle
  private stopped = false

  constructor(
    private settings: LldpAgentSettings,
    private readonly deps: LldpAgentDeps,
  ) {
    super()
    this.discardLog = new DiscardLog(deps.log)
  }

  /**
   * Seed the table from the database at start-up (NeighborTable.restore: unexpired, within the per-port bound)
   * and age the restored neighbours out like heard ones: a switch that left while the daemon was down goes
   * when its TTL runs out. Returns the records left out, for the caller to delete.
   */
  restore(records: NeighborRecord[]): NeighborRecord[] {
    const skipped = this.table.restore(records, this.deps.clock.now())
    this.scheduleExpiry()
    return skipped
  }

  /** Listen on exactly these ports (opens new sockets, closes the others). */
  setListenPorts(ports: readonly string[]): void {
    if (this.settings.mode === 'off' || this.stopped) return
    const want = new Set(ports)
    for (const ifname of [...this.rx.keys()]) if (!want.has(ifname)) this.closeSocket(ifname)
    for (const ifname of want) {
      if (this.rx.has(ifname)) continue
      try {
        const socket = this.deps.frames.open(ifname, ETHERTYPE_LLDP, {
          multicast: [...LLDP_AGENT_ADDRESSES],
          onFrame: (frame) => this.receive(ifname, frame),
          onError: (err) => this.deps.log.debug({ifname, err: err.message}, 'LLDP socket error'),
        })
        this.rx.set(ifname, socket)
        this.greet(ifname)
      } catch (err) {
        this.deps.log.warn({ifname, err: errorMessage(err)}, 'cannot listen for LLDP on this interface')
      }
    }
  }

  /**
   * Make a switch that is already talking answer now rather than at its next msgTxInterval: one LLDPDU
   * without the EVB TLV to the nearest-customer-bridge address (the agent EVB uses). A new neighbour makes
   * the peer's agent transmit at once (802.1AB-2009 §9.2.7.7 newNeighbor → txFast; lldpad does, see
   * docs/lldp.md). Sent on a listened (candidate) port at start-up and when its carrier returns; never in
   * `rx` mode, and not on ports we transmit on anyway (the uplink carries the EVB TLV from its first LLDPDU).
   */
  greet(ifname: string): void {
    if (this.settings.mode !== 'rxtx' || this.stopped) return
    this.helloDue.add(ifname)
    // On the next turn: the uplink decision made in the same turn (start-up) puts the uplink in `tx` first.
    this.helloTimer ??= this.deps.clock.setTimer(0, () => {
      this.helloTimer = undefined
      for (const port of this.helloDue)
        if (this.rx.has(port) && !this.tx.has(port))
          this.send(port, advertisedTtl(this.settings.txIntervalSeconds, this.settings.txHold), false)
      this.helloDue.clear()
    })
  }

  /**
   * The last LLDP frame heard from `srcMac` on `ifname` for the LLDP agent at `destAddress` (kept for the
   * receive fast path), for `neighbors -v`.
   */
  lastFrame(ifname: string, destAddress: string, srcMac: string): Buffer | undefined {
    return this.fastPath.get(`${ifname}|${destAddress}|${srcMac}`)?.frame
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

  /** Per interface, with the drops the socket counted before a frame reached us (kernel queue, oversize). */
  interfaceStats(): Record<string, LldpInterfaceStats> {
    const out: Record<string, LldpInterfaceStats> = {}
    for (const ifname of new Set([...this.stats.keys(), ...this.rx.keys()])) {
      const own = this.statsOf(ifname)
      const byRule = {...own.rxDiscardedByRule}
      let dropped = 0
      const socket = this.socketDrops(ifname)
      for (const [rule, n] of Object.entries(socket)) {
        if (n > 0) byRule[rule] = (byRule[rule] ?? 0) + n
        dropped += n
      }
      out[ifname] = {...own, rxDiscarded: own.rxDiscarded + dropped, rxDiscardedByRule: byRule}
    }
    return out
  }

  /** Socket-level drops: those of the open socket plus those of sockets closed before (kept at close). */
  private socketDrops(ifname: string): Record<'receive-queue-full' | 'frame-too-large', number> {
    const closed = this.closedSocketDrops.get(ifname) ?? {'receive-queue-full': 0, 'frame-too-large': 0}
    const st = this.rx.get(ifname)?.stats()
    return {
      'receive-queue-full': closed['receive-queue-full'] + (st?.kernelDrops ?? 0),
      'frame-too-large':
        closed['frame-too-large'] + ((st as {framesOversize?: number} | undefined)?.framesOversize ?? 0),
    }
  }

  private closeSocket(ifname: string): void {
    const socket = this.rx.get(ifname)
    if (!socket) return
    this.closedSocketDrops.set(ifname, this.socketDrops(ifname))
    socket.close()
    this.rx.delete(ifname)
  }

  /** The port lost carrier or vanished: forget what was heard there. */
  dropInterface(ifname: string, reason: 'link-down' | 'interface-gone'): void {
    for (const key of this.fastPath.keys()) if (key.startsWith(`${ifname}|`)) this.fastPath.delete(key)
    if (reason === 'interface-gone') this.discardLog.forget(ifname)
    this.apply(this.table.dropInterface(ifname, reason))
  }

  updateSettings(settings: LldpAgentSettings): void {
    const startsTransmitting = this.settings.mode !== 'rxtx' && settings.mode === 'rxtx'
    this.settings = settings
    if (startsTransmitting) for (const ifname of this.rx.keys()) this.greet(ifname)
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
    if (this.helloTimer) this.deps.clock.clearTimer(this.helloTimer)
    for (const ifname of [...this.rx.keys()]) this.closeSocket(ifname)
    this.tx.clear()
  }

  /** Feed one received frame (the socket callback; public for tests and replay). */
  receive(ifname: string, frame: Buffer): void {
    const stats = this.statsOf(ifname)
    stats.rxFrames++
    const now = this.deps.clock.now()
    const scan = scanLldpHeader(frame)
    if (!scan) return this.discard(ifname, stats, brokenRule(frame), frame)
    // Our own LLDPDU looped back (loopback, a hairpinning bridge): never a neighbour.
    if (scan.src === this.deps.macOf(ifname)) return this.discard(ifname, stats, 'own-frame', frame)
    if (!AGENT_ADDRESSES.has(scan.dst)) return this.discard(ifname, stats, 'unknown-destination', frame)
    // The same bytes from the same sender to the same agent: only the TTL restarts, no decode (the receive hot path).
    const senderKey = `${ifname}|${scan.dst}|${scan.src}`
    const last = this.fastPath.get(senderKey)
    if (last && this.table.has(last.key) && last.frame.equals(frame))
      return this.apply(this.table.refresh(last.key, now))
    let pdu
    try {
      pdu = decodeLldpFrame(frame)
    } catch (err) {
      return this.discard(ifname, stats, err instanceof LldpDecodeError ? err.rule : 'internal-error', frame)
    }
    if (pdu.discardRequired)
      return this.discard(
        ifname,
        stats,
        pdu.warnings.find((w) => w.action === 'discard-lldpdu')?.rule ?? 'internal-error',
        frame,
      )
    const refusedBefore = this.table.tooManyNeighbors
    const events = this.table.receive(ifname, scan.src, pdu, now)
    if (this.table.tooManyNeighbors !== refusedBefore) return this.discard(ifname, stats, 'too-many-neighbors', frame)
    const current = events.at(-1)
    if (current && current.type !== 'removed') {
      if (this.fastPath.size >= MAX_FAST_PATH_ENTRIES) this.fastPath.delete(this.fastPath.keys().next().value!)
      this.fastPath.set(senderKey, {frame, key: neighborKey(current.neighbor)})
    } else this.fastPath.delete(senderKey)
    this.apply(events)
  }

  /** Count under the rule broken and log it (rate-limited): no LLDPDU is dropped without a trace. */
  private discard(ifname: string, stats: LldpInterfaceStats, rule: string, frame: Buffer): void {
    stats.rxDiscarded++
    stats.rxDiscardedByRule[rule] = (stats.rxDiscardedByRule[rule] ?? 0) + 1
    const src = frame.length >= 12 ? formatMac(frame.subarray(6, 12)) : undefined
    this.discardLog.note(
      this.deps.clock.now(),
      ifname,
      rule,
      {src, length: frame.length},
      rule === 'own-frame' ? 'debug' : 'warn',
    )
  }

  private apply(events: NeighborEvent[]): void {
    if (events.length === 0) return
    for (const e of events) {
      if (e.type !== 'removed') continue
      if (e.reason === 'aged') this.statsOf(e.neighbor.ifname).ageouts++
      else if (e.reason === 'evicted') this.statsOf(e.neighbor.ifname).evictions++
    }
    this.scheduleExpiry()
    for (const e of events) {
      if (this.tx.has(e.neighbor.ifname) && (e.type !== 'updated' || e.changed))
        this.updateNegotiation(e.neighbor.ifname)
    }
    this.emit('neighbors', events)
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
    this.emit('evb', ifname, next)
  }

  private txTimers() {
    const s = this.settings
    return {
      intervalMs: s.txIntervalSeconds * 1000,
      fastCount: s.txFastCount,
      fastIntervalMs: s.txFastIntervalSeconds * 1000,
    }
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
      if (port.schedule.takeSlot(now))
        this.send(port.ifname, advertisedTtl(this.settings.txIntervalSeconds, this.settings.txHold))
    }
    this.scheduleTx()
  }

  private sendShutdown(ifname: string): void {
    this.send(ifname, 0)
  }

  /** `withEvb` false: the announcement of a candidate port that is not the uplink (no EVB station TLV). */
  private send(ifname: string, ttl: number, withEvb = true): void {
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
            ...(withEvb ? {evb: this.negotiations.get(ifname)?.station ?? negotiateEvb(s.evb).station} : {}),
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
      s = {rxFrames: 0, rxDiscarded: 0, rxDiscardedByRule: {}, ageouts: 0, evictions: 0, txFrames: 0, txErrors: 0}
      this.stats.set(ifname, s)
    }
    return s
  }
}

/**
 * The rule a frame the header scan refused breaks, as the decoder names it (what `lldp decode --strict`
 * reports): the first rule that discards the whole LLDPDU, or the decoder's error.
 */
function brokenRule(frame: Buffer): string {
  try {
    const pdu = decodeLldpFrame(frame)
    return pdu.warnings.find((w) => w.action === 'discard-lldpdu')?.rule ?? 'not-lldp'
  } catch (err) {
    if (!(err instanceof LldpDecodeError)) return 'internal-error'
    return err.partial?.warnings.find((w) => w.action === 'discard-lldpdu')?.rule ?? err.rule
  }
}

/** All interfaces' discards added up, by rule (the status line and, later, metrics). */
export function discardTotals(interfaces: Record<string, LldpInterfaceStats>): {
  total: number
  byRule: Record<string, number>
} {
  const byRule: Record<string, number> = {}
  let total = 0
  for (const s of Object.values(interfaces)) {
    total += s.rxDiscarded
    for (const [rule, n] of Object.entries(s.rxDiscardedByRule)) byRule[rule] = (byRule[rule] ?? 0) + n
  }
  return {total, byRule}
}
