import {EventQueue, type QueueItem} from '../agent/event-queue.js'
import {type AgentEvent, UPLINK_QUEUE_KEY} from '../agent/events.js'
import {VmIntake} from '../agent/intake.js'
import {lldpSettings} from '../agent/lldp-settings.js'
import {Processor} from '../agent/processor.js'
import {VdpReconciler} from '../agent/reconciler.js'
import {StoreResultSink} from '../agent/result-sink.js'
import {VsiManager} from '../agent/vsi-manager.js'
import {type LoadedConfig, loadConfig} from '../config/load.js'
import type {AgentConfig} from '../config/schema.js'
import type {Clock} from '../core/clock.js'
import {type PeriodicTask, Scheduler} from '../core/scheduler.js'
import type {Dataplane} from '../dataplane/dataplane.js'
import {errorMessage} from '../errors.js'
import {LldpAgent, discardTotals} from '../lldp-agent/lldp-agent.js'
import type {Logger} from '../log/logger.js'
import {DaemonMetrics} from '../metrics/daemon-metrics.js'
import {MetricsServer, parseMetricsListen} from '../metrics/server.js'
import type {FrameIO} from '../net/frames.js'
import type {LinkMonitor} from '../net/links.js'
import type {ControllerLink, ControllerLinkDeps} from '../rpc/controller-link.js'
import {VmResultOutbox} from '../rpc/vm-result-outbox.js'
import type {Store} from '../store/store.js'
import {OverrideWatcher} from '../uplink/override-watch.js'
import {UplinkService, type UplinkTransition, linkWatchOf} from '../uplink/service.js'
import {VERSION} from '../version.js'
import type {ConfigReloadResult} from '../control/protocol.js'
import {type StatusView, statusFromStore, storeView, uplinkView} from '../control/views.js'

/** Journal entries kept (about a day of a busy host's VM churn, a few MB). */
const JOURNAL_KEEP = 100_000

/**
 * What the daemon talks to, built by its caller: the system's in production (src/daemon/system-edges.ts), the
 * in-memory ones in the whole-flow test (test/daemon/whole-flow.test.ts). The daemon starts and stops the
 * link monitor, the dataplane and the controller; the caller opened the store and closes it after `stop`.
 */
export interface DaemonEdges {
  clock: Clock
  /** The state database, open for writing (the daemon is its single writer). */
  store: Store
  /** LLDP and ECP frames. */
  frames: FrameIO
  /** The link inventory (rtnetlink in production); started by the daemon. */
  links: LinkMonitor
  /** The host's datapath ([dataplane] driver); `NoDataplane` when there is none. */
  dataplane: Dataplane
  /** The controller over oslo.messaging, with [rpc] transport = amqp: built once the intake exists. */
  controller?: (
    deps: Pick<ControllerLinkDeps, 'config' | 'store' | 'log' | 'clock' | 'intake' | 'startedAt'>,
  ) => ControllerLink
}

export interface DaemonOptions {
  loaded: LoadedConfig
  log: Logger
  /** For SIGHUP: the file to re-read (undefined: the default path or embedded defaults). */
  configPath?: string
}

/**
 * The vdp-agent daemon, the composition root of the agent: it receives its edges (clock, store, frame I/O, link
 * monitor, dataplane, controller) and wires the parts between them: the LLDP agent, the uplink service, the
 * VDP session (VsiManager), the VM intake, the work queue and its processor, the periodic tasks and the
 * metrics. `stop` is ordered so nothing is lost: periodic work and the controller stop first, then in-flight
 * work drains, then LLDP says goodbye (shutdown LLDPDUs).
 */
export class Daemon {
  readonly intake: VmIntake
  readonly lldp: LldpAgent
  readonly uplink: UplinkService
  readonly vsiManager: VsiManager
  readonly controller?: ControllerLink
  private config: AgentConfig
  private configFile: string | undefined
  /** For SIGHUP: the file to re-read (undefined: the default path or embedded defaults). */
  private readonly configPath: string | undefined
  private readonly log: Logger
  readonly store: Store
  private readonly clock: Clock
  private readonly queue: EventQueue<AgentEvent>
  private readonly processor: Processor<AgentEvent>
  private readonly reconciler: VdpReconciler
  private readonly overrideWatch: OverrideWatcher
  /** All periodic work (`status` lists it): the daemon's own and what the parts offer; add it with `addTask`. */
  private readonly scheduler: Scheduler
  /** The tasks added, for SIGHUP (their periods are read again). */
  private readonly periodicTasks: PeriodicTask[] = []
  private readonly metrics: DaemonMetrics
  private metricsServer?: MetricsServer
  private readonly startedAt: Date
  private stopping?: Promise<void>

  constructor(
    opts: DaemonOptions,
    private readonly edges: DaemonEdges,
  ) {
    const {store, clock, frames, links, dataplane} = edges
    const cfg = opts.loaded.config
    this.config = cfg
    this.configFile = opts.loaded.file
    this.configPath = opts.configPath
    this.log = opts.log
    this.store = store
    this.clock = clock
    this.startedAt = new Date(clock.now())
    this.scheduler = new Scheduler({
      clock,
      onError: (task, err) =>
        this.log.error(
          {task, err: errorMessage(err)},
          `periodic task ${task} failed; it runs again at its next period`,
        ),
    })
    const capacity = cfg.general.queue_capacity
    this.queue = new EventQueue<AgentEvent>({
      capacity: {uplink: 1024, vm: capacity, bulk: Math.max(16, Math.ceil(capacity / 100))},
    })
    this.intake = new VmIntake({store, queue: this.queue, clock})
    this.metrics = this.createMetrics()
    this.watchStoreWrites()
    const config = () => this.config
    const macOf = (name: string) => links.get(name)?.mac ?? undefined

    this.lldp = new LldpAgent(lldpSettings(cfg), {frames, clock, log: this.log, macOf})
    this.uplink = new UplinkService({store, log: this.log, clock, links: linkWatchOf(links), lldp: this.lldp, config})
    this.vsiManager = new VsiManager({
      frames,
      clock,
      log: this.log,
      config,
      observer: {
        answered: (op, seconds) => this.metrics.observeAssociation(op, seconds),
        failed: (op, reason, code) => this.metrics.countVdpError(op, reason, code),
      },
      neighborsOn: (ifname) => this.lldp.table.onInterface(ifname),
      announceEvb: (ifname) => this.lldp.announce(ifname),
    })
    // Results go to SQLite, and to the controller's outbox in the same transaction when there is a controller.
    const results = new StoreResultSink(
      store,
      clock,
      cfg.rpc.transport === 'amqp' ? new VmResultOutbox(store.outbox) : undefined,
    )
    this.reconciler = new VdpReconciler({
      vsis: store.vsis,
      uplinkRecord: () => store.uplink.get(),
      results,
      session: this.vsiManager,
      queue: this.queue,
      log: this.log,
      clock,
      config,
      macOf,
      dataplane,
    })
    this.processor = new Processor(this.queue, (item) => this.handleEvent(item), this.log)
    this.controller = edges.controller?.({
      config,
      store,
      log: this.log,
      clock,
      intake: this.intake,
      startedAt: this.startedAt.getTime(),
    })
    this.overrideWatch = new OverrideWatcher(cfg.general.uplink_override_file, () =>
      this.uplink.overrideChanged('override file changed'),
    )

    this.lldp.on('neighbors', (events) => {
      this.uplink.onNeighborEvents(events)
      this.vsiManager.onNeighborEvents(events) // a switch restart, seen in its LLDPDUs (issue 9)
      this.controller?.neighborsChanged()
    })
    this.lldp.on('evb', (ifname) => this.uplink.evbChanged(ifname))
    this.uplink.on('transition', (t) => this.onUplinkTransition(t))
    this.uplink.on('evb', (evb) => this.vsiManager.setEvb(evb))
    this.vsiManager.on('notice', (n) => this.reconciler.onNotice(n))
    links.on('warning', (err) => this.log.warn({err: err.message}, 'link monitor warning'))
    links.on('error', (err) => this.log.error({err: err.message}, 'link monitor error'))
    links.on('resync', ({reason, events}) => this.log.info({reason, events}, 'link inventory re-read'))
  }

  /** Starts the parts in dependency order; the controller link last, once everything it feeds runs. */
  async start(): Promise<void> {
    this.processor.start()
    await this.edges.links.start()
    // The datapath (issue 12): seeded with what is associated, so its flows stay audited across restarts.
    await this.edges.dataplane.start(this.store.vsis.list().filter((v) => v.state === 'associated'))
    this.reconciler.start()
    this.uplink.start()
    // A restart with the uplink still up has no transition: resume VDP on it explicitly.
    const resumed = this.uplink.current
    if (resumed?.state === 'up' && resumed.ifname && resumed.source && !this.queue.hasPort(UPLINK_QUEUE_KEY)) {
      this.queue.push(
        'uplink',
        {kind: 'uplink-up', ifname: resumed.ifname, source: resumed.source},
        {ports: [UPLINK_QUEUE_KEY], exclusive: true},
      )
    }
    this.overrideWatch.start()
    this.scheduleTasks()
    await this.startMetricsServer()
    this.controller?.start()
    for (const task of this.controller?.tasks() ?? []) this.addTask(task)
    this.log.info(
      {
        version: VERSION,
        config: this.configFile ?? '(embedded defaults)',
        socket: this.config.general.control_socket,
        db: this.store.path,
      },
      'vdp-agent daemon started',
    )
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    this.log.info('vdp-agent daemon stopping')
    this.scheduler.stop()
    this.overrideWatch.stop()
    await this.controller
      ?.stop()
      .catch((err: unknown) => this.log.warn({err: errorMessage(err)}, 'controller RPC did not stop cleanly'))
    await this.metricsServer?.close()
    this.reconciler.stop()
    this.vsiManager.close('the daemon is stopping')
    const drained = await this.processor.stop()
    await this.edges.dataplane.stop()
    this.lldp.stop()
    this.uplink.stop()
    this.edges.links.stop()
    if (!drained) this.log.warn('in-flight events did not finish in time; they will be redone at the next start')
  }

  /** SIGHUP: re-read the config; a bad file is reported and the running config kept. */
  reload(): ConfigReloadResult {
    let next: LoadedConfig
    try {
      next = loadConfig(this.configPath)
    } catch (err) {
      const error = errorMessage(err)
      this.log.error({err: error}, 'config reload failed; keeping the running configuration')
      return {ok: false, error, restartNeeded: []}
    }
    for (const w of next.warnings) this.log.warn(w)
    const restartNeeded = (['state_dir', 'control_socket', 'uplink_override_file', 'queue_capacity'] as const).filter(
      (k) => next.config.general[k] !== this.config.general[k],
    )
    if (restartNeeded.length > 0)
      this.log.warn({keys: restartNeeded}, 'these [general] keys take effect at the next restart')
    const metricsMoved = next.config.metrics.listen !== this.config.metrics.listen
    // the controller link's identity and broker are fixed while it runs; its timers follow the file
    const rpcRestart = (
      ['transport', 'url', 'exchange', 'server_topic', 'agent_topic_prefix', 'durable_queues'] as const
    ).filter((k) => next.config.rpc[k] !== this.config.rpc[k])
    if (rpcRestart.length > 0) this.log.warn({keys: rpcRestart}, 'these [rpc] keys take effect at the next restart')
    const {heartbeat_interval, call_timeout, topology_interval} = next.config.rpc
    this.config = {
      ...next.config,
      general: this.config.general,
      rpc: {...this.config.rpc, heartbeat_interval, call_timeout, topology_interval},
    }
    this.configFile = next.file
    if (metricsMoved) void this.metricsServer?.close().then(() => this.startMetricsServer())
    for (const task of this.periodicTasks) this.scheduler.setPeriod(task.name, task.periodMs())
    this.lldp.updateSettings(lldpSettings(this.config))
    this.uplink.configChanged()
    this.log.info({config: this.configFile ?? '(embedded defaults)'}, 'configuration reloaded')
    return {ok: true, restartNeeded: [...restartNeeded]}
  }

  get currentConfig(): AgentConfig {
    return this.config
  }

  /** The link monitor's view of one interface (`uplink set` asks whether it exists here). */
  link(ifname: string): {exists: boolean; carrier: boolean} {
    const link = this.edges.links.get(ifname)
    return {exists: link !== undefined, carrier: link?.carrier ?? false}
  }

  get dataplane(): Dataplane {
    return this.edges.dataplane
  }

  status(): StatusView {
    const store = this.store
    return {
      source: 'daemon',
      daemon: {
        running: true,
        pid: process.pid,
        startedAt: this.startedAt.toISOString(),
        version: VERSION,
        configFile: this.configFile ?? null,
      },
      hostId: this.config.general.host_id,
      ...statusFromStore(store),
      // The live decision: while database writes fail, the recorded one may lag behind.
      ...(this.uplink.current ? {uplink: uplinkView(this.uplink.current)} : {}),
      store: storeView(store),
      queue: {waiting: this.queue.waiting(), inFlight: this.queue.inFlight},
      override: {path: this.config.general.uplink_override_file, ...this.uplink.override},
      rpc: this.controller?.status() ?? {transport: 'local'},
      lldpDiscards: discardTotals(this.lldp.interfaceStats()),
      vdp: this.vsiManager.status() ?? null,
      tasks: this.scheduler.list(),
    }
  }

  /** Refused database writes are logged once (with what to do), retried, and their recovery logged. */
  private watchStoreWrites(): void {
    const store = this.store
    store.writes.configure({
      clock: this.clock,
      listener: (change) => {
        const db = store.path
        if (change.type === 'failing')
          this.log.error(
            {db, err: change.error, sqliteCode: change.sqliteCode, write: change.what},
            `database writes are failing: ${change.advice}; the daemon keeps running on its in-memory state, keeps VDP going, and retries the writes in order`,
          )
        else if (change.type === 'still-failing')
          this.log.error(
            {db, err: change.error, pending: change.pending, failingForS: Math.round(change.failedForMs / 1000)},
            'database writes are still failing; writes kept in memory',
          )
        else if (change.type === 'recovered')
          this.log.warn(
            {db, flushed: change.flushed, failedForS: Math.round(change.failedForMs / 1000)},
            'database writes work again; the kept writes are committed',
          )
        else
          this.log.error(
            {db, write: change.what, err: change.error},
            'a kept database write failed for a reason other than the storage and was dropped',
          )
      },
    })
  }

  /**
   * Every detection_interval: re-read the links and re-decide the uplink (catches missed events); prune
   * history. The dataplane's flow audit; the controller's tasks are added once it started.
   */
  private scheduleTasks(): void {
    const period = () => this.config.uplink.detection_interval * 1000
    this.addTask({
      name: 'reconcile',
      periodMs: period,
      run: async () => {
        const pending = this.edges.links.resync('requested')
        this.uplink.reconcile()
        await pending
      },
    })
    this.addTask({name: 'prune', periodMs: period, run: () => this.pruneHistory()})
    for (const task of this.edges.dataplane.tasks()) this.addTask(task)
  }

  /** On the scheduler (failures logged, counted, rescheduled); the metrics count each run too: vdp_agent_task_runs_total{task}. */
  private addTask(task: PeriodicTask): void {
    this.periodicTasks.push(task)
    this.metrics.declareTask(task.name)
    this.scheduler.every(task.name, task.periodMs(), () => this.metrics.runTask(task.name, task.run), {
      initialDelayMs: task.initialDelayMs,
    })
  }

  /** Bounded history: the newest journal entries, and delivered outbox messages for a week. */
  private pruneHistory(): void {
    const store = this.store
    if (!store.health().writable) return // nothing to prune while writes wait; next round
    store.persist(
      'history pruning',
      () => {
        store.journal.prune(JOURNAL_KEEP)
        store.outbox.prune(this.clock.now() - 7 * 24 * 3600 * 1000)
      },
      'prune',
    )
  }

  private onUplinkTransition({previous, current}: UplinkTransition): void {
    this.controller?.uplinkChanged(current)
    if (previous?.ifname && previous.state === 'up' && (current.ifname !== previous.ifname || current.state !== 'up')) {
      this.queue.push(
        'uplink',
        {kind: 'uplink-down', ifname: previous.ifname, reason: current.reason ?? 'uplink changed'},
        {ports: [UPLINK_QUEUE_KEY], exclusive: true},
      )
    }
    if (
      current.ifname &&
      current.state === 'up' &&
      current.source &&
      (previous?.ifname !== current.ifname || previous.state !== 'up')
    ) {
      this.queue.push(
        'uplink',
        {kind: 'uplink-up', ifname: current.ifname, source: current.source},
        {ports: [UPLINK_QUEUE_KEY], exclusive: true},
      )
    }
  }

  private async handleEvent(item: QueueItem<AgentEvent>): Promise<void> {
    this.log.debug({event: item.payload.kind, seq: item.seq}, 'processing event')
    await this.reconciler.handle(item)
  }

  /** The metrics read the daemon's state when scraped (src/metrics); RPC and dataplane series only with those parts on. */
  private createMetrics(): DaemonMetrics {
    // process_*/nodejs_* metrics keep an event-loop delay monitor running: only when the endpoint is on.
    const processMetrics = parseMetricsListen(this.config.metrics.listen) !== undefined
    const metrics = new DaemonMetrics(
      {
        uplink: () => this.uplink?.current ?? {ifname: null, source: null, state: 'none'},
        neighborsByInterface: () => {
          const counts: Record<string, number> = {}
          for (const n of this.store.neighbors.list()) counts[n.ifname] = (counts[n.ifname] ?? 0) + 1
          return counts
        },
        vsisByState: () => this.store.vsis.countsByState(),
        queue: () => ({
          waiting: {
            uplink: this.queue.waiting('uplink'),
            vm: this.queue.waiting('vm'),
            bulk: this.queue.waiting('bulk'),
          },
          inFlight: this.queue.inFlight,
        }),
        outbox: () => {
          const depth = this.store.outbox.depth()
          return {pending: depth.pending, oldestCreatedAt: depth.oldestAt}
        },
        lldpRejectedByRule: () =>
          Object.fromEntries(
            Object.entries(this.lldp?.interfaceStats() ?? {}).map(([ifname, st]) => [ifname, st.rxDiscardedByRule]),
          ),
        ecp: () => {
          const t = this.vsiManager?.totals().transport ?? {}
          return {retransmissions: t.retransmissions ?? 0, timeouts: t.giveUps ?? 0}
        },
        now: () => this.clock.now(),
        ...(this.config.rpc.transport === 'amqp'
          ? {
              rpc: () => {
                const st = this.controller?.status()
                return st
                  ? {
                      connected: st.connected,
                      lastHeartbeatAt: st.lastHeartbeat ? Date.parse(st.lastHeartbeat.at) : null,
                      heartbeatsSent: st.heartbeatsSent,
                      badMessages: st.badMessages,
                    }
                  : null
              },
            }
          : {}),
        ...(this.config.dataplane.driver === 'ovs'
          ? {dataplane: async () => (await this.edges.dataplane.stats()) ?? null}
          : {}),
      },
      {processMetrics},
    )
    return metrics
  }

  /** `[metrics] listen`: a port that cannot be opened is logged; the daemon runs on without metrics. */
  private async startMetricsServer(): Promise<void> {
    const at = parseMetricsListen(this.config.metrics.listen)
    if (!at) return
    const metrics = this.metrics
    const server = new MetricsServer(async () => ({body: await metrics.scrape(), contentType: metrics.contentType}))
    try {
      const port = await server.listen(at)
      this.metricsServer = server
      this.log.info({host: at.host, port}, 'metrics endpoint listening (GET /metrics)')
    } catch (err) {
      this.log.error({err: errorMessage(err)}, 'metrics endpoint not started; the daemon runs on without it')
    }
  }
}
