import {EventEmitter} from 'node:events'

import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import {bridgeRestartSign} from '../lldp-agent/evb-negotiation.js'
import {type NeighborEvent, isEvbBridgeNeighbor} from '../lldp-agent/neighbor-table.js'
import type {EvbTlv} from '../lldp/types.js'
import type {Logger} from '../log/logger.js'
import type {FrameIO, FrameSocket} from '../net/frames.js'
import {type EvbNegotiated, type EvbValues, evbValuesOf} from '../model/evb.js'
import type {NeighborRecord} from '../model/neighbor.js'
import type {VdpPort} from '../model/vsi.js'
import {ciscoTlvs} from '../vdp/cisco-oui.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {ETHERTYPE_ECP, NEAREST_CUSTOMER_BRIDGE} from '../core/ethernet.js'
import {type EcpCounters, EcpTransport} from '../vdp/ecp-transport.js'
import {managerIdFromText} from '../vdp/manager-id.js'
import {FAST_PEER, lldpadPeerProfile} from '../vdp/peer-profile.js'
import {type VdpStationCounters, VdpStation, type VsiEvent} from '../vdp/station.js'
import type {VsiFilter} from '../vdp/vsi-filter.js'
import type {VsiRequest} from '../vdp/vsi-request.js'
import {macVsiid, uuidVsiid, vsiidKey, type Vsiid} from '../vdp/vsiid.js'

/** lldpad parses a VDPDU 2 ms after receiving it into one buffer: keep ECPDUs further apart (docs/vdp.md). */
const LLDPAD_MIN_TX_GAP_MS = 3

/** First delay before re-sending everything after the bridge stopped acknowledging; doubles up to the cap. */
const RESYNC_FIRST_MS = 100
const RESYNC_MAX_MS = 10_000
/** After the bridge's LLDPDU says it (re)started, our LLDPDU goes out at once; VDP follows this much later. */
const RESYNC_AFTER_LLDP_MS = 50

/** How one request ended. */
export type VsiOutcome =
  | {ok: true; vid: number | null}
  | {
      ok: false
      reason: string
      hard: boolean
      code?: number
      /** No answer came: the switch may still hold the VSI with the VLAN it gave (ask for that one again). */
      unanswered?: boolean
      /** Cut short by the session closing (uplink down, daemon stopping): nothing was decided. */
      interrupted?: boolean
      /** Queued while VDP is held (no EVB yet, or the switch away): it goes out then, and its end arrives as
       * a `confirmed` / `deassociated` / `lost` notice. The caller must not wait for it (an uplink change
       * waits for every event in flight). */
      deferred?: boolean
    }

/** Unsolicited news about an association (keep-alive failures, bridge De-Associate, VLAN change, re-confirmation). */
export type VsiNotice =
  | {type: 'lost'; portUuid: string; reason: string; hard: boolean; unanswered?: boolean}
  | {type: 'vlan-changed'; portUuid: string; from: number | null; to: number | null}
  /** The switch confirmed an association nobody waited for (after a resync, or one deferred while held). */
  | {type: 'confirmed'; portUuid: string; vid: number | null}
  /** The switch confirmed a De-Associate nobody waited for (deferred while held). */
  | {type: 'deassociated'; portUuid: string}
  /** The switch restarted or went away: every association needs its confirmation again. */
  | {type: 'bridge-restarted'; reason: string}

/** What the metrics learn from the VDP side (src/metrics): answered requests and failures. */
interface VsiObserver {
  /** A request for a VM port was answered with success `seconds` after it was submitted. */
  answered(operation: 'assoc' | 'deassoc', seconds: number): void
  /** The station reported a failed exchange (operation, reason, bridge error code). */
  failed(operation: string, reason: string, code?: number): void
}

export interface VsiManagerDeps {
  frames: FrameIO
  clock: Clock
  log: Logger
  config: () => AgentConfig
  observer?: VsiObserver
  /** The LLDP neighbours heard on a port (the switch's MAC and EVB TLV come from there). */
  neighborsOn?(ifname: string): NeighborRecord[]
  /** Send our LLDPDU (with the EVB TLV) on the port now and fast for a while (802.1AB txFast). */
  announceEvb?(ifname: string): void
}

/** waiting: no EVB TLV from the bridge yet (VDP held); negotiated: running with the agreed values; fallback:
 * none came within [vdp] evb_wait, running with the configured values. */
type EvbState = 'waiting' | 'negotiated' | 'fallback'

export interface VdpSessionStatus {
  uplink: string
  evb: EvbState
  evbSince: string
  /** Why VDP is held, if it is. */
  held: string | null
  /** ECP/VDP is taken only from this MAC (the switch); null: from any source (no LLDP neighbour known). */
  acceptFrom: string | null
  /** ECP frames refused because they came from another source. */
  refusedFrames: number
  resyncs: number
}

/** Station and transport counters summed over every session since the daemon started. */
export interface VdpTotals {
  station: Record<string, number>
  transport: Record<string, number>
}

function addCounters(into: Record<string, number>, from: object): void {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v
}

interface Session {
  ifname: string
  /** The port LLDP hears the switch on (a bond member for a bond uplink). */
  lldpPort: string
  socket: FrameSocket
  transport: EcpTransport
  station: VdpStation
  evb: EvbState
  evbSince: number
  evbTimer?: TimerHandle
  resyncTimer?: TimerHandle
  resyncBackoffMs: number
  /** The EVB TLV of the bridge last heard, to notice it restarting (`bridgeRestartSign`). */
  bridgeEvb?: EvbTlv
  held: string | null
}

interface Waiter {
  op: 'assoc' | 'deassoc'
  portUuid: string
  /** clock ms when the request was submitted */
  since: number
  resolve(outcome: VsiOutcome): void
}

/** The negotiated values; without a bridge's EVB TLV (a static uplink to a bridge that sends none), our own proposals. */
function evbValues(negotiated: EvbNegotiated | null | undefined, cfg: AgentConfig): EvbValues {
  return evbValuesOf(
    negotiated ?? {retries: cfg.lldp.evb_retries, rte: cfg.lldp.evb_rte, rwd: cfg.lldp.evb_rwd, rka: cfg.lldp.evb_rka},
  )
}

/**
 * The VID to ask for: the one the VM port asks for, else the one this switch assigned last (a restarted agent
 * must not ask for VLAN 0 again: a bridge holding the VSI with another VID ignores such a request, lldpad's
 * "TODO mismatch filter data", docs/vdp.md), else 0 (the switch assigns).
 */
export function requestedVid(rec: Pick<VdpPort, 'vlan' | 'vdpVlan' | 'uplink'>, uplink: string | undefined): number {
  if (rec.vlan != null) return rec.vlan
  return rec.vdpVlan != null && (uplink === undefined || rec.uplink === uplink) ? rec.vdpVlan : 0
}

/** The VDP request for one VM port, from the config's VSIID and filter formats. */
function vsiRequestFor(
  rec: Pick<VdpPort, 'portUuid' | 'mac' | 'segmentationId' | 'vmName' | 'vmUuid' | 'ipv4' | 'vlan'>,
  cfg: AgentConfig,
  vid = rec.vlan ?? 0,
): VsiRequest {
  const vsiid: Vsiid = cfg.vdp.vsiid_format === 'mac' ? macVsiid(rec.mac) : uuidVsiid(rec.portUuid)
  const base = {ps: false, pcp: 0, vid}
  const filter: VsiFilter = {
    'gid-mac-vid': {format: 4, entries: [{...base, mac: rec.mac, groupId: rec.segmentationId}]} as const,
    'gid-vid': {format: 3, entries: [{...base, groupId: rec.segmentationId}]} as const,
    'mac-vid': {format: 2, entries: [{...base, mac: rec.mac}]} as const,
    vid: {format: 1, entries: [base]} as const,
  }[cfg.vdp.filter_format]
  const vm = {name: rec.vmName ?? undefined, uuid: rec.vmUuid ?? undefined, ipv4: rec.ipv4 ?? undefined}
  return {
    managerId: managerIdFromText(cfg.vdp.manager_id),
    typeId: cfg.vdp.type_id,
    typeVersion: cfg.vdp.type_version,
    vsiid,
    filter,
    org: vm.name || vm.ipv4 ? ciscoTlvs(vsiid, vm) : [],
  }
}

/**
 * The VDP side of the daemon: one VdpStation (with its ECP transport and 0x8940 socket) on the current
 * uplink, and per-VSI outcomes the processor can await. Events nobody awaits (keep-alive timeouts, a
 * bridge's De-Associate, a VLAN change) are passed on as notices.
 */
export class VsiManager extends EventEmitter<{notice: [notice: VsiNotice]}> {
  private session?: Session
  private readonly waiters = new Map<string, Waiter>()
  /** VSI key -> port UUID, for notices about VSIs nobody is waiting on. */
  private readonly ports = new Map<string, string>()
  /** Counters of the sessions already closed: a new uplink starts a new session, the totals go on. */
  private readonly retired: VdpTotals = {station: {}, transport: {}}

  /** clock ms at construction: a neighbour last heard before was restored from the database (a previous run). */
  private readonly startedAt: number

  constructor(private readonly deps: VsiManagerDeps) {
    super()
    this.startedAt = deps.clock.now()
  }

  get uplink(): string | undefined {
    return this.session?.ifname
  }

  counters(): {station: Readonly<VdpStationCounters>; transport: Readonly<EcpCounters>} | undefined {
    const s = this.session
    return s ? {station: s.station.counters, transport: s.transport.counters} : undefined
  }

  /** Counters of every session since start (the current one included): they survive an uplink change. */
  totals(): VdpTotals {
    const out: VdpTotals = {station: {...this.retired.station}, transport: {...this.retired.transport}}
    if (this.session) {
      addCounters(out.station, this.session.station.counters)
      addCounters(out.transport, this.session.transport.counters)
    }
    return out
  }

  /**
   * Open the VDP session on `ifname` (closing any other). VDP is held until the bridge's EVB TLV is known
   * (`negotiated`), or [vdp] evb_wait has passed without one (then the configured values are used).
   */
  open(ifname: string, mac: string, negotiated: EvbNegotiated | null | undefined, lldpPort = ifname): void {
    if (this.session?.ifname === ifname) return this.setEvb(negotiated)
    this.close('the uplink changed')
    const cfg = this.deps.config()
    const evb = evbValues(negotiated, cfg)
    const lldpad = cfg.vdp.bridge_profile === 'lldpad'
    let socket: FrameSocket | undefined
    const transport = new EcpTransport({
      clock: this.deps.clock,
      send: (frame) => socket?.send(frame),
      localMac: mac,
      peerMac: NEAREST_CUSTOMER_BRIDGE,
      params: {retries: evb.retries, rte: evb.rte},
      minTxGapMs: lldpad ? LLDPAD_MIN_TX_GAP_MS : 0,
      acceptFrom: this.switchMac(lldpPort, !negotiated),
    })
    socket = this.deps.frames.open(ifname, ETHERTYPE_ECP, {
      multicast: [NEAREST_CUSTOMER_BRIDGE],
      onFrame: (frame) => transport.receive(frame),
      onError: (err) => this.deps.log.debug({ifname, err: err.message}, 'ECP socket error'),
    })
    const station = new VdpStation({
      clock: this.deps.clock,
      transport,
      evb,
      peer: lldpad ? lldpadPeerProfile(evb) : FAST_PEER,
      onEvent: (event) => this.onEvent(event),
      onBridgeSilent: () => this.onBridgeSilent(),
      held: !negotiated,
    })
    const now = this.deps.clock.now()
    const session: Session = {
      ifname,
      lldpPort,
      socket,
      transport,
      station,
      evb: negotiated ? 'negotiated' : 'waiting',
      evbSince: now,
      resyncBackoffMs: RESYNC_FIRST_MS,
      held: negotiated ? null : "waiting for the bridge's EVB TLV",
      bridgeEvb: this.bridgeEvbOn(lldpPort),
    }
    this.session = session
    if (!negotiated) {
      session.evbTimer = this.deps.clock.setTimer(cfg.vdp.evb_wait * 1000, () => this.evbFallback(session))
      this.deps.announceEvb?.(lldpPort)
    }
    this.deps.log.info({ifname, evb, evbState: session.evb, profile: cfg.vdp.bridge_profile}, 'VDP session opened')
  }

  /** What `status` shows about VDP on the uplink. */
  status(): VdpSessionStatus | undefined {
    const s = this.session
    if (!s) return undefined
    return {
      uplink: s.ifname,
      evb: s.evb,
      // The clock's time base is epoch ms (docs/architecture.md); whole ms, so two reads of status agree.
      evbSince: new Date(Math.round(s.evbSince)).toISOString(),
      held: s.held,
      acceptFrom: s.transport.acceptedSource ?? null,
      refusedFrames: s.transport.counters.refusedSource,
      resyncs: s.station.counters.resyncs,
    }
  }

  /**
   * LLDP neighbour changes (the daemon passes them all). On the uplink's port they say the switch restarted
   * or went away: its EVB TLV came back, changed as a restart changes it (`bridgeRestartSign`), or left (shutdown
   * LLDPDU, TTL). Acted on at once: our LLDPDU goes out now, the station re-sends everything, and status stops
   * claiming what is unconfirmed.
   */
  onNeighborEvents(events: readonly NeighborEvent[]): void {
    const s = this.session
    if (!s || !events.some((e) => e.neighbor.ifname === s.lldpPort)) return
    const tlv = this.bridgeEvbOn(s.lldpPort)
    s.transport.acceptOnlyFrom(this.switchMac(s.lldpPort, s.evb !== 'negotiated'))
    const before = s.bridgeEvb
    s.bridgeEvb = tlv
    if (tlv === undefined) {
      if (before === undefined || s.evb !== 'negotiated') return
      // Our own port lost its link (the table forgets what it heard there): the switch did not go away, and
      // still holds the associations; VDP waits for the link, and the uplink service decides about the uplink.
      const ourLinkLost = events.some(
        (e) =>
          e.type === 'removed' &&
          e.neighbor.ifname === s.lldpPort &&
          (e.reason === 'link-down' || e.reason === 'interface-gone'),
      )
      s.held = ourLinkLost
        ? 'the port lost its link; waiting for it to return'
        : 'the bridge withdrew its EVB TLV (shutdown or expiry); waiting for it to return'
      s.station.hold()
      if (ourLinkLost) {
        this.deps.log.info(
          {ifname: s.ifname, port: s.lldpPort},
          'the uplink port lost its link; VDP held until it returns',
        )
        return
      }
      this.deps.log.warn({ifname: s.ifname}, 'the switch went away; VDP held until it returns')
      this.emit('notice', {type: 'bridge-restarted', reason: 'the switch went away (shutdown LLDPDU or TTL expiry)'})
      return
    }
    if (before === undefined) return // its first TLV: setEvb() follows with the negotiated values
    // Not any change: the bridge hearing us changes its TLV too (the echo of our station status).
    const sign = bridgeRestartSign(before, tlv)
    if (sign === undefined) return
    this.deps.log.warn(
      {ifname: s.ifname, sign},
      "the switch's EVB TLV changed: it restarted; re-associating everything",
    )
    this.emit('notice', {type: 'bridge-restarted', reason: `the switch's EVB TLV changed (a restart): ${sign}`})
    this.deps.announceEvb?.(s.lldpPort)
    this.scheduleResync(s, RESYNC_AFTER_LLDP_MS)
  }

  /** The uplink went away: every awaited request fails, the switch will age its associations out. */
  close(reason: string): void {
    const s = this.session
    if (!s) return
    this.session = undefined
    if (s.evbTimer) this.deps.clock.clearTimer(s.evbTimer)
    if (s.resyncTimer) this.deps.clock.clearTimer(s.resyncTimer)
    s.station.close()
    s.transport.close()
    s.socket.close()
    addCounters(this.retired.station, s.station.counters)
    addCounters(this.retired.transport, s.transport.counters)
    for (const w of this.waiters.values()) w.resolve({ok: false, reason, hard: false, interrupted: true})
    this.waiters.clear()
    this.ports.clear()
    this.deps.log.info({ifname: s.ifname, reason}, 'VDP session closed')
  }

  setEvb(negotiated: EvbNegotiated | null | undefined): void {
    const s = this.session
    if (!s) return
    if (!negotiated && s.evb !== 'negotiated') return // still waiting, or running on the fallback values
    const evb = evbValues(negotiated, this.deps.config())
    s.transport.updateParams({retries: evb.retries, rte: evb.rte})
    s.station.setParams(evb)
    if (!negotiated) return // the bridge went away: onNeighborEvents holds VDP
    const was = s.evb
    if (s.evbTimer) this.deps.clock.clearTimer(s.evbTimer)
    s.evbTimer = undefined
    if (was !== 'negotiated') {
      s.evb = 'negotiated'
      s.evbSince = this.deps.clock.now()
      this.deps.log.info({ifname: s.ifname, evb, was}, 'EVB negotiated with the bridge; VDP runs')
    }
    s.transport.acceptOnlyFrom(this.switchMac(s.lldpPort, false))
    if (s.held !== null || was === 'fallback') {
      // The bridge is (back), or speaks EVB at last: make sure it hears our EVB TLV, then (re)send to it.
      s.held = null
      this.deps.announceEvb?.(s.lldpPort)
      if (was === 'waiting') s.station.release()
      else this.scheduleResync(s, RESYNC_AFTER_LLDP_MS)
    }
  }

  /** No EVB TLV within [vdp] evb_wait: run with the configured values (a switch that sends none). */
  private evbFallback(s: Session): void {
    s.evbTimer = undefined
    if (this.session !== s || s.evb !== 'waiting') return
    s.evb = 'fallback'
    s.evbSince = this.deps.clock.now()
    s.held = null
    s.transport.acceptOnlyFrom(this.switchMac(s.lldpPort, true))
    this.deps.log.warn(
      {ifname: s.ifname, waitedS: this.deps.config().vdp.evb_wait},
      'no EVB TLV from the bridge; VDP runs with the configured EVB values',
    )
    s.station.release()
  }

  /** ECP got no ACK for a VDPDU: the switch may have restarted (it ignores ECP until it hears our EVB TLV). */
  private onBridgeSilent(): void {
    const s = this.session
    if (!s || s.resyncTimer) return
    this.deps.log.info(
      {ifname: s.ifname, retryInMs: s.resyncBackoffMs},
      'the switch stopped acknowledging ECP; re-announcing EVB and re-sending',
    )
    this.deps.announceEvb?.(s.lldpPort)
    this.scheduleResync(s, s.resyncBackoffMs)
    s.resyncBackoffMs = Math.min(RESYNC_MAX_MS, s.resyncBackoffMs * 2)
  }

  private scheduleResync(s: Session, delayMs: number): void {
    if (s.resyncTimer) this.deps.clock.clearTimer(s.resyncTimer)
    s.resyncTimer = this.deps.clock.setTimer(delayMs, () => {
      s.resyncTimer = undefined
      if (this.session !== s) return
      s.station.resync()
      if (s.held === null) s.station.release()
    })
  }

  /**
   * The MAC ECP/VDP is taken from: the EVB bridge neighbour on the port; without EVB (fallback or waiting),
   * the most recent LLDP neighbour there; none known: undefined (any source, shown in status).
   */
  private switchMac(port: string, anyNeighbor: boolean): string | undefined {
    const heard = (this.deps.neighborsOn?.(port) ?? []).sort((a, b) => b.lastSeen - a.lastSeen)
    const bridge = heard.find(isEvbBridgeNeighbor) ?? (anyNeighbor ? heard[0] : undefined)
    return bridge?.srcMac
  }

  /**
   * The EVB TLV of the bridge this run last heard on the port, to tell its restarts. Not one restored from the
   * database: it echoes our previous run, which a stopping daemon ends with its shutdown LLDPDU (the bridge's
   * next TLV echoes nothing, and that is no restart of the bridge).
   */
  private bridgeEvbOn(port: string): EvbTlv | undefined {
    const bridge = (this.deps.neighborsOn?.(port) ?? [])
      .filter(isEvbBridgeNeighbor)
      .sort((a, b) => b.lastSeen - a.lastSeen)[0]
    if (!bridge?.evb || bridge.lastSeen < this.startedAt) return undefined
    return {...bridge.evb} // a copy: what it was, whatever happens to the record
  }

  /** Associate one VM port; resolves when the switch answered (or the exchange failed). */
  associate(rec: VdpPort): Promise<VsiOutcome> {
    return this.associateMany([rec])[0]
  }

  /** Associate many at once: the station packs their TLVs into as few ECPDUs as fit. */
  associateMany(recs: readonly VdpPort[]): Promise<VsiOutcome>[] {
    const s = this.session
    if (!s) return recs.map(() => Promise.resolve({ok: false as const, reason: 'no uplink', hard: false}))
    const cfg = this.deps.config()
    const outcomes = recs.map((rec) => this.await(vsiidKey(this.vsiidOf(rec, cfg)), 'assoc', rec.portUuid))
    const requests = recs.map((rec) => vsiRequestFor(rec, cfg, requestedVid(rec, s.ifname)))
    // A VSI sent to a switch before, which this station does not hold (a restart, a failure, another uplink),
    // and whose request would differ from what the switch may hold: a VLAN we never learned (a crash before
    // the answer), or another VLAN than the one recorded. A strict switch ignores such a request (lldpad).
    // End that life first with the VLAN it has (0 when unknown); the association follows the answer.
    requests.forEach((req, i) => {
      const rec = recs[i]
      if (rec.uplink === null || s.station.get(req.vsiid)) return
      const asked = req.filter.entries[0]?.vid ?? 0
      const held = rec.vdpVlan ?? 0
      if (asked !== 0 && asked === held) return
      try {
        s.station.deassociateRequest(vsiRequestFor(rec, cfg, held))
      } catch {
        // table full: the association below reports it
      }
    })
    const {accepted, rejected} = s.station.associateMany(requests)
    for (const r of rejected) this.settle(vsiidKey(r.input.vsiid), {ok: false, reason: r.error.message, hard: true})
    // An identical association already in place produces no exchange: it stands as it is.
    for (const view of accepted) {
      if (view.state === 'associated' && !view.pending) this.settle(view.key, {ok: true, vid: view.vids[0] ?? null})
      else if (s.held !== null)
        this.settle(view.key, {ok: false, reason: `VDP is held: ${s.held}`, hard: false, deferred: true})
    }
    return outcomes
  }

  /** De-associate one VM port; resolves when the switch confirmed it (or it is gone anyway). */
  deassociate(rec: VdpPort): Promise<VsiOutcome> {
    const s = this.session
    if (!s) return Promise.resolve({ok: false, reason: 'no uplink', hard: false})
    const cfg = this.deps.config()
    const vsiid = this.vsiidOf(rec, cfg)
    const key = vsiidKey(vsiid)
    const outcome = this.await(key, 'deassoc', rec.portUuid)
    let view
    try {
      // A VSI this run never associated may still be held by the switch (a restart): de-associate it with
      // the VLAN it holds, whatever the uplink it was recorded on.
      view = s.station.deassociateRequest(vsiRequestFor(rec, cfg, requestedVid(rec, undefined)))
    } catch (err) {
      this.settle(key, {ok: false, reason: errorMessage(err), hard: false})
      return outcome
    }
    // The station does not know it (never associated here): nothing to tell the switch.
    if (!view) this.settle(key, {ok: true, vid: null})
    else if (s.held !== null)
      this.settle(key, {ok: false, reason: `VDP is held: ${s.held}`, hard: false, deferred: true})
    return outcome
  }

  private vsiidOf(rec: Pick<VdpPort, 'portUuid' | 'mac'>, cfg: AgentConfig): Vsiid {
    return cfg.vdp.vsiid_format === 'mac' ? macVsiid(rec.mac) : uuidVsiid(rec.portUuid)
  }

  private await(key: string, op: 'assoc' | 'deassoc', portUuid: string): Promise<VsiOutcome> {
    // A newer request for the same VSI supersedes the older one's wait.
    this.settle(key, {ok: false, reason: 'superseded by a newer request', hard: false})
    this.ports.set(key, portUuid)
    const since = this.deps.clock.now()
    return new Promise((resolve) => this.waiters.set(key, {op, portUuid, since, resolve}))
  }

  private settle(key: string, outcome: VsiOutcome): boolean {
    const w = this.waiters.get(key)
    if (!w) return false
    this.waiters.delete(key)
    w.resolve(outcome)
    return true
  }

  private onEvent(e: VsiEvent): void {
    const waiter = this.waiters.get(e.key)
    const portUuid = waiter?.portUuid ?? this.ports.get(e.key)
    switch (e.type) {
      case 'associated':
        if (waiter?.op === 'assoc') {
          this.deps.observer?.answered('assoc', (this.deps.clock.now() - waiter.since) / 1000)
          this.settle(e.key, {ok: true, vid: e.vids[0] || null})
        } else if (portUuid) this.emit('notice', {type: 'confirmed', portUuid, vid: e.vids[0] || null})
        if (this.session) this.session.resyncBackoffMs = RESYNC_FIRST_MS
        return
      case 'vlan-changed':
        if (portUuid)
          this.emit('notice', {type: 'vlan-changed', portUuid, from: e.from[0] ?? null, to: e.to[0] ?? null})
        return
      case 'deassociated':
        if (waiter?.op === 'deassoc' && e.initiator === 'station')
          this.deps.observer?.answered('deassoc', (this.deps.clock.now() - waiter.since) / 1000)
        // Our clean-up De-Associate before an association (associateMany): the association follows.
        if (waiter?.op === 'assoc' && e.initiator === 'station') return
        if (!waiter && portUuid && e.initiator === 'station') this.emit('notice', {type: 'deassociated', portUuid})
        if (waiter)
          this.settle(
            e.key,
            waiter.op === 'deassoc'
              ? {ok: true, vid: null}
              : {ok: false, reason: `the switch de-associated it: ${e.text}`, hard: false},
          )
        else if (portUuid && e.initiator === 'bridge')
          this.emit('notice', {type: 'lost', portUuid, reason: `de-associated by the switch: ${e.text}`, hard: false})
        this.ports.delete(e.key)
        return
      case 'failed':
        this.deps.observer?.failed(e.operation, e.reason, e.code)
        if (e.state !== 'removed') {
          this.deps.log.warn(
            {vsi: e.key, operation: e.operation, text: e.text, keep: e.keep},
            'VDP exchange failed; the association stands',
          )
          return
        }
        if (waiter?.op === 'assoc' && e.operation === 'deassoc') return // the clean-up De-Associate: the association follows
        if (waiter) {
          const unanswered = e.reason === 'timeout'
          this.settle(
            e.key,
            waiter.op === 'deassoc' && !unanswered
              ? {ok: true, vid: null}
              : {ok: false, reason: e.text, hard: e.hard, code: e.code, unanswered},
          )
        } else if (portUuid)
          this.emit('notice', {
            type: 'lost',
            portUuid,
            reason: e.text,
            hard: e.hard,
            unanswered: e.reason === 'timeout',
          })
        this.ports.delete(e.key)
        return
      case 'preassociated':
        return
    }
  }
}
