/**
 * VdpBridge: the bridge (ToR) side of VDP22 over ECP22, as a pure engine: frames in through `receive`, out
 * through the injected `send`, time from the injected clock, randomness from an injected seeded RNG. The
 * ToR simulator wraps it with LLDP/EVB and a socket; tests wire it to a VdpStation back to back.
 *
 * Behaviour (modelled on lldpad's bridge where that is sane, docs/vdp.md "The ToR simulator"):
 * - Associate / Pre-Associate (RR): store the VSI, assign VIDs for VID-0 entries from the VLAN policy, answer
 *   with the same TLV type, status 0x40 and the assigned VIDs. A repeat is a keep-alive: answered with the
 *   stored state.
 * - De-Associate: forget the VSI (known or not) and answer De-Associate, status 0x40.
 * - Errors: with Keep, the request's TLV type and the VSI keeps its previous state; without Keep, a
 *   De-Associate TLV carrying the error (what lldpad's bridge sends, status 0x42 in the corpus).
 * - A VSI not refreshed within toutKeepAlive is dropped and the station told with an unsolicited De-Associate.
 * - Responses to one VDPDU go out batched in as few VDPDUs as fit the MTU, packed by the station's
 *   VdpduPacker. (lldpad answers each VSI in its own ECPDU; our station handles both.)
 *
 * VLAN policies:
 * - segment: VID = 2 + ((id − 2) mod 4093), id = the entry's group ID (Cisco DFA: the segmentation ID), or
 *   the VSI type ID for formats without a group. Identity on 2..4094, so a test can pick a VLAN by picking a
 *   group; 20000 → 3628. (lldpad's debug bridge uses id & 0xfff instead, 20000 → 3616.)
 * - pool {from, to}: the lowest free VID of the range, one per group (or per type ID without a group),
 *   shared by every VSI of that group, released with its last VSI, like a leaf's dynamic VLAN per segment.
 *   Pool exhausted → error 2 (insufficient resources).
 * A non-zero VID in a request is honoured as asked.
 */
import type {Clock} from '../core/clock.js'
import {DeadlineQueue} from '../core/deadline-queue.js'
import {decodeEcpFrame, ECP_SUBTYPE_VDP, ulpduBudget} from '../vdp/ecp-codec.js'
import {EcpTransport} from '../vdp/ecp-transport.js'
import {VdpAgentError} from '../errors.js'
import {isUsableUnicastMac} from '../core/ethernet.js'
import {managerIdText} from '../vdp/manager-id.js'
import {toutKeepAlive, validateEvbParams} from '../vdp/timers.js'
import {
  decodeVdpdu,
  encodeTlv,
  groupVsiTlvs,
  type VdpOrgTlv,
  type VsiMode,
  type VsiTlv,
  type VsiTlvGroup,
} from '../vdp/vdp-codec.js'
import {VdpduPacker, type PackableVsi} from '../vdp/vdpdu-packer.js'
import {hasGroup, hasMac, type FilterEntry, type VsiFilter} from '../vdp/vsi-filter.js'
import {SUCCESS_STATUS, VDP_ERROR, type VsiStatus} from '../vdp/vsi-status.js'
import {vsiidKey, type Vsiid} from '../vdp/vsiid.js'
import type {EvbValues} from '../model/evb.js'

/** A bad bridge setting: VLAN_POOL_INVALID, VLAN_INVALID. */
export class VdpBridgeError extends VdpAgentError {}

export type VlanPolicy =
  {readonly kind: 'segment'} | {readonly kind: 'pool'; readonly from: number; readonly to: number}

export interface RejectFault {
  /** Error code 1–15 to answer with. */
  readonly code: number
  readonly hard?: boolean
  readonly keep?: boolean
  /** Which requests to reject; all when omitted. A function, or fields that must all match. */
  readonly match?:
    | ((tlv: VsiTlv) => boolean)
    | {
        readonly vsiids?: readonly Vsiid[]
        readonly typeId?: number
        readonly groupId?: number
        readonly modes?: readonly VsiMode[]
      }
  /** Share of matching requests rejected (0–1); default 1. */
  readonly rate?: number
}

export interface BridgeFaults {
  /** Share (0–1) of ECP ACKs not sent: the station's ECP retransmits. */
  readonly dropAckRate?: number
  /** Share (0–1) of VSI responses not sent (the request is still processed): the station times out. */
  readonly dropResponseRate?: number
  /** Answer this much later. */
  readonly responseDelayMs?: number
  readonly reject?: RejectFault
}

export interface VdpBridgeOptions {
  readonly clock: Clock
  readonly send: (frame: Buffer) => void
  readonly localMac: string
  /** Destination of our frames; default the nearest-customer-bridge address, as lldpad. */
  readonly peerMac?: string
  readonly evb: EvbValues
  readonly vlanPolicy?: VlanPolicy
  readonly faults?: BridgeFaults
  /** Seeded randomness for the fault rates; default seededRandom(1). */
  readonly random?: () => number
  readonly mtu?: number
  /** VSIs the bridge will hold; beyond it Associate gets error 2. Default 65536. */
  readonly maxVsis?: number
  readonly firstSequence?: number
  /** Pacing of our ECPDUs; set above 2 ms when the station is lldpad (see EcpTransportOptions). */
  readonly minTxGapMs?: number
  /** End each VDPDU with an End TLV. Default true. */
  readonly endTlv?: boolean
  /** Drop VSIs not refreshed within toutKeepAlive, with an unsolicited De-Associate. Default true. */
  readonly expireVsis?: boolean
  /**
   * lldpad's rule (`vdp22_station_info`, "TODO mismatch filter data"; docs/tor-simulator.md): a request for a
   * known VSI whose filter differs from the stored one, VIDs included (VID 0 too), De-Associate included, is
   * ignored without an answer, and the VSI's keep-alive timer stops, so it no longer expires. Default false
   * here (the engine's own tests exercise re-requests); the ToR simulator turns it on by default.
   */
  readonly strictFilter?: boolean
  readonly onEvent?: (event: BridgeEvent) => void
}

/** A held VSI as `snapshot()` gives it and `restore()` takes it (JSON-safe: the simulator's state file). */
export interface BridgeVsiSnapshot {
  readonly managerId: string
  readonly typeId: number
  readonly typeVersion: number
  readonly vsiid: Vsiid
  readonly mode: Exclude<VsiMode, 'deassoc'>
  readonly filter: VsiFilter
  readonly announced: VsiFilter
  readonly org: string
  readonly allocations: (string | null)[]
  readonly pinnedVid?: number
  /** Wedged by a mismatching request (strictFilter): no longer expires. */
  readonly wedged?: boolean
}

export type BridgeEvent =
  | {
      readonly type: 'associated' | 'preassociated'
      readonly key: string
      readonly vids: number[]
      readonly first: boolean
    }
  | {readonly type: 'deassociated'; readonly key: string; readonly initiator: 'station' | 'bridge' | 'expired'}
  | {readonly type: 'rejected'; readonly key: string; readonly code: number; readonly keep: boolean}
  | {readonly type: 'ignored'; readonly key: string; readonly why: string}

export interface BridgeVsiView {
  readonly key: string
  readonly vsiid: Vsiid
  readonly managerId: string
  readonly typeId: number
  readonly typeVersion: number
  readonly mode: Exclude<VsiMode, 'deassoc'>
  readonly filter: VsiFilter
  readonly vids: number[]
  readonly vmName?: string
  readonly expiresAt?: number
  readonly wedged?: boolean
}

export interface VdpBridgeCounters {
  requestPdus: number
  requests: number
  keepalives: number
  /** VDPDUs and VSI TLVs sent: responses and unsolicited De-Associates. */
  pdusSent: number
  tlvsSent: number
  droppedAcks: number
  droppedResponses: number
  rejections: number
  expired: number
  unsolicitedDeassociations: number
  malformedPdus: number
  ignoredTlvs: number
  /** Requests ignored without an answer: a known VSI asked with another filter (strictFilter). */
  ignoredMismatches: number
}

interface BridgeVsi {
  readonly key: string
  managerId: Buffer
  typeId: number
  typeVersion: number
  vsiid: Vsiid
  mode: Exclude<VsiMode, 'deassoc'>
  /** What the bridge holds now (changeVlan alters it). */
  filter: VsiFilter
  /** What the station was last told: its keep-alives carry these VIDs until it hears of a change. */
  announced: VsiFilter
  org: VdpOrgTlv[]
  /** Pool allocation key per entry that holds a pool VID. */
  allocations: (string | undefined)[]
  /** Set by changeVlan(vsiid): every entry carries this VID from now on. */
  pinnedVid?: number
  /** A mismatching request stopped its keep-alive timer (strictFilter, as lldpad). */
  wedged?: boolean
}

/** A response or unsolicited De-Associate waiting for its VDPDU. Never withdrawn: always queued, one token. */
interface Outgoing extends PackableVsi {
  readonly tlv: VsiTlv
}

function outgoing(managerId: Buffer, tlv: VsiTlv): Outgoing {
  return {managerKey: managerId.toString('hex'), managerId, queued: true, queueToken: 0, tlv}
}

type EstablishedMode = Exclude<VsiMode, 'deassoc'>

export class VdpBridge {
  readonly transport: EcpTransport
  private readonly clock: Clock
  private readonly policy: VlanPolicy
  private faults: BridgeFaults
  private readonly random: () => number
  /** The station's packer: one Manager ID per VDPDU, TLVs in order while they fit the MTU, End TLV if set. */
  private readonly packer: VdpduPacker<Outgoing>
  private readonly maxVsis: number
  private readonly expire: boolean
  private readonly strictFilter: boolean
  private readonly onEvent: (event: BridgeEvent) => void
  private readonly table = new Map<string, BridgeVsi>()
  private readonly expiry: DeadlineQueue<BridgeVsi>
  /** pool: allocation key → VID and how many entries use it */
  private readonly pool = new Map<string, {vid: number; users: number}>()
  private readonly poolUsed = new Set<number>()
  /** changeVlan(groupId): the group's VID from now on, whatever the policy says */
  private readonly groupVids = new Map<number, number>()
  private evb: EvbValues
  private readonly stats: VdpBridgeCounters = {
    requestPdus: 0,
    requests: 0,
    keepalives: 0,
    pdusSent: 0,
    tlvsSent: 0,
    droppedAcks: 0,
    droppedResponses: 0,
    rejections: 0,
    expired: 0,
    unsolicitedDeassociations: 0,
    malformedPdus: 0,
    ignoredTlvs: 0,
    ignoredMismatches: 0,
  }

  constructor(options: VdpBridgeOptions) {
    validateEvbParams(options.evb)
    this.clock = options.clock
    this.evb = options.evb
    this.policy = checkPolicy(options.vlanPolicy ?? {kind: 'segment'})
    this.faults = options.faults ?? {}
    this.random = options.random ?? seededRandom(1)
    this.packer = new VdpduPacker<Outgoing>({budget: ulpduBudget(options.mtu ?? 1500), endTlv: options.endTlv ?? true})
    this.maxVsis = options.maxVsis ?? 65536
    this.expire = options.expireVsis ?? true
    this.strictFilter = options.strictFilter ?? false
    this.onEvent = options.onEvent ?? (() => {})
    const send = options.send
    this.transport = new EcpTransport({
      clock: options.clock,
      send: (frame) => {
        if (decodeEcpFrame(frame).operation === 'ack' && this.chance(this.faults.dropAckRate)) {
          this.stats.droppedAcks++
          return
        }
        send(frame)
      },
      localMac: options.localMac,
      peerMac: options.peerMac,
      params: {retries: options.evb.retries, rte: options.evb.rte},
      firstSequence: options.firstSequence,
      random: this.random,
      mtu: options.mtu,
      minTxGapMs: options.minTxGapMs,
      maxQueue: 65536,
    })
    this.transport.onReceive(ECP_SUBTYPE_VDP, (ulpdu) => this.onVdpdu(ulpdu))
    this.expiry = new DeadlineQueue<BridgeVsi>(this.clock, (due) => this.onExpired(due))
  }

  /** Feed one received Ethernet frame (EtherType 0x8940). */
  receive(frame: Uint8Array): void {
    this.transport.receive(frame)
  }

  get counters(): Readonly<VdpBridgeCounters> {
    return {...this.stats}
  }

  get size(): number {
    return this.table.size
  }

  list(): BridgeVsiView[] {
    return [...this.table.values()].map((vsi) => this.view(vsi))
  }

  get(vsiid: Vsiid): BridgeVsiView | undefined {
    const vsi = this.table.get(vsiidKey(vsiid))
    return vsi && this.view(vsi)
  }

  /** Every held VSI, JSON-safe, for a state file (a switch that keeps its VSIs across a restart). */
  snapshot(): BridgeVsiSnapshot[] {
    return [...this.table.values()].map((v) => ({
      managerId: v.managerId.toString('hex'),
      typeId: v.typeId,
      typeVersion: v.typeVersion,
      vsiid: v.vsiid,
      mode: v.mode,
      filter: v.filter,
      announced: v.announced,
      org: Buffer.concat(v.org.map((t) => encodeTlv(t))).toString('hex'),
      allocations: v.allocations.map((a) => a ?? null),
      ...(v.pinnedVid !== undefined ? {pinnedVid: v.pinnedVid} : {}),
      ...(v.wedged ? {wedged: true} : {}),
    }))
  }

  /**
   * Take VSIs back from a snapshot (the simulator restarted): each held as before, pool VLANs re-reserved,
   * with a fresh keep-alive deadline (the stations have had no way to refresh them meanwhile).
   */
  restore(snapshots: readonly BridgeVsiSnapshot[]): void {
    for (const snap of snapshots) {
      const managerId = Buffer.from(snap.managerId, 'hex')
      const org = snap.org
        ? (groupVsiTlvs(
            decodeVdpdu(
              Buffer.concat([
                encodeTlv({kind: 'manager-id', managerId}),
                encodeTlv({
                  kind: 'vsi',
                  mode: snap.mode,
                  status: SUCCESS_STATUS,
                  typeId: snap.typeId,
                  typeVersion: snap.typeVersion,
                  vsiid: snap.vsiid,
                  filter: snap.filter,
                }),
                Buffer.from(snap.org, 'hex'),
              ]),
            ).tlvs,
          )[0]?.org ?? [])
        : []
      const vsi: BridgeVsi = {
        key: vsiidKey(snap.vsiid),
        managerId,
        typeId: snap.typeId,
        typeVersion: snap.typeVersion,
        vsiid: snap.vsiid,
        mode: snap.mode,
        filter: snap.filter,
        announced: snap.announced,
        org,
        allocations: snap.allocations.map((a) => a ?? undefined),
        ...(snap.pinnedVid !== undefined ? {pinnedVid: snap.pinnedVid} : {}),
        ...(snap.wedged ? {wedged: true} : {}),
      }
      for (const [i, key] of vsi.allocations.entries()) {
        if (key === undefined) continue
        const held = this.pool.get(key)
        if (held) held.users++
        else {
          this.pool.set(key, {vid: vsi.filter.entries[i].vid, users: 1})
          this.poolUsed.add(vsi.filter.entries[i].vid)
        }
      }
      this.table.set(vsi.key, vsi)
      if (!vsi.wedged) this.touch(vsi)
    }
  }

  /** Replace the fault settings (tests flip them mid-run). */
  setFaults(faults: BridgeFaults): void {
    this.faults = faults
  }

  setParams(evb: EvbValues): void {
    validateEvbParams(evb)
    this.evb = evb
    this.transport.updateParams({retries: evb.retries, rte: evb.rte})
  }

  /** Unsolicited De-Associate for the given VSIs (batched per manager). Returns how many were known. */
  deassociate(vsiids: Vsiid | readonly Vsiid[]): number {
    const out: Outgoing[] = []
    for (const vsiid of Array.isArray(vsiids) ? vsiids : [vsiids as Vsiid]) {
      const vsi = this.table.get(vsiidKey(vsiid))
      if (vsi === undefined) continue
      this.forget(vsi)
      out.push(
        outgoing(
          vsi.managerId,
          vsiTlv(vsi, 'deassoc', {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0}),
        ),
      )
      this.stats.unsolicitedDeassociations++
      this.onEvent({type: 'deassociated', key: vsi.key, initiator: 'bridge'})
    }
    this.sendTlvs(out)
    return out.length
  }

  /**
   * Move VSIs to another VLAN: one VSI, or every VSI of a group (and future ones). Stations learn it from the
   * next response, normally their next keep-alive. Returns how many VSIs changed.
   */
  changeVlan(target: Vsiid | {readonly groupId: number}, vid: number): number {
    if (!Number.isInteger(vid) || vid < 2 || vid > 4094) {
      throw new VdpBridgeError('VLAN_INVALID', `a VLAN to move VSIs to must be 2–4094, got ${vid}`, {vid})
    }
    let changed = 0
    if ('groupId' in target) {
      this.groupVids.set(target.groupId, vid)
      const held = this.pool.get(`group:${target.groupId}`)
      if (held) {
        this.poolUsed.delete(held.vid)
        this.poolUsed.add(vid)
        held.vid = vid
      }
      for (const vsi of this.table.values()) {
        if (vsi.filter.entries.some((e) => e.groupId === target.groupId)) {
          vsi.filter = withVids(vsi.filter, (e) => (e.groupId === target.groupId ? vid : e.vid))
          changed++
        }
      }
      return changed
    }
    const vsi = this.table.get(vsiidKey(target))
    if (vsi === undefined) return 0
    vsi.pinnedVid = vid
    vsi.filter = withVids(vsi.filter, () => vid)
    return 1
  }

  /** Stop timers and the transport. */
  close(): void {
    this.expiry.close()
    this.transport.close()
  }

  // ── request handling ──────────────────────────────────────────────────────────────────────────────────

  private onVdpdu(ulpdu: Buffer): void {
    let groups: VsiTlvGroup[]
    try {
      groups = groupVsiTlvs(decodeVdpdu(ulpdu).tlvs)
    } catch {
      this.stats.malformedPdus++
      return
    }
    this.stats.requestPdus++
    const answers: Outgoing[] = []
    for (const group of groups) {
      if (group.vsi.status.kind !== 'request') {
        this.stats.ignoredTlvs++
        continue
      }
      this.stats.requests++
      const tlv = this.answer(group)
      if (tlv !== undefined) answers.push(outgoing(group.managerId, tlv))
    }
    const kept = answers.filter(() => {
      const drop = this.chance(this.faults.dropResponseRate)
      if (drop) this.stats.droppedResponses++
      return !drop
    })
    const delay = this.faults.responseDelayMs ?? 0
    if (delay > 0) this.clock.setTimer(delay, () => this.sendTlvs(kept))
    else this.sendTlvs(kept)
  }

  /** Decide one request and return the response TLV, or undefined: ignored without an answer. */
  private answer(group: VsiTlvGroup): VsiTlv | undefined {
    const request = group.vsi
    const key = vsiidKey(request.vsiid)
    const existing = this.table.get(key)
    if (this.strictFilter && existing !== undefined && !sameFilterAsHeld(existing, group)) {
      // lldpad: vdp22br_stop_katimer(hit), then "TODO mismatch filter data" and nothing more.
      this.stats.ignoredMismatches++
      existing.wedged = true
      this.expiry.cancel(existing)
      this.onEvent({
        type: 'ignored',
        key,
        why: 'the filter differs from the one held (lldpad: "TODO mismatch filter data")',
      })
      return undefined
    }
    const reject = this.faults.reject
    if (reject && this.rejects(reject, request) && this.chance(reject.rate ?? 1)) {
      return this.refuse(request, existing, reject.code, reject.hard ?? false, reject.keep ?? false)
    }
    if (request.mode === 'deassoc') {
      if (existing) {
        this.forget(existing)
        this.onEvent({type: 'deassociated', key, initiator: 'station'})
      }
      return {...request, status: SUCCESS_STATUS, filter: existing?.filter ?? request.filter}
    }
    const invalid = invalidFilter(request.filter)
    if (invalid !== undefined) return this.refuse(request, existing, invalid, true, false)
    const same = existing !== undefined && sameVsi(existing, group)
    if (
      same &&
      existing.mode === request.mode &&
      (keepsVids(request.filter, existing.filter) || keepsVids(request.filter, existing.announced))
    ) {
      // A keep-alive: refresh and answer with what the bridge holds (a changed VLAN travels here).
      this.stats.keepalives++
      this.touch(existing)
      existing.announced = existing.filter
      return vsiTlv(existing, existing.mode, SUCCESS_STATUS)
    }
    if (existing === undefined && this.table.size >= this.maxVsis) {
      return this.refuse(request, undefined, VDP_ERROR.insufficientResources, false, false)
    }
    const assigned = this.assign(request, same ? existing : undefined)
    if (assigned === undefined) {
      return this.refuse(request, existing, VDP_ERROR.insufficientResources, false, false)
    }
    if (existing !== undefined) this.forget(existing)
    const vsi: BridgeVsi = {
      key,
      managerId: group.managerId,
      typeId: request.typeId,
      typeVersion: request.typeVersion,
      vsiid: request.vsiid,
      mode: request.mode as EstablishedMode,
      filter: assigned.filter,
      announced: assigned.filter,
      org: group.org,
      allocations: assigned.allocations,
      ...(same && existing.pinnedVid !== undefined ? {pinnedVid: existing.pinnedVid} : {}),
    }
    this.table.set(key, vsi)
    this.touch(vsi)
    this.onEvent({
      type: vsi.mode === 'assoc' ? 'associated' : 'preassociated',
      key,
      vids: vsi.filter.entries.map((e) => e.vid),
      first: existing === undefined,
    })
    return vsiTlv(vsi, vsi.mode, SUCCESS_STATUS)
  }

  private refuse(request: VsiTlv, existing: BridgeVsi | undefined, code: number, hard: boolean, keep: boolean): VsiTlv {
    this.stats.rejections++
    this.onEvent({type: 'rejected', key: vsiidKey(request.vsiid), code, keep})
    const status: VsiStatus = {kind: 'response', keep, hard, error: code}
    if (keep) {
      // The VSI stays as it was; refresh it so rejecting keep-alives does not also expire it.
      if (existing) this.touch(existing)
      return {...request, status, filter: existing?.filter ?? request.filter}
    }
    if (existing) {
      this.forget(existing)
      this.onEvent({type: 'deassociated', key: existing.key, initiator: 'bridge'})
    }
    return {...request, mode: 'deassoc', status}
  }

  /**
   * VIDs for the request's entries; undefined when the pool has none left. `previous` is the same VSI as
   * held so far: its VIDs (and pool allocations) carry over when the request repeats them or leaves them to
   * the bridge (VID 0).
   */
  private assign(
    request: VsiTlv,
    previous: BridgeVsi | undefined,
  ): {filter: VsiFilter; allocations: (string | undefined)[]} | undefined {
    const allocations: (string | undefined)[] = []
    const entries: FilterEntry[] = []
    for (const [i, entry] of request.filter.entries.entries()) {
      const held = previous?.filter.entries[i]?.vid
      const told = previous?.announced.entries[i]?.vid
      const carriesOver = entry.vid === 0 || entry.vid === held || entry.vid === told
      const forced =
        previous?.pinnedVid ?? (entry.groupId !== undefined ? this.groupVids.get(entry.groupId) : undefined)
      let vid = entry.vid
      let allocation: string | undefined
      if (forced !== undefined && carriesOver) vid = forced
      else if (
        carriesOver &&
        this.policy.kind === 'pool' &&
        (entry.vid === 0 || previous?.allocations[i] !== undefined)
      ) {
        allocation = entry.groupId !== undefined ? `group:${entry.groupId}` : `type:${request.typeId}`
        const got = this.allocate(allocation)
        if (got === undefined) {
          for (const key of allocations) if (key !== undefined) this.release(key)
          return undefined
        }
        vid = got
      } else if (entry.vid === 0) vid = segmentVid(entry.groupId ?? request.typeId)
      allocations.push(allocation)
      entries.push({...entry, vid})
    }
    return {filter: {format: request.filter.format, entries}, allocations}
  }

  private allocate(key: string): number | undefined {
    const held = this.pool.get(key)
    if (held) {
      held.users++
      return held.vid
    }
    const {from, to} = this.policy as {from: number; to: number}
    for (let vid = from; vid <= to; vid++) {
      if (!this.poolUsed.has(vid)) {
        this.poolUsed.add(vid)
        this.pool.set(key, {vid, users: 1})
        return vid
      }
    }
    return undefined
  }

  private release(key: string): void {
    const held = this.pool.get(key)
    if (held && --held.users === 0) {
      this.pool.delete(key)
      this.poolUsed.delete(held.vid)
    }
  }

  private touch(vsi: BridgeVsi): void {
    vsi.wedged = undefined
    if (this.expire)
      this.expiry.schedule(vsi, this.clock.now() + toutKeepAlive(this.evb.retries, this.evb.rte, this.evb.rka))
  }

  private forget(vsi: BridgeVsi): void {
    if (this.table.get(vsi.key) === vsi) this.table.delete(vsi.key)
    this.expiry.cancel(vsi)
    for (const key of vsi.allocations) if (key !== undefined) this.release(key)
    vsi.allocations = []
  }

  private onExpired(due: BridgeVsi[]): void {
    const out: Outgoing[] = []
    for (const vsi of due) {
      if (this.table.get(vsi.key) !== vsi) continue
      this.forget(vsi)
      this.stats.expired++
      this.onEvent({type: 'deassociated', key: vsi.key, initiator: 'expired'})
      out.push(
        outgoing(
          vsi.managerId,
          vsiTlv(vsi, 'deassoc', {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0}),
        ),
      )
    }
    this.stats.unsolicitedDeassociations += out.length
    this.sendTlvs(out)
  }

  // ── output ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Pack TLVs into VDPDUs with the station's packer: one Manager ID each, consecutive TLVs of that manager
   * while they fit. The packer is drained whenever the manager changes, so TLVs go out in the order given.
   */
  private sendTlvs(out: readonly Outgoing[]): void {
    let manager: string | undefined
    for (const item of out) {
      if (item.managerKey !== manager) this.sendPacked()
      manager = item.managerKey
      this.packer.push(item)
    }
    this.sendPacked()
  }

  private sendPacked(): void {
    for (;;) {
      const pdu = this.packer.take(Number.POSITIVE_INFINITY, (item) => encodeTlv(item.tlv))
      if (pdu === undefined) return
      try {
        this.transport.enqueue(ECP_SUBTYPE_VDP, pdu.ulpdu, () => {})
        this.stats.pdusSent++
        this.stats.tlvsSent += pdu.items.length
      } catch {
        this.stats.droppedResponses += pdu.items.length // transport closed or its queue full
      }
    }
  }

  private rejects(fault: RejectFault, tlv: VsiTlv): boolean {
    const m = fault.match
    if (m === undefined) return true
    if (typeof m === 'function') return m(tlv)
    if (m.vsiids && !m.vsiids.some((v) => vsiidKey(v) === vsiidKey(tlv.vsiid))) return false
    if (m.typeId !== undefined && m.typeId !== tlv.typeId) return false
    if (m.groupId !== undefined && !tlv.filter.entries.some((e) => e.groupId === m.groupId)) return false
    return m.modes === undefined || m.modes.includes(tlv.mode)
  }

  private chance(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && (rate >= 1 || this.random() < rate)
  }

  private view(vsi: BridgeVsi): BridgeVsiView {
    const vmName = vsi.org.find((t) => t.kind === 'cisco-vm-name')
    const expiresAt = this.expiry.deadlineOf(vsi)
    return {
      key: vsi.key,
      vsiid: vsi.vsiid,
      managerId: managerIdText(vsi.managerId),
      typeId: vsi.typeId,
      typeVersion: vsi.typeVersion,
      mode: vsi.mode,
      filter: vsi.filter,
      vids: vsi.filter.entries.map((e) => e.vid),
      ...(vmName?.kind === 'cisco-vm-name' ? {vmName: vmName.vmName} : {}),
      ...(expiresAt !== undefined ? {expiresAt} : {}),
      ...(vsi.wedged ? {wedged: true} : {}),
    }
  }
}

/** segment policy: identity on 2..4094, everything else folded into that range. */
export function segmentVid(id: number): number {
  return 2 + ((((id - 2) % 4093) + 4093) % 4093)
}

/** mulberry32: a small, fast, seedable PRNG so fault injection is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function vsiTlv(vsi: BridgeVsi, mode: VsiMode, status: VsiStatus): VsiTlv {
  return {
    kind: 'vsi',
    mode,
    status,
    typeId: vsi.typeId,
    typeVersion: vsi.typeVersion,
    vsiid: vsi.vsiid,
    filter: vsi.filter,
  }
}

function sameVsi(vsi: BridgeVsi, group: VsiTlvGroup): boolean {
  const t = group.vsi
  return (
    vsi.managerId.equals(group.managerId) &&
    vsi.typeId === t.typeId &&
    vsi.typeVersion === t.typeVersion &&
    vsi.filter.format === t.filter.format &&
    vsi.filter.entries.length === t.filter.entries.length &&
    vsi.filter.entries.every((e, i) => e.mac === t.filter.entries[i].mac && e.groupId === t.filter.entries[i].groupId)
  )
}

/**
 * lldpad's filter compare for a known VSI: manager, type, format, and every entry's MAC, group and VID equal
 * to what it holds (or to what the station was last told, after a changeVlan).
 */
function sameFilterAsHeld(vsi: BridgeVsi, group: VsiTlvGroup): boolean {
  if (!sameVsi(vsi, group)) return false
  const asked = group.vsi.filter.entries
  // Gentler than lldpad's debug build on one point: a De-Associate with VID 0 ends the VSI whatever VLAN it
  // holds, because a station that crashed before the answer arrived cannot know the VLAN (docs/tor-simulator.md).
  if (group.vsi.mode === 'deassoc' && asked.every((e) => e.vid === 0)) return true
  const equalVids = (held: VsiFilter) => held.entries.every((e, i) => e.vid === asked[i].vid)
  return equalVids(vsi.filter) || equalVids(vsi.announced)
}

/** The request asks for the VIDs the bridge holds (0 = whatever the bridge chose). */
function keepsVids(requested: VsiFilter, held: VsiFilter): boolean {
  return requested.entries.every((e, i) => e.vid === 0 || e.vid === held.entries[i].vid)
}

function withVids(filter: VsiFilter, vidOf: (e: FilterEntry) => number): VsiFilter {
  return {format: filter.format, entries: filter.entries.map((e) => ({...e, vid: vidOf(e)}))}
}

/** lldpad's checks (docs/wire-notes.md §Filter info): error 5 for a bad VID, MAC or group, 1 for a bad layout. */
function invalidFilter(filter: VsiFilter): number | undefined {
  if (filter.format === 1 && filter.entries.length > 1 && filter.entries.some((e) => e.vid === 0)) {
    return VDP_ERROR.invalidFormat
  }
  for (const e of filter.entries) {
    if (e.vid === 1 || e.vid === 4095) return VDP_ERROR.invalidVidGroupOrMac
    if (hasMac(filter.format) && !isUsableUnicastMac(e.mac ?? '')) return VDP_ERROR.invalidVidGroupOrMac
    if (hasGroup(filter.format) && !e.groupId) return VDP_ERROR.invalidVidGroupOrMac
  }
  return undefined
}

function checkPolicy(policy: VlanPolicy): VlanPolicy {
  if (policy.kind === 'pool') {
    const {from, to} = policy
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 2 || to > 4094 || from > to) {
      throw new VdpBridgeError(
        'VLAN_POOL_INVALID',
        `a VLAN pool must satisfy 2 ≤ from ≤ to ≤ 4094, got ${from}..${to}`,
        {
          from,
          to,
        },
      )
    }
  }
  return policy
}
