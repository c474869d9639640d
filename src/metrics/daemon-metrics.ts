/**
 * The daemon's Prometheus metrics (prom-client; names and units per the Prometheus naming conventions:
 * `vdp_agent_` prefix, `_total` counters, seconds). Most values are read from the daemon's own state at
 * scrape time (collect()), so there is one source of truth: the store, the queue, the LLDP agent's and the
 * VDP session's counters. Only what the daemon does not keep anywhere else is counted here: association
 * latency, VDP failures by reason, and the runs of periodic tasks.
 *
 * The controller link's (`rpc_*`) and the dataplane's (`dataplane_*`) series exist only when the daemon
 * has that part (`[rpc] transport = amqp`, `[dataplane] driver = ovs`): with transport local or driver
 * none there is nothing to report, and a constant 0 would read as an outage.
 */
import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from 'prom-client'

import {PRIORITIES, type Priority} from '../agent/event-queue.js'
import type {DataplaneStats} from '../dataplane/dataplane.js'
import type {VsiState} from '../model/vsi.js'

const METRIC_PREFIX = 'vdp_agent_'
const VSI_STATES: readonly VsiState[] = ['pending', 'associating', 'associated', 'deassociating', 'failed']

/** What the daemon can tell at any moment; each call reads current state (no copies kept here). */
export interface MetricsSources {
  uplink(): {ifname: string | null; source: string | null; state: string}
  neighborsByInterface(): Record<string, number>
  vsisByState(): Partial<Record<VsiState, number>>
  queue(): {waiting: Record<Priority, number>; inFlight: number}
  /** Undelivered outbox messages and the creation time (ms since the epoch) of the oldest. */
  outbox(): {pending: number; oldestCreatedAt: number | null}
  /** LLDPDUs discarded per interface and 802.1AB rule, since the daemon started. */
  lldpRejectedByRule(): Record<string, Record<string, number>>
  /** ECP counters of every VDP session since the daemon started (not only the current uplink's). */
  ecp(): {retransmissions: number; timeouts: number}
  /** Wall clock, ms since the epoch (injected for tests). */
  now(): number
  /** The controller link (`[rpc] transport = amqp` only); null before it is created. */
  rpc?(): RpcMetricsSource | null
  /** The dataplane (`driver = ovs` only); read once per scrape, as it asks OVS for the installed flows. */
  dataplane?(): Promise<DataplaneStats | null>
}

/** The controller link's state as the metrics need it (src/rpc/controller-link.ts RpcStatus). */
export interface RpcMetricsSource {
  connected: boolean
  /** When the last heartbeat cast went out, ms since the epoch; null before the first. */
  lastHeartbeatAt: number | null
  heartbeatsSent: number
  badMessages: number
}

/** Bridge error codes as label values (802.1Qbg-2012 Table 41-3; src/vdp/vsi-status.ts). */
const BRIDGE_ERROR_REASON = [
  'success',
  'invalid_format',
  'insufficient_resources',
  'vsi_manager_unreachable',
  'other_failure',
  'invalid_vid_group_or_mac',
]

/** The `reason` label of a VDP failure: the bridge's error for a rejection, else the station's reason. */
export function vdpErrorReason(reason: string, code?: number): string {
  if (reason !== 'rejected' || code === undefined) return reason
  return BRIDGE_ERROR_REASON[code] ?? `reserved_error_${code}`
}

export class DaemonMetrics {
  readonly registry = new Registry()
  private readonly associationSeconds: Histogram<'operation'>
  private readonly vdpErrors: Counter<'operation' | 'reason'>
  private readonly taskRuns: Counter<'task'>
  private readonly taskErrors: Counter<'task'>
  private readonly taskLastSuccess: Gauge<'task'>
  private readonly startedAt: number
  /** The dataplane's stats, read once at the start of each scrape() (one pair of dump-flows per scrape). */
  private dataplaneStats: DataplaneStats | null = null

  constructor(
    private readonly sources: MetricsSources,
    options: {processMetrics?: boolean} = {},
  ) {
    const registers = [this.registry]
    const s = sources
    if (options.processMetrics ?? true) collectDefaultMetrics({register: this.registry})
    this.startedAt = s.now()
    if (s.rpc) this.registerRpc(s.rpc.bind(s))
    if (s.dataplane) this.registerDataplane()

    new Gauge({
      name: `${METRIC_PREFIX}uplink_up`,
      help: 'Whether the uplink to the ToR switch is up (1) or not (0).',
      registers,
      collect() {
        this.set(s.uplink().state === 'up' ? 1 : 0)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}uplink_info`,
      help: 'The uplink: interface, how it was chosen (override, static, lldp) and its state; always 1.',
      labelNames: ['interface', 'source', 'state'],
      registers,
      collect() {
        this.reset()
        const u = s.uplink()
        this.set({interface: u.ifname ?? '', source: u.source ?? '', state: u.state}, 1)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}lldp_neighbors`,
      help: 'LLDP neighbours known per interface.',
      labelNames: ['interface'],
      registers,
      collect() {
        this.reset()
        for (const [ifname, n] of Object.entries(s.neighborsByInterface())) this.set({interface: ifname}, n)
      },
    })
    new Counter({
      name: `${METRIC_PREFIX}lldp_rejected_frames_total`,
      help: 'LLDPDUs discarded per interface and the 802.1AB rule they broke.',
      labelNames: ['interface', 'rule'],
      registers,
      collect() {
        this.reset()
        for (const [ifname, rules] of Object.entries(s.lldpRejectedByRule())) {
          for (const [rule, n] of Object.entries(rules)) this.inc({interface: ifname, rule}, n)
        }
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}vsis`,
      help: 'VM ports (VSIs) by association state.',
      labelNames: ['state'],
      registers,
      collect() {
        const byState = s.vsisByState()
        for (const state of VSI_STATES) this.set({state}, byState[state] ?? 0)
      },
    })
    this.associationSeconds = new Histogram({
      name: `${METRIC_PREFIX}vsi_association_duration_seconds`,
      help: 'Time from sending a VDP request for a VM port to the switch’s successful answer (ECP retransmissions included).',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.vdpErrors = new Counter({
      name: `${METRIC_PREFIX}vdp_errors_total`,
      help: 'Failed VDP exchanges by operation and reason: the bridge’s error (invalid_format, insufficient_resources, ...), timeout, mismatch or local.',
      labelNames: ['operation', 'reason'],
      registers,
    })
    new Counter({
      name: `${METRIC_PREFIX}ecp_retransmissions_total`,
      help: 'ECPDUs sent again because no ACK came within the ACK timer (all VDP sessions since start).',
      registers,
      collect() {
        this.reset()
        this.inc(s.ecp().retransmissions)
      },
    })
    new Counter({
      name: `${METRIC_PREFIX}ecp_timeouts_total`,
      help: 'ECPDUs abandoned after 1 + R transmissions without an ACK (all VDP sessions since start).',
      registers,
      collect() {
        this.reset()
        this.inc(s.ecp().timeouts)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}queue_depth`,
      help: 'Events waiting in the work queue, per priority.',
      labelNames: ['priority'],
      registers,
      collect() {
        const q = s.queue()
        for (const p of PRIORITIES) this.set({priority: p}, q.waiting[p])
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}queue_in_flight`,
      help: 'Events being processed.',
      registers,
      collect() {
        this.set(s.queue().inFlight)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}outbox_pending`,
      help: 'Messages for the controller not yet delivered.',
      registers,
      collect() {
        this.set(s.outbox().pending)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}outbox_oldest_age_seconds`,
      help: 'Age of the oldest undelivered outbox message; 0 when none is pending.',
      registers,
      collect() {
        const {oldestCreatedAt} = s.outbox()
        this.set(oldestCreatedAt === null ? 0 : Math.max(0, (s.now() - oldestCreatedAt) / 1000))
      },
    })
    this.taskRuns = new Counter({
      name: `${METRIC_PREFIX}task_runs_total`,
      help: 'Runs of each periodic task.',
      labelNames: ['task'],
      registers,
    })
    this.taskErrors = new Counter({
      name: `${METRIC_PREFIX}task_errors_total`,
      help: 'Runs of each periodic task that failed.',
      labelNames: ['task'],
      registers,
    })
    this.taskLastSuccess = new Gauge({
      name: `${METRIC_PREFIX}task_last_success_timestamp_seconds`,
      help: 'When each periodic task last succeeded (seconds since the epoch; 0 never).',
      labelNames: ['task'],
      registers,
    })
  }

  private registerRpc(rpc: () => RpcMetricsSource | null): void {
    const registers = [this.registry]
    const s = this.sources
    const startedAt = this.startedAt
    new Gauge({
      name: `${METRIC_PREFIX}rpc_connected`,
      help: 'Whether the AMQP connection to the controller’s broker is up (1) or not (0).',
      registers,
      collect() {
        this.set(rpc()?.connected ? 1 : 0)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}rpc_heartbeat_age_seconds`,
      help: 'Time since the last heartbeat cast to the controller went out (since the daemon started if none has).',
      registers,
      collect() {
        this.set(Math.max(0, (s.now() - (rpc()?.lastHeartbeatAt ?? startedAt)) / 1000))
      },
    })
    new Counter({
      name: `${METRIC_PREFIX}rpc_heartbeats_total`,
      help: 'Heartbeat casts sent to the controller since the daemon started.',
      registers,
      collect() {
        this.reset()
        this.inc(rpc()?.heartbeatsSent ?? 0)
      },
    })
    new Counter({
      name: `${METRIC_PREFIX}rpc_bad_messages_total`,
      help: 'Messages from the controller dropped as malformed (bad envelope, method or arguments) since the daemon started.',
      registers,
      collect() {
        this.reset()
        this.inc(rpc()?.badMessages ?? 0)
      },
    })
  }

  private registerDataplane(): void {
    const registers = [this.registry]
    const stats = () => this.dataplaneStats
    new Gauge({
      name: `${METRIC_PREFIX}dataplane_ready`,
      help: 'Whether the OVS dataplane is ready to program flows (1) or not (0: no uplink, OVS down, patch missing).',
      registers,
      collect() {
        this.set(stats()?.ready ? 1 : 0)
      },
    })
    new Gauge({
      name: `${METRIC_PREFIX}dataplane_flows`,
      help: 'OpenFlow flows of ours (by cookie) installed per bridge, read from OVS at scrape time.',
      labelNames: ['bridge'],
      registers,
      collect() {
        this.reset()
        for (const [bridge, n] of Object.entries(stats()?.flowsByBridge ?? {})) this.set({bridge}, n)
      },
    })
    const counter = (name: string, help: string, value: (d: DataplaneStats) => number) =>
      new Counter({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.reset()
          const d = stats()
          this.inc(d ? value(d) : 0)
        },
      })
    counter('dataplane_audits_total', 'Flow audits run since the daemon started.', (d) => d.audits)
    counter(
      'dataplane_audit_flows_added_total',
      'Missing flows of ours that audits put back.',
      (d) => d.auditFlowsAdded,
    )
    counter(
      'dataplane_audit_flows_removed_total',
      'Stale flows of ours that audits deleted.',
      (d) => d.auditFlowsRemoved,
    )
  }

  /** A VDP request was answered with success after `seconds`. */
  observeAssociation(operation: 'assoc' | 'deassoc', seconds: number): void {
    this.associationSeconds.observe({operation}, seconds)
  }

  /** A VDP exchange failed (the station's `failed` event: reason, bridge error code). */
  countVdpError(operation: string, reason: string, code?: number): void {
    this.vdpErrors.inc({operation, reason: vdpErrorReason(reason, code)})
  }

  /** Declare a periodic task so its series exist (at 0) before its first run. */
  declareTask(task: string): void {
    this.taskRuns.inc({task}, 0)
    this.taskErrors.inc({task}, 0)
    this.taskLastSuccess.set({task}, 0)
  }

  /** Run one round of a periodic task, counting the run and its outcome (an async one when it settles); errors are rethrown. */
  runTask<T>(task: string, fn: () => T): T {
    this.taskRuns.inc({task})
    const failed = (err: unknown) => {
      this.taskErrors.inc({task})
      throw err
    }
    const succeeded = () => this.taskLastSuccess.set({task}, this.sources.now() / 1000)
    let result: T
    try {
      result = fn()
    } catch (err) {
      return failed(err)
    }
    if (result instanceof Promise)
      return result.then((value: unknown) => {
        succeeded()
        return value
      }, failed) as T
    succeeded()
    return result
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async scrape(): Promise<string> {
    if (this.sources.dataplane) this.dataplaneStats = await this.sources.dataplane().catch(() => null)
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
