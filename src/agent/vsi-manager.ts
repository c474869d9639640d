import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {FrameIO, FrameSocket} from '../net/frames.js'
import type {VsiRecord} from '../model/vsi.js'
import {ciscoTlvs} from '../vdp/cisco-oui.js'
import type {Clock} from '../core/clock.js'
import {ECP_ETHERTYPE} from '../vdp/ecp-codec.js'
import {type EcpCounters, EcpTransport} from '../vdp/ecp-transport.js'
import {NEAREST_CUSTOMER_BRIDGE_MAC} from '../vdp/mac.js'
import {managerIdFromText} from '../vdp/manager-id.js'
import {FAST_PEER, lldpadPeerProfile} from '../vdp/peer-profile.js'
import {type VdpStationCounters, VdpStation, type VsiEvent} from '../vdp/station.js'
import type {VsiFilter} from '../vdp/vsi-filter.js'
import type {VsiRequest} from '../vdp/vsi-request.js'
import {macVsiid, uuidVsiid, vsiidKey, type Vsiid} from '../vdp/vsiid.js'
import {type EvbNegotiated, type EvbValues, evbValuesOf} from '../model/evb.js'

/** lldpad parses a VDPDU 2 ms after receiving it into one buffer: keep ECPDUs further apart (docs/vdp.md). */
const LLDPAD_MIN_TX_GAP_MS = 3

/** How one request ended. */
export type VsiOutcome =
  | {ok: true; vid: number | null}
  | {ok: false; reason: string; hard: boolean; code?: number}

/** Unsolicited news about an association (keep-alive failures, bridge De-Associate, VLAN change). */
export type VsiNotice =
  | {type: 'lost'; portUuid: string; reason: string; hard: boolean}
  | {type: 'vlan-changed'; portUuid: string; from: number | null; to: number | null}

export interface VsiManagerDeps {
  frames: FrameIO
  clock: Clock
  log: Logger
  config: () => AgentConfig
  onNotice(notice: VsiNotice): void
}

interface Session {
  ifname: string
  socket: FrameSocket
  transport: EcpTransport
  station: VdpStation
}

interface Waiter {
  op: 'assoc' | 'deassoc'
  portUuid: string
  resolve(outcome: VsiOutcome): void
}

/** The negotiated values; without a bridge's EVB TLV (a static uplink to a bridge that sends none), our own proposals. */
export function evbValues(negotiated: EvbNegotiated | null | undefined, cfg: AgentConfig): EvbValues {
  return evbValuesOf(negotiated ?? {retries: cfg.lldp.evb_retries, rte: cfg.lldp.evb_rte, rwd: cfg.lldp.evb_rwd, rka: cfg.lldp.evb_rka})
}

/** The VDP request for one VM port, from the config's VSIID and filter formats. */
export function vsiRequestFor(rec: Pick<VsiRecord, 'portUuid' | 'mac' | 'segmentationId' | 'vmName' | 'vmUuid' | 'ipv4' | 'vlan'>, cfg: AgentConfig, vid = rec.vlan ?? 0): VsiRequest {
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
export class VsiManager {
  private session?: Session
  private readonly waiters = new Map<string, Waiter>()
  /** VSI key -> port UUID, for notices about VSIs nobody is waiting on. */
  private readonly ports = new Map<string, string>()

  constructor(private readonly deps: VsiManagerDeps) {}

  get uplink(): string | undefined {
    return this.session?.ifname
  }

  counters(): {station: Readonly<VdpStationCounters>; transport: Readonly<EcpCounters>} | undefined {
    const s = this.session
    return s ? {station: s.station.counters, transport: s.transport.counters} : undefined
  }

  /** Open the VDP session on `ifname` (closing any other). */
  open(ifname: string, mac: string, negotiated: EvbNegotiated | null | undefined): void {
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
      peerMac: NEAREST_CUSTOMER_BRIDGE_MAC,
      params: {retries: evb.retries, rte: evb.rte},
      minTxGapMs: lldpad ? LLDPAD_MIN_TX_GAP_MS : 0,
    })
    socket = this.deps.frames.open(ifname, ECP_ETHERTYPE, {
      multicast: [NEAREST_CUSTOMER_BRIDGE_MAC],
      onFrame: (frame) => transport.receive(frame),
      onError: (err) => this.deps.log.debug({ifname, err: err.message}, 'ECP socket error'),
    })
    const station = new VdpStation({
      clock: this.deps.clock,
      transport,
      evb,
      peer: lldpad ? lldpadPeerProfile(evb) : FAST_PEER,
      onEvent: (event) => this.onEvent(event),
    })
    this.session = {ifname, socket, transport, station}
    this.deps.log.info({ifname, evb, profile: cfg.vdp.bridge_profile}, 'VDP session opened')
  }

  /** The uplink went away: every awaited request fails, the switch will age its associations out. */
  close(reason: string): void {
    const s = this.session
    if (!s) return
    this.session = undefined
    s.station.close()
    s.transport.close()
    s.socket.close()
    for (const w of this.waiters.values()) w.resolve({ok: false, reason, hard: false})
    this.waiters.clear()
    this.ports.clear()
    this.deps.log.info({ifname: s.ifname, reason}, 'VDP session closed')
  }

  setEvb(negotiated: EvbNegotiated | null | undefined): void {
    const s = this.session
    if (!s) return
    const evb = evbValues(negotiated, this.deps.config())
    s.transport.updateParams({retries: evb.retries, rte: evb.rte})
    s.station.setParams(evb)
  }

  /** Associate one VM port; resolves when the switch answered (or the exchange failed). */
  associate(rec: VsiRecord): Promise<VsiOutcome> {
    return this.associateMany([rec])[0]
  }

  /** Associate many at once: the station packs their TLVs into as few ECPDUs as fit. */
  associateMany(recs: readonly VsiRecord[]): Promise<VsiOutcome>[] {
    const s = this.session
    if (!s) return recs.map(() => Promise.resolve({ok: false as const, reason: 'no uplink', hard: false}))
    const cfg = this.deps.config()
    const outcomes = recs.map((rec) => this.await(vsiidKey(this.vsiidOf(rec, cfg)), 'assoc', rec.portUuid))
    const requests = recs.map((rec) => vsiRequestFor(rec, cfg))
    const {accepted, rejected} = s.station.associateMany(requests)
    for (const r of rejected) this.settle(vsiidKey(r.input.vsiid), {ok: false, reason: r.error.message, hard: true})
    // An identical association already in place produces no exchange: it stands as it is.
    for (const view of accepted) {
      if (view.state === 'associated' && !view.pending) this.settle(view.key, {ok: true, vid: view.vids[0] ?? null})
    }
    return outcomes
  }

  /** De-associate one VM port; resolves when the switch confirmed it (or it is gone anyway). */
  deassociate(rec: VsiRecord): Promise<VsiOutcome> {
    const s = this.session
    if (!s) return Promise.resolve({ok: false, reason: 'no uplink', hard: false})
    const vsiid = this.vsiidOf(rec, this.deps.config())
    const key = vsiidKey(vsiid)
    const outcome = this.await(key, 'deassoc', rec.portUuid)
    let view
    try {
      view = s.station.deassociate(vsiid)
    } catch (err) {
      this.settle(key, {ok: false, reason: errorMessage(err), hard: false})
      return outcome
    }
    // The station does not know it (never associated here): nothing to tell the switch.
    if (!view) this.settle(key, {ok: true, vid: null})
    return outcome
  }

  private vsiidOf(rec: Pick<VsiRecord, 'portUuid' | 'mac'>, cfg: AgentConfig): Vsiid {
    return cfg.vdp.vsiid_format === 'mac' ? macVsiid(rec.mac) : uuidVsiid(rec.portUuid)
  }

  private await(key: string, op: 'assoc' | 'deassoc', portUuid: string): Promise<VsiOutcome> {
    // A newer request for the same VSI supersedes the older one's wait.
    this.settle(key, {ok: false, reason: 'superseded by a newer request', hard: false})
    this.ports.set(key, portUuid)
    return new Promise((resolve) => this.waiters.set(key, {op, portUuid, resolve}))
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
        if (waiter?.op === 'assoc') this.settle(e.key, {ok: true, vid: e.vids[0] || null})
        return
      case 'vlan-changed':
        if (portUuid) this.deps.onNotice({type: 'vlan-changed', portUuid, from: e.from[0] ?? null, to: e.to[0] ?? null})
        return
      case 'deassociated':
        if (waiter) this.settle(e.key, waiter.op === 'deassoc' ? {ok: true, vid: null} : {ok: false, reason: `the switch de-associated it: ${e.text}`, hard: false})
        else if (portUuid && e.initiator === 'bridge') this.deps.onNotice({type: 'lost', portUuid, reason: `de-associated by the switch: ${e.text}`, hard: false})
        this.ports.delete(e.key)
        return
      case 'failed':
        if (e.state !== 'removed') {
          this.deps.log.warn({vsi: e.key, operation: e.operation, text: e.text, keep: e.keep}, 'VDP exchange failed; the association stands')
          return
        }
        if (waiter) this.settle(e.key, waiter.op === 'deassoc' ? {ok: true, vid: null} : {ok: false, reason: e.text, hard: e.hard, code: e.code})
        else if (portUuid) this.deps.onNotice({type: 'lost', portUuid, reason: e.text, hard: e.hard})
        this.ports.delete(e.key)
        return
      case 'preassociated':
        return
    }
  }
}
