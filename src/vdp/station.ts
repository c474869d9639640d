/**
 * VdpStation: the station side of VDP22 for many VSIs on one uplink (802.1Qbg-2012 cl. 41; docs/wire-notes.md
 * from §VDPDU on).
 *
 * Per VSI a small state machine (docs/vdp.md has the diagram):
 *
 *   associating / preassociating ──response ok──► associated / preassociated ──T(RKA)──► keep-alive ─┐
 *          │            ▲                                  │   ▲                                      │
 *          │            └── a new local request ───────────┘   └──────── response ok ◄─────────────────┘
 *          └─ error / timeout / bridge De-Associate ──► removed (exactly one terminal event)
 *   deassociate() ──► deassociating ──response──► removed
 *
 * What the station adds over lldpad's per-VSI machine:
 * - Batching: pending VSI TLVs (each with its org TLVs) share ECPDUs up to the MTU, one Manager ID TLV per
 *   VDPDU; 4,000 VSIs take ≈ 4,000 / k ECPDUs, not 4,000 round trips. Keep-alives batch the same way because
 *   their deadlines are rounded down to a slot of T(RKA)/32.
 * - One deadline list (DeadlineQueue) for every response and keep-alive deadline; no per-VSI timers.
 * - A VLAN the bridge changes is adopted and reported (`vlan-changed`), where lldpad tears the VSI down.
 * - A local request for a VSI whose previous request is still on the wire waits in a one-slot mailbox
 *   (newest wins) instead of failing with EBUSY.
 *
 * Pure: VDPDUs in through the EcpTransport handler, out through the transport; time from the clock.
 */
import type {Clock} from '../core/clock.js'
import {ECP_SUBTYPE_VDP, ulpduBudget} from './ecp-codec.js'
import type {EcpTransport} from './ecp-transport.js'
import {DeadlineQueue} from '../core/deadline-queue.js'
import {formatMs, VdpStationError} from './errors.js'
import {managerIdText} from './manager-id.js'
import {FAST_PEER, type PeerProfile} from './peer-profile.js'
import {matchResponse} from './response-match.js'
import {
  decodeVdpdu,
  encodeTlv,
  groupVsiTlvs,
  vsiTlvLength,
  type VsiMode,
  type VsiTlv,
  type VsiTlvGroup,
} from './vdp-codec.js'
import {VdpduPacker, type PackableVsi} from './vdpdu-packer.js'
import type {VsiFilter} from './vsi-filter.js'
import {
  describeRequest,
  filterSatisfies,
  normalizeRequest,
  requestTlv,
  sameFilterLayout,
  sameIdentity,
  type NormalizedRequest,
  type VsiRequest,
} from './vsi-request.js'
import {describeResponseError, vdpErrorText} from './vsi-status.js'
import {evbTime, respWaitDelay, toutKeepAlive, validateEvbParams} from './timers.js'
import {vsiidKey, type Vsiid} from './vsiid.js'
import type {EvbValues} from '../model/evb.js'

export type StationVsiState = 'associating' | 'preassociating' | 'associated' | 'preassociated' | 'deassociating'
export type EstablishedMode = 'assoc' | 'preassoc' | 'preassoc-rr'
export type VsiOperation = EstablishedMode | 'deassoc' | 'keepalive'
/** rejected: the bridge answered with an error code · timeout: no answer within respWaitDelay ·
 * mismatch: the answer's filter (MAC, group, entry count) differs from the request ·
 * local: the station could not carry out a request it had deferred (table full, or no longer allowed). */
export type FailureReason = 'rejected' | 'timeout' | 'mismatch' | 'local'

interface EventBase {
  readonly key: string
  readonly vsiid: Vsiid
  /** clock time of the event, ms */
  readonly at: number
}

export type VsiEvent =
  /** The bridge confirmed an (pre-)association; `vids` per filter entry as the bridge assigned them. */
  | (EventBase & {
      readonly type: 'associated' | 'preassociated'
      readonly mode: EstablishedMode
      readonly filter: VsiFilter
      readonly vids: number[]
      /** VIDs as requested (0 = the bridge chooses); differing non-zero values mean the bridge overrode them. */
      readonly requestedVids: number[]
    })
  /** A keep-alive response carried other VIDs: adopted (lldpad would tear the VSI down instead). */
  | (EventBase & {
      readonly type: 'vlan-changed'
      readonly filter: VsiFilter
      readonly from: number[]
      readonly to: number[]
    })
  /** Terminal. initiator 'station': our De-Associate was confirmed or withdrawn before sending;
   * 'bridge': an unsolicited De-Associate, or a De-Associate answer to another request. */
  | (EventBase & {
      readonly type: 'deassociated'
      readonly initiator: 'station' | 'bridge'
      /** Reason nibble of a bridge-initiated De-Associate (lldpad sends 0). */
      readonly reasonCode?: number
      readonly text: string
    })
  /** An operation failed. Terminal when `state` is 'removed'; with Keep the VSI stays in `state`. */
  | (EventBase & {
      readonly type: 'failed'
      readonly operation: VsiOperation
      readonly reason: FailureReason
      /** Bridge error code 0–15 (rejected, mismatch = 5). */
      readonly code?: number
      readonly hard: boolean
      readonly keep: boolean
      readonly text: string
      readonly state: StationVsiState | 'removed'
    })

export interface VsiView {
  readonly key: string
  readonly vsiid: Vsiid
  readonly managerId: string
  readonly typeId: number
  readonly typeVersion: number
  readonly state: StationVsiState
  /** What goes on the wire next or is on it: the assigned VIDs once the bridge confirmed them. */
  readonly filter: VsiFilter
  readonly vids: number[]
  /** The operation queued or awaiting its response, if any. */
  readonly operation?: VsiOperation
  readonly pending?: 'queued' | 'awaiting-response'
  /** A newer local request waiting for the one on the wire to be answered. */
  readonly deferred?: VsiOperation
  /** clock time the VSI entered `state` */
  readonly since: number
  /** Response deadline or next keep-alive, clock time. */
  readonly deadline?: number
}

export interface BulkResult<T> {
  readonly accepted: VsiView[]
  readonly rejected: {readonly input: T; readonly error: VdpStationError}[]
}

export interface VdpStationCounters {
  pdusSent: number
  vsiTlvsSent: number
  keepalivesSent: number
  responses: number
  /** VSI TLVs for no VSI of ours (other manager/type/VSIID or already gone). */
  unmatched: number
  /** Responses when nothing was awaited, e.g. after a timeout. */
  staleResponses: number
  ignoredRequests: number
  malformedPdus: number
  timeouts: number
  rejections: number
  mismatches: number
  bridgeDeassociations: number
  vlanChanges: number
  /** Exceptions thrown by the event listener (caught so one bad listener cannot stall every VSI). */
  listenerErrors: number
  /** resync() calls: the bridge restarted or stopped answering, everything was re-sent. */
  resyncs: number
  /** VSI TLVs sent again by resync() while their first request was unanswered. */
  resent: number
}

export interface VdpStationOptions {
  readonly clock: Clock
  /** The station registers itself as the VDP (subtype 1) receiver. */
  readonly transport: EcpTransport
  /** Negotiated EVB values; update with setParams(). */
  readonly evb: EvbValues
  /** Default 1500; the ULPDU budget is MTU − 6 (ECP header, End TLV). */
  readonly mtu?: number
  readonly peer?: PeerProfile
  /** Bound on VSIs (and so on every internal queue). Default 16384. */
  readonly maxVsis?: number
  readonly onEvent?: (event: VsiEvent) => void
  /**
   * ECP gave up on one of our VDPDUs (no ACK after 1 + R transmissions): the bridge is not listening, e.g.
   * it restarted and ignores ECP until it hears our EVB TLV again. The owner re-announces EVB and calls
   * resync(). The VSIs keep their response deadlines meanwhile.
   */
  readonly onBridgeSilent?: () => void
  /** Start held: nothing goes on the wire until release() (VDP waits for the EVB exchange). */
  readonly held?: boolean
}

type Deferred = {readonly op: EstablishedMode; readonly request: NormalizedRequest} | {readonly op: 'deassoc'}

interface PduOnWire {
  unanswered: number
  /** The bridge has parsed it (an answer came, or the peer's parse grace passed after the ACK). */
  parsed: boolean
}

const MODE_RANK: Readonly<Record<EstablishedMode, number>> = {preassoc: 1, 'preassoc-rr': 2, assoc: 3}

class StationVsi implements PackableVsi {
  state: StationVsiState
  op: VsiOperation
  /** TLV type to send for `op`. */
  mode: VsiMode
  filter: VsiFilter
  /** The last state the bridge confirmed: where Keep returns to, what keep-alives repeat. */
  confirmed: {mode: EstablishedMode; filter: VsiFilter} | undefined
  queued = false
  queueToken = 0
  inFlight = false
  pdu: PduOnWire | undefined
  /** Counts transmissions, so a late ECP callback can tell whether it is about the current one. */
  txCount = 0
  sent = false
  ecpFailure: string | undefined
  deferred: Deferred | undefined
  /** resync() asked the bridge to confirm it again: the answer is reported as `associated` once more. */
  resyncing = false
  /** Transmissions of the current request beyond the first (resync): the bridge may answer each. */
  resends = 0
  /** De-Associate answers still to come for the previous life's re-sent De-Associate: not about this life. */
  lateDeassocAnswers = 0
  removed = false
  since: number
  private encodedCache: Buffer | undefined

  constructor(
    public request: NormalizedRequest,
    op: EstablishedMode,
    now: number,
  ) {
    this.op = op
    this.mode = op
    this.state = op === 'assoc' ? 'associating' : 'preassociating'
    this.filter = request.filter
    this.since = now
  }

  get key(): string {
    return this.request.key
  }
  get managerKey(): string {
    return this.request.managerKey
  }
  get managerId(): Buffer {
    return this.request.managerId
  }

  /** VSI TLV + org TLVs as they go on the wire now. */
  encoded(): Buffer {
    this.encodedCache ??= Buffer.concat([
      encodeTlv(requestTlv(this.request, this.mode, this.filter)),
      this.request.orgBytes,
    ])
    return this.encodedCache
  }

  invalidate(): void {
    this.encodedCache = undefined
  }
}

export class VdpStation {
  private readonly clock: Clock
  private readonly transport: EcpTransport
  private readonly peer: PeerProfile
  private readonly maxVsis: number
  private readonly table = new Map<string, StationVsi>()
  /** VSIs whose De-Associate the bridge confirmed but may still hold (PeerProfile.deassocLingerMs). */
  private readonly lingering = new Map<string, {filter: VsiFilter; until: number}>()
  private readonly packer: VdpduPacker<StationVsi>
  private readonly deadlines: DeadlineQueue<StationVsi>
  private evb: EvbValues
  private listener: (event: VsiEvent) => void
  private pduOnWire = false
  /** VDPDUs not yet known to be parsed by the bridge (PeerProfile.maxPdusAwaitingResponse). */
  private pdusAwaiting = 0
  /** VSIs whose request is on the wire and unanswered (PeerProfile.maxVsisAwaitingResponse). */
  private vsisAwaiting = 0
  private bulk = false
  private closed = false
  private held: boolean
  private readonly onBridgeSilent: () => void
  private readonly stats: VdpStationCounters = {
    pdusSent: 0,
    vsiTlvsSent: 0,
    keepalivesSent: 0,
    responses: 0,
    unmatched: 0,
    staleResponses: 0,
    ignoredRequests: 0,
    malformedPdus: 0,
    timeouts: 0,
    rejections: 0,
    mismatches: 0,
    bridgeDeassociations: 0,
    vlanChanges: 0,
    listenerErrors: 0,
    resyncs: 0,
    resent: 0,
  }

  constructor(options: VdpStationOptions) {
    validateEvbParams(options.evb)
    this.clock = options.clock
    this.transport = options.transport
    this.evb = options.evb
    this.peer = options.peer ?? FAST_PEER
    this.maxVsis = options.maxVsis ?? 16384
    this.listener = options.onEvent ?? (() => {})
    this.onBridgeSilent = options.onBridgeSilent ?? (() => {})
    this.held = options.held ?? false
    this.packer = new VdpduPacker<StationVsi>({budget: ulpduBudget(options.mtu ?? 1500), endTlv: this.peer.endTlv})
    this.deadlines = new DeadlineQueue<StationVsi>(this.clock, (due) => this.onDeadlines(due))
    this.transport.onReceive(ECP_SUBTYPE_VDP, (ulpdu) => this.onVdpdu(ulpdu))
  }

  // ── public API ────────────────────────────────────────────────────────────────────────────────────────

  /** Associate a VSI (VID 0 entries: the bridge assigns). Idempotent for a VSI already (being) associated
   * with a compatible filter. Throws VdpStationError; the outcome arrives as an event. */
  associate(request: VsiRequest): VsiView {
    return this.submit('assoc', request)
  }

  preassociate(request: VsiRequest, options: {rr?: boolean} = {}): VsiView {
    return this.submit(options.rr ? 'preassoc-rr' : 'preassoc', request)
  }

  /** De-associate with the VIDs the bridge assigned. Returns undefined when the VSI was withdrawn before
   * anything was sent (its `deassociated` event has been emitted already). */
  deassociate(vsiid: Vsiid): VsiView | undefined {
    this.checkOpen()
    const rec = this.table.get(vsiidKey(vsiid))
    if (rec === undefined) {
      throw new VdpStationError('VSI_UNKNOWN', `VSI ${vsiidKey(vsiid)} is not known to the station; nothing sent`)
    }
    this.startDeassociate(rec)
    return rec.removed ? undefined : this.view(rec)
  }

  /**
   * De-associate a VSI this station may not hold (a restarted station ending a VSI its previous run left at
   * the bridge): a known VSI is de-associated as by deassociate(); an unknown one gets a De-Associate built
   * from `request`, whose filter must carry the VIDs the bridge holds (lldpad ignores any other filter). The
   * outcome is a `deassociated` event, or `failed` (timeout, rejection).
   */
  deassociateRequest(request: VsiRequest): VsiView | undefined {
    this.checkOpen()
    const normalized = normalizeRequest(request)
    if (this.table.has(normalized.key)) return this.deassociate(request.vsiid)
    if (this.table.size >= this.maxVsis) {
      throw new VdpStationError(
        'VSI_TABLE_FULL',
        `the station already holds ${this.maxVsis} VSIs; ${normalized.key} refused`,
      )
    }
    const rec = new StationVsi(normalized, 'assoc', this.clock.now())
    rec.op = 'deassoc'
    rec.mode = 'deassoc'
    rec.state = 'deassociating'
    this.table.set(normalized.key, rec)
    this.enqueue(rec)
    return this.view(rec)
  }

  /**
   * The bridge restarted (its EVB TLV came back or changed) or stopped acknowledging: it may have lost every
   * VSI. Send every established VSI's keep-alive now, and every unanswered request again (its response
   * deadline stands, so a bridge that stays silent still fails it in time). The bridge's ECP sequence
   * counter restarted too. Held stations only mark the work; it goes out at release().
   */
  resync(): void {
    if (this.closed) return
    this.stats.resyncs++
    this.transport.resetReceiver()
    this.bulk = true
    try {
      for (const rec of this.table.values()) {
        if (rec.confirmed !== undefined) rec.resyncing = true
        if (rec.queued) continue
        if (rec.inFlight) {
          this.stats.resent++
          rec.resends++
          this.enqueue(rec)
        } else if (rec.confirmed !== undefined && isEstablished(rec.state)) {
          this.deadlines.cancel(rec)
          this.enqueueKeepalive(rec, rec.confirmed)
        }
      }
    } finally {
      this.bulk = false
    }
    this.pump()
  }

  /** Send nothing until release(): VDP waits for the EVB exchange (or the bridge went away). */
  hold(): void {
    this.held = true
  }

  release(): void {
    if (!this.held) return
    this.held = false
    this.pump()
  }

  get isHeld(): boolean {
    return this.held
  }

  associateMany(requests: readonly VsiRequest[]): BulkResult<VsiRequest> {
    return this.inBulk(requests, (r) => this.associate(r))
  }

  preassociateMany(requests: readonly VsiRequest[], options: {rr?: boolean} = {}): BulkResult<VsiRequest> {
    return this.inBulk(requests, (r) => this.preassociate(r, options))
  }

  deassociateMany(vsiids: readonly Vsiid[]): BulkResult<Vsiid> {
    return this.inBulk(vsiids, (v) => this.deassociate(v))
  }

  get(vsiid: Vsiid): VsiView | undefined {
    const rec = this.table.get(vsiidKey(vsiid))
    return rec && this.view(rec)
  }

  list(): VsiView[] {
    return [...this.table.values()].map((rec) => this.view(rec))
  }

  get size(): number {
    return this.table.size
  }

  get counters(): Readonly<VdpStationCounters> {
    return {...this.stats}
  }

  get params(): EvbValues {
    return this.evb
  }

  /** EVB renegotiated: new deadlines use the new values; the transport gets the new R and RTE. */
  setParams(evb: EvbValues): void {
    validateEvbParams(evb)
    this.evb = evb
    this.transport.updateParams({retries: evb.retries, rte: evb.rte})
  }

  setListener(listener: (event: VsiEvent) => void): void {
    this.listener = listener
  }

  /** Stop all deadlines and forget every VSI, without events (the uplink is gone). */
  close(): void {
    this.closed = true
    this.deadlines.close()
    for (const rec of this.table.values()) rec.removed = true
    this.table.clear()
  }

  // ── local requests ────────────────────────────────────────────────────────────────────────────────────

  private submit(op: EstablishedMode, raw: VsiRequest): VsiView {
    this.checkOpen()
    const request = normalizeRequest(raw)
    const groupLength = vsiTlvLength(request.filter) + request.orgBytes.length
    if (groupLength > this.packer.maxGroupLength) {
      throw new VdpStationError(
        'VSI_TOO_LARGE',
        `${describeRequest(request)} needs ${groupLength} octets, more than one ECPDU holds (${this.packer.maxGroupLength})`,
      )
    }
    return this.view(this.decide(op, request))
  }

  /** What a (pre-)association request means for the VSI as it stands; shared by fresh and deferred requests. */
  private decide(op: EstablishedMode, request: NormalizedRequest): StationVsi {
    const rec = this.table.get(request.key)
    if (rec === undefined) return this.create(op, request)
    if (this.isSatisfied(rec, op, request)) {
      rec.deferred = undefined // the newest wish is what is already there
      return rec
    }
    const sameVsi = sameIdentity(rec.request, request)
    const current = rec.state === 'deassociating' ? undefined : rec.op === 'keepalive' ? rec.confirmed?.mode : rec.op
    if (sameVsi && current !== undefined && current !== 'deassoc' && MODE_RANK[op] < MODE_RANK[current]) {
      throw new VdpStationError(
        'VSI_INVALID_TRANSITION',
        `${describeRequest(request)} is ${rec.state}; going back from ${current} to ${op} is not allowed (as in lldpad)`,
      )
    }
    if (rec.inFlight || rec.state === 'deassociating') {
      rec.deferred = {op, request}
      return rec
    }
    // Another non-zero VID than the bridge confirmed: lldpad's bridge ignores such a request too.
    const confirmedVids = rec.confirmed?.filter.entries
    const vidChange =
      sameVsi &&
      confirmedVids !== undefined &&
      request.filter.entries.some((e, i) => e.vid !== 0 && e.vid !== confirmedVids[i]?.vid)
    if ((!sameVsi || vidChange) && (rec.sent || rec.confirmed !== undefined)) {
      // Manager, type, filter (MACs, groups, VIDs) are fixed for a VSI's life at the bridge (lldpad's bridge
      // ignores a known VSI with another filter): end the old life first, then start the new one.
      this.startDeassociate(rec)
      rec.deferred = {op, request}
      return rec
    }
    this.start(rec, op, request)
    return rec
  }

  private create(op: EstablishedMode, request: NormalizedRequest): StationVsi {
    if (this.table.size >= this.maxVsis) {
      throw new VdpStationError(
        'VSI_TABLE_FULL',
        `the station already holds ${this.maxVsis} VSIs; ${request.key} refused`,
      )
    }
    const rec = new StationVsi(request, op, this.clock.now())
    this.table.set(request.key, rec)
    const wait = this.lingerWait(request)
    if (wait > 0) {
      // The bridge still holds the old life and would ignore this filter (lldpad): send once it let go.
      this.clock.setTimer(wait, () => {
        if (!this.closed && !rec.removed && !rec.sent && !rec.queued) this.enqueue(rec)
      })
    } else this.enqueue(rec)
    return rec
  }

  /** How long a new life must wait because the bridge still holds a de-associated one with another filter. */
  private lingerWait(request: NormalizedRequest): number {
    const old = this.lingering.get(request.key)
    if (old === undefined) return 0
    const left = old.until - this.clock.now()
    if (left <= 0) {
      this.lingering.delete(request.key)
      return 0
    }
    const same =
      sameFilterLayout(request.filter, old.filter) &&
      request.filter.entries.every((e, i) => e.vid === old.filter.entries[i].vid)
    return same ? 0 : left
  }

  private noteLinger(rec: StationVsi): void {
    const linger = this.peer.deassocLingerMs ?? 0
    if (linger <= 0) return
    const now = this.clock.now()
    if (this.lingering.size >= this.maxVsis)
      for (const [key, l] of this.lingering) if (l.until <= now) this.lingering.delete(key)
    if (this.lingering.size < this.maxVsis) this.lingering.set(rec.key, {filter: rec.filter, until: now + linger})
  }

  /** Nothing to send: the VSI is (becoming) exactly what is asked. */
  private isSatisfied(rec: StationVsi, op: EstablishedMode, request: NormalizedRequest): boolean {
    if (rec.state === 'deassociating' || !sameIdentity(rec.request, request)) return false
    const target = rec.op === 'keepalive' ? rec.confirmed?.mode : rec.op
    return (
      target === op &&
      filterSatisfies(request.filter, rec.filter) &&
      request.orgBytes.equals(rec.request.orgBytes) &&
      request.status.kind === 'request' &&
      rec.request.status.kind === 'request' &&
      request.status.migratingTo === rec.request.status.migratingTo &&
      request.status.migratingFrom === rec.request.status.migratingFrom
    )
  }

  private start(rec: StationVsi, op: EstablishedMode, request: NormalizedRequest): void {
    rec.request = request
    rec.op = op
    rec.mode = op
    rec.filter = withAssignedVids(request.filter, rec.confirmed?.filter)
    this.enterState(rec, op === 'assoc' ? 'associating' : 'preassociating')
    rec.invalidate()
    this.deadlines.cancel(rec) // no keep-alive while a new request is pending
    this.enqueue(rec)
  }

  private startDeassociate(rec: StationVsi): void {
    if (rec.state === 'deassociating') {
      rec.deferred = undefined
      return
    }
    if (rec.inFlight) {
      rec.deferred = {op: 'deassoc'}
      return
    }
    if (!rec.sent && rec.confirmed === undefined) {
      this.remove(rec)
      this.emit(rec, {type: 'deassociated', initiator: 'station', text: 'withdrawn before anything was sent'})
      return
    }
    rec.op = 'deassoc'
    rec.mode = 'deassoc'
    rec.filter = rec.confirmed?.filter ?? rec.filter
    rec.deferred = undefined
    this.enterState(rec, 'deassociating')
    rec.invalidate()
    this.deadlines.cancel(rec)
    this.enqueue(rec)
  }

  private applyDeferred(rec: StationVsi): void {
    const next = rec.deferred
    if (next === undefined) return
    rec.deferred = undefined
    if (rec.removed) {
      // The VSI ended (and its terminal event went out). A deferred De-Associate is thereby done; a deferred
      // (pre-)association starts a new life.
      if (next.op !== 'deassoc' && !this.table.has(rec.key)) {
        const startNewLife = () => {
          if (this.closed || this.table.has(rec.key)) return // a newer request took over meanwhile
          try {
            const created = this.create(next.op, next.request)
            if (rec.op === 'deassoc') created.lateDeassocAnswers = rec.resends
          } catch (error) {
            this.emitFailure(rec, next.op, 'local', (error as Error).message, {state: 'removed'})
          }
        }
        startNewLife()
      }
      return
    }
    if (next.op === 'deassoc') {
      this.startDeassociate(rec)
      return
    }
    try {
      this.decide(next.op, next.request)
    } catch (error) {
      // E.g. a deferred Pre-Associate after the Associate it waited for succeeded.
      this.emitFailure(rec, next.op, 'local', (error as Error).message, {state: rec.state})
    }
  }

  // ── transmission ──────────────────────────────────────────────────────────────────────────────────────

  private enqueue(rec: StationVsi): void {
    if (!rec.queued) {
      rec.queued = true
      rec.queueToken++
      this.packer.push(rec)
    }
    if (!this.bulk) this.pump()
  }

  /** Hand the next VDPDU to ECP when none of ours is on the wire and the peer's window allows. */
  private pump(): void {
    const maxAwaiting = this.peer.maxVsisAwaitingResponse ?? Infinity
    while (!this.closed && !this.held && !this.pduOnWire && this.pdusAwaiting < this.peer.maxPdusAwaitingResponse) {
      const packed = this.packer.take(Math.min(this.peer.maxVsisPerPdu, maxAwaiting - this.vsisAwaiting), (rec) =>
        rec.encoded(),
      )
      if (packed === undefined) return
      const pdu: PduOnWire = {unanswered: packed.items.length, parsed: false}
      const now = this.clock.now()
      const sent: [StationVsi, number][] = []
      for (const rec of packed.items) {
        rec.queued = false
        if (rec.inFlight) {
          // resync(): sent again, its response deadline stands; it now belongs to this VDPDU.
          this.leavePdu(rec)
        } else {
          rec.inFlight = true
          rec.resends = 0
          this.vsisAwaiting++
          this.deadlines.schedule(rec, now + this.responseWait(rec.op))
        }
        rec.sent = true
        rec.pdu = pdu
        rec.ecpFailure = undefined
        sent.push([rec, ++rec.txCount])
        if (rec.op === 'keepalive') this.stats.keepalivesSent++
      }
      this.pdusAwaiting++
      this.stats.pdusSent++
      this.stats.vsiTlvsSent += packed.items.length
      this.pduOnWire = true
      try {
        this.transport.enqueue(ECP_SUBTYPE_VDP, packed.ulpdu, (error) => {
          this.pduOnWire = false
          if (error) {
            // Nothing to parse, or (only the ACKs lost) parsed long ago: it holds nothing back.
            this.markParsed(pdu)
            this.noteEcpFailure(sent, error.message)
            // Silent only if nothing at all came from the bridge meanwhile (else just ACKs were lost).
            if (!this.closed && this.transport.lastReceivedAt < now) this.onBridgeSilent()
          } else this.afterAck(pdu)
          this.pump()
        })
      } catch (error) {
        // Refused at once (transport closed): nothing reached the wire.
        this.pduOnWire = false
        this.markParsed(pdu)
        this.noteEcpFailure(sent, (error as Error).message)
      }
    }
  }

  /** ECP delivered the VDPDU: it stops holding others back once the peer has had time to parse it. */
  private afterAck(pdu: PduOnWire): void {
    const grace = this.peer.parseGraceMs ?? 0
    if (pdu.parsed) return
    if (grace <= 0) {
      this.markParsed(pdu)
      return
    }
    this.clock.setTimer(grace, () => {
      if (this.closed || pdu.parsed) return
      this.markParsed(pdu)
      this.pump()
    })
  }

  private markParsed(pdu: PduOnWire): void {
    if (pdu.parsed) return
    pdu.parsed = true
    this.pdusAwaiting--
  }

  /** A VSI of this VDPDU was answered, timed out or re-sent elsewhere. */
  private leavePdu(rec: StationVsi): void {
    const pdu = rec.pdu
    rec.pdu = undefined
    if (pdu === undefined) return
    if (--pdu.unanswered === 0) this.markParsed(pdu)
  }

  /**
   * How long a request waits for its answer: respWaitDelay (41.5.5.9), but for a keep-alive at most half of
   * what the bridge's keep-alive timer leaves after T(RKA), (toutKeepAlive − T(RKA)) / 2: an unanswered
   * keep-alive is noticed, and the VSI re-associated, well before the bridge drops it. A keep-alive needs no
   * resources, so the bridge's T(RWD) does not bound it. At lldpad's defaults 2.63 s instead of 15.76 s
   * (= toutKeepAlive); for a Cisco leaf 336 s instead of 505 s. Not for a slow peer (fullKeepaliveWait: lldpad
   * answers one VSI per T(RTE), so a batch of keep-alives needs the full respWaitDelay).
   */
  private responseWait(op: VsiOperation): number {
    const {retries, rte, rwd} = this.evb
    const wait = respWaitDelay(retries, rte, rwd)
    return op === 'keepalive' && !this.peer.fullKeepaliveWait ? Math.min(wait, keepaliveWait(this.evb)) : wait
  }

  /** The VSIs stay in flight: a response may still come if only the ACKs were lost. The reason text says. */
  private noteEcpFailure(sent: [StationVsi, number][], message: string): void {
    for (const [rec, tx] of sent) {
      if (rec.inFlight && rec.txCount === tx) rec.ecpFailure = message
    }
  }

  // ── deadlines ─────────────────────────────────────────────────────────────────────────────────────────

  private onDeadlines(due: StationVsi[]): void {
    this.bulk = true
    try {
      for (const rec of due) {
        if (rec.removed) continue
        if (rec.inFlight) this.onResponseTimeout(rec)
        else if (!rec.queued && rec.confirmed !== undefined && isEstablished(rec.state))
          this.enqueueKeepalive(rec, rec.confirmed)
      }
    } finally {
      this.bulk = false
    }
    this.pump()
  }

  /** A keep-alive repeats the request the bridge last confirmed (its mode). */
  private enqueueKeepalive(rec: StationVsi, confirmed: NonNullable<StationVsi['confirmed']>): void {
    rec.op = 'keepalive'
    rec.mode = confirmed.mode
    this.enqueue(rec)
  }

  private onResponseTimeout(rec: StationVsi): void {
    const op = rec.op
    this.settle(rec)
    this.stats.timeouts++
    const wait = this.responseWait(op)
    const why = rec.ecpFailure ?? 'the bridge acknowledged the ECPDU but sent no VDP response'
    const bound =
      op === 'keepalive' && wait < respWaitDelay(this.evb.retries, this.evb.rte, this.evb.rwd)
        ? `(toutKeepAlive − T(RKA)) / 2 for R=${this.evb.retries}, RTE=${this.evb.rte}, RKA=${this.evb.rka}`
        : `respWaitDelay for R=${this.evb.retries}, RTE=${this.evb.rte}, RWD=${this.evb.rwd}`
    const text = `no VDP response within ${formatMs(wait)} (${bound}): ${why}`
    this.remove(rec)
    this.emitFailure(rec, op, 'timeout', text, {state: 'removed'})
    this.applyDeferred(rec)
  }

  private scheduleKeepalive(rec: StationVsi): void {
    // Rounded down to a slot of T(RKA)/32, so VSIs confirmed close together refresh in the same ECPDUs and
    // the period stays T(RKA) on average (rounding up would stretch every period by a slot). At most one slot
    // early, which only refreshes the bridge sooner.
    const period = evbTime(this.evb.rka)
    const slot = period / 32
    const now = this.clock.now()
    this.deadlines.schedule(rec, Math.max(now + period - slot, Math.floor((now + period) / slot) * slot))
  }

  // ── reception ─────────────────────────────────────────────────────────────────────────────────────────

  private onVdpdu(ulpdu: Buffer): void {
    if (this.closed) return
    let groups: VsiTlvGroup[]
    try {
      groups = groupVsiTlvs(decodeVdpdu(ulpdu).tlvs)
    } catch {
      this.stats.malformedPdus++
      return
    }
    this.bulk = true
    try {
      for (const group of groups) this.onVsiTlv(group)
    } finally {
      this.bulk = false
    }
    this.pump()
  }

  private onVsiTlv(group: VsiTlvGroup): void {
    const tlv = group.vsi
    const rec = this.table.get(vsiidKey(tlv.vsiid))
    const verdict = rec && matchResponse(rec.request, group)
    if (rec === undefined || verdict === undefined || verdict.kind === 'other-vsi') {
      this.stats.unmatched++
      return
    }
    if (tlv.status.kind === 'request') {
      if (tlv.mode === 'deassoc') this.onBridgeDeassociate(rec, tlv.status.reason)
      else this.stats.ignoredRequests++
      return
    }
    // A response answers what is on the wire; a De-Associate we sent is answered only by a De-Associate
    // (an Associate answer arriving then belongs to the request we superseded).
    if (!rec.inFlight || (rec.op === 'deassoc' && tlv.mode !== 'deassoc')) {
      this.stats.staleResponses++
      return
    }
    if (tlv.mode === 'deassoc' && rec.op !== 'deassoc' && tlv.status.error === 0 && rec.lateDeassocAnswers > 0) {
      rec.lateDeassocAnswers-- // a second answer to the previous life's re-sent De-Associate
      this.stats.staleResponses++
      return
    }
    if (rec.pdu !== undefined) this.markParsed(rec.pdu)
    this.settle(rec)
    this.stats.responses++
    const op = rec.op
    if (verdict.kind === 'filter-mismatch') {
      this.stats.mismatches++
      this.remove(rec)
      this.emitFailure(rec, op, 'mismatch', `the bridge's response does not match the request: ${verdict.what}`, {
        code: 5,
        state: 'removed',
      })
    } else if (tlv.status.error !== 0) {
      this.onRejected(rec, op, tlv.status)
    } else if (tlv.mode === 'deassoc') {
      this.remove(rec)
      const ours = op === 'deassoc'
      if (ours) this.noteLinger(rec)
      this.emit(rec, {
        type: 'deassociated',
        initiator: ours ? 'station' : 'bridge',
        text: ours ? 'de-associated' : `the bridge answered the ${op} request with De-Associate`,
      })
    } else {
      this.onConfirmed(rec, op, tlv)
    }
    this.applyDeferred(rec)
  }

  private onRejected(rec: StationVsi, op: VsiOperation, status: {error: number; hard: boolean; keep: boolean}): void {
    this.stats.rejections++
    const text = `the bridge rejected ${op}: ${describeResponseError(status)}`
    const detail = {code: status.error, hard: status.hard, keep: status.keep}
    if (status.keep && rec.confirmed !== undefined) {
      // Keep: the bridge holds the VSI in its previous state, so do we.
      rec.op = rec.confirmed.mode
      rec.mode = rec.confirmed.mode
      rec.filter = rec.confirmed.filter
      rec.invalidate()
      this.enterState(rec, rec.confirmed.mode === 'assoc' ? 'associated' : 'preassociated')
      this.scheduleKeepalive(rec)
      this.emitFailure(rec, op, 'rejected', text, {...detail, state: rec.state})
      return
    }
    // Without Keep, or with Keep but no previous state to keep: the VSI is gone. (lldpad keeps a brand-new
    // VSI "associated" on a Keep error to an Associate; there is nothing to keep, so we do not.)
    this.remove(rec)
    this.emitFailure(rec, op, 'rejected', text, {...detail, state: 'removed'})
  }

  private onConfirmed(rec: StationVsi, op: VsiOperation, tlv: VsiTlv): void {
    const previous = rec.confirmed
    const mode = tlv.mode as EstablishedMode
    const filter = tlv.filter
    rec.confirmed = {mode, filter}
    rec.op = mode
    rec.mode = mode
    rec.filter = filter
    rec.invalidate()
    this.enterState(rec, mode === 'assoc' ? 'associated' : 'preassociated')
    this.scheduleKeepalive(rec)
    const vids = filter.entries.map((e) => e.vid)
    const resynced = rec.resyncing
    rec.resyncing = false
    if (op === 'keepalive') {
      const from = previous?.filter.entries.map((e) => e.vid) ?? []
      if (from.some((vid, i) => vid !== vids[i])) {
        this.stats.vlanChanges++
        this.emit(rec, {type: 'vlan-changed', filter, from, to: vids})
      }
      if (!resynced) return
      // Confirmed again after a restart of either side: said as an association, so status can trust it again.
    }
    this.emit(rec, {
      type: mode === 'assoc' ? 'associated' : 'preassociated',
      mode,
      filter,
      vids,
      requestedVids: rec.request.filter.entries.map((e) => e.vid),
    })
  }

  private onBridgeDeassociate(rec: StationVsi, reasonCode: number): void {
    this.stats.bridgeDeassociations++
    this.remove(rec)
    const why = reasonCode === 0 ? '' : ` (reason ${reasonCode}: ${vdpErrorText(reasonCode)})`
    this.emit(rec, {
      type: 'deassociated',
      initiator: 'bridge',
      reasonCode,
      text: `the bridge de-associated the VSI${why}`,
    })
    this.applyDeferred(rec)
  }

  // ── bookkeeping ───────────────────────────────────────────────────────────────────────────────────────

  /** The VSI no longer awaits a response. */
  private settle(rec: StationVsi): void {
    if (!rec.inFlight) return
    rec.inFlight = false
    this.vsisAwaiting--
    this.deadlines.cancel(rec)
    this.leavePdu(rec)
    // A re-send still queued (resync) is no longer needed: the answer is in.
    if (rec.queued) rec.queued = false
  }

  private remove(rec: StationVsi): void {
    this.settle(rec)
    rec.queued = false
    rec.removed = true
    this.deadlines.cancel(rec)
    if (this.table.get(rec.key) === rec) this.table.delete(rec.key)
  }

  private enterState(rec: StationVsi, state: StationVsiState): void {
    if (rec.state !== state) rec.since = this.clock.now()
    rec.state = state
  }

  private emitFailure(
    rec: StationVsi,
    operation: VsiOperation,
    reason: FailureReason,
    text: string,
    extra: {code?: number; hard?: boolean; keep?: boolean; state: StationVsiState | 'removed'},
  ): void {
    this.emit(rec, {
      type: 'failed',
      operation,
      reason,
      ...(extra.code !== undefined ? {code: extra.code} : {}),
      hard: extra.hard ?? false,
      keep: extra.keep ?? false,
      text: `${describeRequest(rec.request)}: ${text}`,
      state: extra.state,
    })
  }

  private emit(rec: StationVsi, event: DistributiveOmit<VsiEvent, 'key' | 'vsiid' | 'at'>): void {
    try {
      this.listener({key: rec.key, vsiid: rec.request.vsiid, at: this.clock.now(), ...event} as VsiEvent)
    } catch {
      this.stats.listenerErrors++
    }
  }

  private view(rec: StationVsi): VsiView {
    const pending = rec.inFlight ? 'awaiting-response' : rec.queued ? 'queued' : undefined
    const deadline = this.deadlines.deadlineOf(rec)
    return {
      key: rec.key,
      vsiid: rec.request.vsiid,
      managerId: managerIdText(rec.request.managerId),
      typeId: rec.request.typeId,
      typeVersion: rec.request.typeVersion,
      state: rec.state,
      filter: rec.filter,
      vids: rec.filter.entries.map((e) => e.vid),
      ...(pending ? {pending, operation: rec.op} : {}),
      ...(rec.deferred ? {deferred: rec.deferred.op} : {}),
      since: rec.since,
      ...(deadline !== undefined ? {deadline} : {}),
    }
  }

  private inBulk<T>(inputs: readonly T[], one: (input: T) => VsiView | undefined): BulkResult<T> {
    const accepted: VsiView[] = []
    const rejected: {input: T; error: VdpStationError}[] = []
    this.bulk = true
    try {
      for (const input of inputs) {
        try {
          const view = one(input)
          if (view !== undefined) accepted.push(view)
        } catch (error) {
          if (!(error instanceof VdpStationError)) throw error
          rejected.push({input, error})
        }
      }
    } finally {
      this.bulk = false
    }
    this.pump()
    return {accepted, rejected}
  }

  private checkOpen(): void {
    if (this.closed) throw new VdpStationError('STATION_CLOSED', 'the VDP station is closed')
  }
}

/** Half the slack the bridge's keep-alive timer leaves after T(RKA): (toutKeepAlive − T(RKA)) / 2, ms. */
export function keepaliveWait(evb: EvbValues): number {
  return (toutKeepAlive(evb.retries, evb.rte, evb.rka) - evbTime(evb.rka)) / 2
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

function isEstablished(state: StationVsiState): boolean {
  return state === 'associated' || state === 'preassociated'
}

/** Where the request leaves a VID to the bridge (0) and the bridge already assigned one, keep that one, so a
 * re-request does not ask for a new VLAN (lldpad refuses such a request outright, error R05). */
function withAssignedVids(requested: VsiFilter, assigned: VsiFilter | undefined): VsiFilter {
  if (assigned === undefined || !sameFilterLayout(requested, assigned)) return requested
  return {
    format: requested.format,
    entries: requested.entries.map((e, i) => (e.vid === 0 ? {...e, vid: assigned.entries[i].vid} : e)),
  }
}
