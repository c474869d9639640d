/**
 * Control-socket protocol: one JSON object per line each way over a Unix stream socket.
 * Request {id, method, params?}; response {id, ok: true, result} or {id, ok: false, error: {code, message}}.
 */
import type {VmUpRequest} from '../agent/vm-port.js'
import type {VdpTotals} from '../agent/vsi-manager.js'
import type {AuditResult, FlowsView} from '../dataplane/dataplane.js'
import type {RpcStatus} from '../rpc/controller-link.js'
import type {ErrorCode} from '../error-codes.js'
import type {LldpStatsView, NeighborView, StatusView, UplinkShowData} from './views.js'
import type {JournalEntry, JournalQuery} from '../store/journal-repo.js'
import type {VsiRecord} from '../model/vsi.js'
import type {EcpCounters} from '../vdp/ecp-transport.js'
import type {VdpStationCounters} from '../vdp/station.js'

export interface ControlRequest {
  id: number
  method: string
  params?: unknown
}

interface ControlErrorBody {
  /** One of the closed set (src/error-codes.ts); a newer daemon may send one this CLI does not know. */
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

export type ControlResponse = {id: number; ok: true; result: unknown} | {id: number; ok: false; error: ControlErrorBody}

/** A request line longer than this is refused: the protocol carries commands, not bulk data. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024

/** Request params nesting deeper than this are refused before any handler sees them (a VM event is 3 deep). */
export const MAX_PARAMS_DEPTH = 32

export function isControlRequest(v: unknown): v is ControlRequest {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return typeof r.id === 'number' && Number.isSafeInteger(r.id) && typeof r.method === 'string' && r.method.length <= 64
}

/**
 * The daemon's control methods: each one's params (as the CLI sends them; the daemon still validates them as
 * untrusted JSON) and result (the view the daemon answers). The daemon's handler table (`DaemonHandlers`) and
 * the CLI's `callDaemon` are both checked against this one map, so a renamed method or a changed result fails
 * to compile on both sides (the pattern of zwave-js-server's ResultTypes). A new method is one row here plus
 * its handler in src/daemon/control-handlers.ts.
 */
interface ControlMethods {
  status: {params: void; result: StatusView}
  'uplink.show': {params: void; result: UplinkShowData}
  /** `uplink set`/`clear`: re-read the override and decide now; with {ifname}, whether that port exists here. */
  'uplink.reevaluate': {params: {ifname?: string} | void; result: UplinkReevaluated}
  /** Whether the daemon sees an interface of that name (its link table), and its carrier: `uplink set` asks first. */
  'link.get': {params: {ifname: string}; result: {ifname: string; exists: boolean; carrier: boolean}}
  /** With {frames: true} each neighbour carries the hex of its last LLDP frame (`neighbors -v`). */
  neighbors: {params: {frames?: boolean} | void; result: NeighborView[]}
  'lldp.stats': {params: void; result: LldpStatsView}
  'vsi.list': {params: void; result: VsiRecord[]}
  journal: {params: JournalQuery; result: JournalEntry[]}
  'vsi.get': {params: {portUuid: string}; result: VsiRecord | null}
  'vm.up': {params: VmUpRequest; result: VsiRecord & {queued: boolean}}
  'vm.down': {params: {portUuid: string}; result: VsiRecord & {queued: boolean}}
  'vm.bulk': {params: VmBulkRequest; result: VmBulkResult}
  'vdp.stats': {params: void; result: VdpStatsView}
  'config.reload': {params: void; result: ConfigReloadResult}
  /** `flows`: the dataplane's desired and installed flows; null before the dataplane is up. */
  'dataplane.flows': {params: void; result: FlowsView | null}
  /** `flows --audit`: add what is missing, delete what is stale, now. */
  'dataplane.audit': {params: void; result: AuditResult | null}
  /** `rpc status`: the controller link, or {transport: 'local'}. */
  'rpc.status': {params: void; result: RpcStatusView}
}

/** `rpc status`: the controller link's state; from the database (daemon down) only its outbox. */
export type RpcStatusView =
  | {transport: 'local'}
  | RpcStatus
  | {transport: 'amqp'; broker: string; connected: false; outbox: {pending: number; oldestAt: string | null}}

/** The shape of a method map: ControlMethods, or another server's (the lab's ToR simulator: TorControlMethods). */
export type MethodMap<Map> = {[M in keyof Map]: {params: unknown; result: unknown}}

/** A server's handler table for a method map: one handler per method, params as unknown JSON (validated by its parser). */
export type HandlersOf<Map extends MethodMap<Map>> = {
  [M in keyof Map]: (params: unknown) => Map[M]['result'] | Promise<Map[M]['result']>
}

export type ControlMethod = keyof ControlMethods
export type ControlParams<M extends ControlMethod> = ControlMethods[M]['params']
export type ControlResult<M extends ControlMethod> = ControlMethods[M]['result']

/** The daemon's handler table: one handler per method, params as unknown JSON (validated by its parser). */
export type DaemonHandlers = HandlersOf<ControlMethods>

/** `uplink.reevaluate`: like `uplink.show`, plus for {ifname} whether it exists and has carrier here. */
export type UplinkReevaluated = UplinkShowData & {requested?: {ifname: string; exists: boolean; carrier: boolean}}

/** `vm.bulk`: ports to associate and port UUIDs to de-associate (either may be left out, not both). */
export interface VmBulkRequest {
  up?: VmUpRequest[]
  down?: string[]
}

export interface VmBulkResult {
  up: number
  alreadyAssociated: number
  down: number
  unknownDown: number
  queued: number
}

/** `vdp.stats`: the VDP session's uplink and counters; nulls when no session is open. */
interface VdpStatsView {
  uplink: string | null
  station: Readonly<VdpStationCounters> | null
  transport: Readonly<EcpCounters> | null
  /** Counters added up over every session since the daemon started (the metrics read these). */
  totals: VdpTotals | null
}

/** `config.reload` (also SIGHUP): whether the file was taken, and the keys that wait for a restart. */
export interface ConfigReloadResult {
  ok: boolean
  error?: string
  restartNeeded: string[]
}
