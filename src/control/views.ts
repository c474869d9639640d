/**
 * The views the daemon answers on the control socket (and the CLI builds from the database when the daemon is
 * down): the result shapes of `ControlMethods` (./protocol.ts), with the functions that build them from the store.
 */
import type {TaskView} from '../core/scheduler.js'
import {isEvbBridgeNeighbor} from '../lldp-agent/neighbor-table.js'
import type {Store} from '../store/store.js'
import type {UplinkRecord} from '../model/uplink.js'
import type {VsiState} from '../model/vsi.js'
import type {VdpSessionStatus} from '../agent/vsi-manager.js'
import type {LldpInterfaceStats} from '../lldp-agent/lldp-agent.js'
import type {NeighborRecord} from '../model/neighbor.js'
import type {RpcStatus} from '../rpc/controller-link.js'

export interface UplinkView {
  ifname: string | null
  source: UplinkRecord['source']
  state: UplinkRecord['state']
  detectedOn: string | null
  bondMembers: string[]
  reason: string | null
  changedAt: string | null
  /** EVB values negotiated with the bridge on this uplink (R, RTE, RWD, RKA...). */
  evb: UplinkRecord['evb']
}

export interface StatusView {
  /** Where the answer came from: the running daemon, or its database when it is down. */
  source: 'daemon' | 'database'
  daemon: {running: boolean; pid?: number; startedAt?: string; version?: string; configFile?: string | null}
  hostId?: string
  uplink: UplinkView
  neighbors: {total: number; evbBridges: number}
  vsis: {total: number; byState: Partial<Record<VsiState, number>>}
  outbox: {pending: number}
  queue?: {waiting: number; inFlight: number}
  override?: {path: string; ifname: string | null; error: string | null}
  /** The controller link (src/rpc/controller-link.ts RpcStatus), or transport local. */
  rpc?: {transport: 'local'} | RpcStatus
  /** LLDPDUs the running daemon discarded since its start, by the rule they broke (`vdp-agent lldp stats`). */
  lldpDiscards?: {total: number; byRule: Record<string, number>}
  /** Whether the daemon's database writes succeed; when not, since when, why, and how many writes wait. */
  store?: StoreView
  /** The daemon's periodic tasks (reconcile, prune, …): period, last run and error, counts. */
  tasks?: TaskView[]
  /** The VDP session on the uplink (running daemon only): EVB state, the switch's MAC, refused ECP frames. */
  vdp?: VdpSessionStatus | null
}

export interface StoreView {
  path: string
  writable: boolean
  failingSince: string | null
  lastError: string | null
  pending: number
}

export function storeView(store: Store): StoreView {
  const h = store.health()
  return {
    path: store.path,
    writable: h.writable,
    failingSince: h.failingSince === null ? null : new Date(h.failingSince).toISOString(),
    lastError: h.lastError,
    pending: h.pending,
  }
}

export function uplinkView(rec: UplinkRecord | undefined): UplinkView {
  return {
    ifname: rec?.ifname ?? null,
    source: rec?.source ?? null,
    state: rec?.state ?? 'none',
    detectedOn: rec?.detectedOn ?? null,
    bondMembers: rec?.bondMembers ?? [],
    reason: rec?.reason ?? 'no uplink recorded yet',
    // Whole milliseconds, as the store keeps them: the live record and the one read back after a restart agree.
    changedAt: rec ? new Date(Math.round(rec.changedAt)).toISOString() : null,
    evb: rec?.evb ?? null,
  }
}

/** The part of the status that the database alone can answer. */
export function statusFromStore(store: Store): Omit<StatusView, 'source' | 'daemon'> {
  const byState = store.vsis.countsByState()
  const neighbors = store.neighbors.list()
  return {
    uplink: uplinkView(store.uplink.get()),
    neighbors: {total: neighbors.length, evbBridges: neighbors.filter(isEvbBridgeNeighbor).length},
    vsis: {total: Object.values(byState).reduce((a, b) => a + (b ?? 0), 0), byState},
    outbox: {pending: store.outbox.pendingCount()},
  }
}

/** `uplink show`: the uplink, plus (from a running daemon) the mode, the override file and the LLDP ports. */
export type UplinkShowData = UplinkView & {
  mode?: string
  override?: {path: string; ifname: string | null; error: string | null}
  lldp?: {listening: string[]; transmitting: string[]}
}

/** A neighbour as `neighbors` returns it; `frame` (hex of its last LLDP frame) only from a running daemon. */
export type NeighborView = NeighborRecord & {frame?: string}

/** What the daemon's `lldp.stats` control method answers. */
export interface LldpStatsView {
  listening: string[]
  transmitting: string[]
  interfaces: Record<string, LldpInterfaceStats>
}
