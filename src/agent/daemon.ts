import {type LoadedConfig, loadConfig} from '../config/load.js'
import type {AgentConfig} from '../config/schema.js'
import type {DaemonHandlers} from '../control/protocol.js'
import {type ControlHandler, ControlServer} from '../control/server.js'
import {Scheduler} from '../core/scheduler.js'
import {type Dataplane, createDataplane} from '../dataplane/index.js'
import {VdpAgentError, errorMessage} from '../errors.js'
import {LldpAgent, discardTotals} from '../lldp-agent/lldp-agent.js'
import type {Logger} from '../log/logger.js'
import {DaemonMetrics} from '../metrics/daemon-metrics.js'
import {MetricsServer, parseMetricsListen} from '../metrics/server.js'
import {AfPacketFrameIO} from '../net/frames.js'
import {validateIfName} from '../net/ifname.js'
import {LinkMonitor} from '../net/links.js'
import {assertRawSocketsAllowed} from '../net/raw-capability.js'
import {ControllerLink} from '../rpc/controller-link.js'
import {Store, databasePath} from '../store/store.js'
import {parseJournalQuery} from '../store/journal-repo.js'
import {OverrideWatcher} from '../uplink/override-watch.js'
import {UplinkService, type UplinkTransition, linkWatchOf} from '../uplink/service.js'
import {systemClock} from '../core/clock.js'
import {VERSION} from '../version.js'
import {EventQueue, type QueueItem} from './event-queue.js'
import {type AgentEvent, UPLINK_QUEUE_KEY} from './events.js'
import {lldpSettings} from './lldp-settings.js'
import {Processor} from './processor.js'
import {type StatusView, statusFromStore, storeView, uplinkView} from './status.js'
import {VmProcessor} from './vm-processor.js'
import {parsePortUuid, parseVmBulk, parseVmUp} from './vm-port.js'
import {VsiManager} from './vsi-manager.js'

/** Journal entries kept (about a day of a busy host's VM churn, a few MB). */
const JOURNAL_KEEP = 100_000

export interface DaemonOptions {
  loaded: LoadedConfig
  log: Logger
  /** For SIGHUP: the file to re-read (undefined: the default path or embedded defaults). */
  configPath?: string
}

/**
 * The vdp-agent daemon: owns the store (single writer), the work queue and its processor, the link monitor,
 * the LLDP agent, the uplink service, the VDP session and the control socket. `stop` is ordered so nothing
 * is lost: the control socket closes first, then in-flight work drains, then LLDP says goodbye (shutdown
 * LLDPDUs) and the database closes.
 */
export class Daemon {
  private config: AgentConfig
  private configFile: string | undefined
  private readonly log: Logger
  private store?: Store
  private queue!: EventQueue<AgentEvent>
  private processor?: Processor<AgentEvent>
  private control?: ControlServer
  private uplink!: UplinkService
  private lldp?: LldpAgent
  private links?: LinkMonitor
  private vsiManager?: VsiManager
  private vm?: VmProcessor
  private dataplane?: Dataplane
  private overrideWatch?: OverrideWatcher
  /** Periodic work (reconcile, prune; `status` lists it): add a task with `this.scheduler.every(name, ms, fn)`. */
  private readonly scheduler: Scheduler
  /** The controller over oslo.messaging, with [rpc] transport = amqp. */
  private controller?: ControllerLink
  private metrics?: DaemonMetrics
  private metricsServer?: MetricsServer
  private readonly startedAt = new Date()
  private stopping?: Promise<void>
  /** Control requests are answered only between a complete start and the beginning of stop. */
  private ready = false

  constructor(private readonly opts: DaemonOptions) {
    this.config = opts.loaded.config
    this.configFile = opts.loaded.file
    this.log = opts.log
    this.scheduler = new Scheduler({clock: systemClock, onError: (task, err) => this.log.error({task, err: errorMessage(err)}, `periodic task ${task} failed; it runs again at its next period`)})
  }

  async start(): Promise<void> {
    const cfg = this.config
    // Claim the control socket first: a second daemon must fail before it touches the database.
    this.control = new ControlServer(cfg.general.control_socket, this.controlHandlers(), this.log)
    await this.control.listen()
    const frames = new AfPacketFrameIO()
    assertRawSocketsAllowed(frames) // without CAP_NET_RAW, fail now rather than wait forever for a neighbour
    this.store = Store.open(databasePath(cfg.general.state_dir))
    this.watchStoreWrites(this.store)
    const capacity = cfg.general.queue_capacity
    this.queue = new EventQueue<AgentEvent>({capacity: {uplink: 1024, vm: capacity, bulk: Math.max(16, Math.ceil(capacity / 100))}})
    this.processor = new Processor(this.queue, (item) => this.handleEvent(item), this.log)
    this.processor.start()
    this.metrics = this.createMetrics()

    const links = new LinkMonitor()
    links.on('warning', (err) => this.log.warn({err: err.message}, 'link monitor warning'))
    links.on('error', (err) => this.log.error({err: err.message}, 'link monitor error'))
    links.on('resync', ({reason, events}) => this.log.info({reason, events}, 'link inventory re-read'))
    await links.start()
    this.links = links
    let uplink: UplinkService | undefined
    this.lldp = new LldpAgent(lldpSettings(cfg), {
      frames,
      clock: systemClock,
      log: this.log,
      macOf: (name) => links.get(name)?.mac ?? undefined,
      onNeighborEvents: (events) => {
        uplink?.onNeighborEvents(events)
        this.vsiManager?.onNeighborEvents(events) // a switch restart, seen in its LLDPDUs (issue 9)
        this.controller?.neighborsChanged()
      },
      onEvbChange: (ifname) => uplink?.evbChanged(ifname),
    })
    uplink = new UplinkService({
      store: this.store,
      log: this.log,
      clock: systemClock,
      links: linkWatchOf(links),
      lldp: this.lldp,
      config: () => this.config,
      onTransition: (t) => this.onUplinkTransition(t),
      onEvbChange: (evb) => this.vsiManager?.setEvb(evb),
    })
    this.uplink = uplink
    // The datapath (issue 12): seeded with what is associated, so its flows stay audited across restarts.
    this.dataplane = createDataplane(cfg.dataplane, this.log)
    await this.dataplane.start(this.store.vsis.list().filter((v) => v.state === 'associated'))
    let vm: VmProcessor | undefined
    const lldp = this.lldp
    this.vsiManager = new VsiManager({
      frames,
      clock: systemClock,
      log: this.log,
      config: () => this.config,
      onNotice: (n) => vm?.onNotice(n),
      observer: {answered: (op, seconds) => this.metrics?.observeAssociation(op, seconds), failed: (op, reason, code) => this.metrics?.countVdpError(op, reason, code)},
      neighborsOn: (ifname) => lldp.table.onInterface(ifname),
      announceEvb: (ifname) => lldp.announce(ifname),
    })
    vm = new VmProcessor({
      store: this.store,
      manager: this.vsiManager,
      queue: this.queue,
      log: this.log,
      clock: systemClock,
      config: () => this.config,
      macOf: (name) => links.get(name)?.mac ?? undefined,
      dataplane: this.dataplane,
    })
    this.vm = vm
    vm.start()
    uplink.start()
    // A restart with the uplink still up has no transition: resume VDP on it explicitly.
    const resumed = uplink.current
    if (resumed?.state === 'up' && resumed.ifname && resumed.source && !this.queue.hasPort(UPLINK_QUEUE_KEY)) {
      this.queue.push('uplink', {kind: 'uplink-up', ifname: resumed.ifname, source: resumed.source}, {ports: [UPLINK_QUEUE_KEY], exclusive: true})
    }
    if (cfg.rpc.transport === 'amqp') {
      // VM events from the server take the control socket's intake path: validated, recorded, then queued
      const intake = {vmUp: (p: unknown) => this.vmUp(p), vmDown: (p: unknown) => this.vmDown(p), vmBulk: (p: unknown) => this.vmBulk(p)}
      this.controller = new ControllerLink({config: () => this.config, store: this.store, log: this.log, intake, version: VERSION, startedAt: this.startedAt.getTime()})
    }
    this.overrideWatch = new OverrideWatcher(cfg.general.uplink_override_file, () => uplink.overrideChanged('override file changed'))
    this.overrideWatch.start()
    this.scheduleTasks()
    await this.startMetricsServer()
    this.ready = true
    this.controller?.start()
    this.log.info({version: VERSION, config: this.configFile ?? '(embedded defaults)', socket: cfg.general.control_socket, db: this.store.path}, 'vdp-agent daemon started')
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    this.log.info('vdp-agent daemon stopping')
    this.ready = false
    this.scheduler.stop()
    this.overrideWatch?.stop()
    await this.control?.close()
    await this.controller?.stop().catch((err: unknown) => this.log.warn({err: errorMessage(err)}, 'controller RPC did not stop cleanly'))
    await this.metricsServer?.close()
    this.vm?.stop()
    this.vsiManager?.close('the daemon is stopping')
    const drained = (await this.processor?.stop()) ?? true
    await this.dataplane?.stop()
    this.lldp?.stop()
    this.uplink?.stop()
    this.links?.stop()
    if (!drained) this.log.warn('in-flight events did not finish in time; they will be redone at the next start')
    this.store?.close() // one last try at the kept writes
    const lost = this.store?.health().pending ?? 0
    if (lost > 0) this.log.error({db: this.store?.path, lost}, 'database writes were still failing at stop: these changes are lost; the next start re-learns neighbours and the uplink, and re-drives VM ports from their recorded desired state')
    this.log.info('vdp-agent daemon stopped')
  }

  /** SIGHUP: re-read the config; a bad file is reported and the running config kept. */
  reload(): {ok: boolean; error?: string; restartNeeded: string[]} {
    let next: LoadedConfig
    try {
      next = loadConfig(this.opts.configPath)
    } catch (err) {
      const error = errorMessage(err)
      this.log.error({err: error}, 'config reload failed; keeping the running configuration')
      return {ok: false, error, restartNeeded: []}
    }
    for (const w of next.warnings) this.log.warn(w)
    const restartNeeded = (['state_dir', 'control_socket', 'uplink_override_file', 'queue_capacity'] as const).filter(
      (k) => next.config.general[k] !== this.config.general[k],
    )
    if (restartNeeded.length > 0) this.log.warn({keys: restartNeeded}, 'these [general] keys take effect at the next restart')
    const metricsMoved = next.config.metrics.listen !== this.config.metrics.listen
    // the controller link's identity and broker are fixed while it runs; its timers follow the file
    const rpcRestart = (['transport', 'url', 'exchange', 'server_topic', 'agent_topic_prefix', 'durable_queues'] as const).filter((k) => next.config.rpc[k] !== this.config.rpc[k])
    if (rpcRestart.length > 0) this.log.warn({keys: rpcRestart}, 'these [rpc] keys take effect at the next restart')
    const {heartbeat_interval, call_timeout, topology_interval} = next.config.rpc
    this.config = {...next.config, general: this.config.general, rpc: {...this.config.rpc, heartbeat_interval, call_timeout, topology_interval}}
    this.configFile = next.file
    if (metricsMoved) void this.metricsServer?.close().then(() => this.startMetricsServer())
    for (const task of ['reconcile', 'prune']) this.scheduler.setPeriod(task, this.config.uplink.detection_interval * 1000)
    this.lldp?.updateSettings(lldpSettings(this.config))
    this.uplink.configChanged()
    this.log.info({config: this.configFile ?? '(embedded defaults)'}, 'configuration reloaded')
    return {ok: true, restartNeeded: [...restartNeeded]}
  }

  status(): StatusView {
    const store = this.requireStore()
    return {
      source: 'daemon',
      daemon: {running: true, pid: process.pid, startedAt: this.startedAt.toISOString(), version: VERSION, configFile: this.configFile ?? null},
      hostId: this.config.general.host_id,
      ...statusFromStore(store),
      // The live decision: while database writes fail, the recorded one may lag behind.
      ...(this.uplink.current ? {uplink: uplinkView(this.uplink.current)} : {}),
      store: storeView(store),
      queue: {waiting: this.queue.waiting(), inFlight: this.queue.inFlight},
      override: {path: this.config.general.uplink_override_file, ...this.uplink.override},
      rpc: this.controller?.status() ?? {transport: 'local'},
      lldpDiscards: discardTotals(this.lldp?.interfaceStats() ?? {}),
      vdp: this.vsiManager?.status() ?? null,
      tasks: this.scheduler.list(),
    }
  }

  private uplinkShow() {
    return {
      ...this.status().uplink,
      mode: this.config.uplink.mode,
      override: {path: this.config.general.uplink_override_file, ...this.uplink.override},
      lldp: {listening: this.lldp?.listening() ?? [], transmitting: this.lldp?.transmitting() ?? []},
    }
  }

  /** `neighbors`; with {frames: true} each one carries the hex of its last LLDP frame (`neighbors -v`). */
  private neighbors(params: unknown) {
    const list = this.requireStore().neighbors.list()
    if ((params as {frames?: unknown} | undefined)?.frames !== true) return list
    return list.map((n) => ({...n, frame: this.lldp?.lastFrame(n.ifname, n.destAddress, n.srcMac)?.toString('hex')}))
  }

  /** Refused database writes are logged once (with what to do), retried, and their recovery logged. */
  private watchStoreWrites(store: Store): void {
    store.writes.configure({
      clock: systemClock,
      listener: (change) => {
        const db = store.path
        if (change.type === 'failing') this.log.error({db, err: change.error, sqliteCode: change.sqliteCode, write: change.what}, `database writes are failing: ${change.advice}; the daemon keeps running on its in-memory state, keeps VDP going, and retries the writes in order`)
        else if (change.type === 'still-failing') this.log.error({db, err: change.error, pending: change.pending, failingForS: Math.round(change.failedForMs / 1000)}, 'database writes are still failing; writes kept in memory')
        else if (change.type === 'recovered') this.log.warn({db, flushed: change.flushed, failedForS: Math.round(change.failedForMs / 1000)}, 'database writes work again; the kept writes are committed')
        else this.log.error({db, write: change.what, err: change.error}, 'a kept database write failed for a reason other than the storage and was dropped')
      },
    })
  }

  /**
   * `uplink set`/`clear`: re-read the override and decide now. Answers like `uplink show` (ISO times), plus,
   * for `{ifname}`, whether that interface exists and has carrier here, so the CLI can say whether the
   * uplink really became that port.
   */
  private uplinkReevaluate(params: unknown) {
    this.uplink.overrideChanged('requested by the CLI')
    const asked = (params as {ifname?: unknown} | null | undefined)?.ifname
    if (typeof asked !== 'string') return this.uplinkShow()
    const link = this.links?.get(asked)
    return {...this.uplinkShow(), requested: {ifname: asked, exists: link !== undefined, carrier: link?.carrier ?? false}}
  }

  /** Every detection_interval: re-read the links and re-decide the uplink (catches missed events); prune history. */
  private scheduleTasks(): void {
    const period = this.config.uplink.detection_interval * 1000
    // Metrics (when on) count each run too: vdp_agent_task_runs_total{task}.
    const measured = <T>(task: string, fn: () => T): T => (this.metrics ? this.metrics.runTask(task, fn) : fn())
    this.scheduler.every('reconcile', period, async () => {
      const resync = measured('reconcile', () => {
        const pending = this.links?.resync('requested')
        this.uplink.reconcile()
        return pending
      })
      await resync
    })
    this.scheduler.every('prune', period, () => measured('prune', () => this.pruneHistory()))
  }

  /** Bounded history: the newest journal entries, and delivered outbox messages for a week. */
  private pruneHistory(): void {
    const store = this.requireStore()
    if (!store.health().writable) return // nothing to prune while writes wait; next round
    store.persist('history pruning', () => {
      store.journal.prune(JOURNAL_KEEP)
      store.outbox.prune(systemClock.now() - 7 * 24 * 3600 * 1000)
    }, 'prune')
  }

  private onUplinkTransition({previous, current}: UplinkTransition): void {
    this.controller?.uplinkChanged(current)
    if (previous?.ifname && previous.state === 'up' && (current.ifname !== previous.ifname || current.state !== 'up')) {
      this.queue.push('uplink', {kind: 'uplink-down', ifname: previous.ifname, reason: current.reason ?? 'uplink changed'}, {ports: [UPLINK_QUEUE_KEY], exclusive: true})
    }
    if (current.ifname && current.state === 'up' && current.source && (previous?.ifname !== current.ifname || previous.state !== 'up')) {
      this.queue.push('uplink', {kind: 'uplink-up', ifname: current.ifname, source: current.source}, {ports: [UPLINK_QUEUE_KEY], exclusive: true})
    }
  }

  private async handleEvent(item: QueueItem<AgentEvent>): Promise<void> {
    this.log.debug({event: item.payload.kind, seq: item.seq}, 'processing event')
    await this.vm?.handle(item)
  }

  /** A VM port should be associated: recorded first (nothing is lost if the queue is full), then queued. */
  private vmUp(params: unknown) {
    const port = parseVmUp(params)
    const store = this.requireStore()
    const now = systemClock.now() // the database's one time base (docs/architecture.md, Time)
    const rec = store.record(`VM port ${port.portUuid} up`, () => {
      const r = store.vsis.requestUp(port, now)
      store.journal.add('vm-up', port.portUuid, {mac: port.mac, segment: port.segmentationId, vlan: port.vlan ?? null}, now)
      return r
    })
    if (rec.state === 'associated') return {...rec, queued: false}
    this.queue.push('vm', {kind: 'vm-up', port: rec}, {ports: [rec.portUuid]})
    return {...rec, queued: true}
  }

  /** A bulk VM list (the controller's after a restart, or `vm bulk`): one transaction, one batched event. */
  private vmBulk(params: unknown) {
    const {up, down} = parseVmBulk(params)
    const store = this.requireStore()
    const now = systemClock.now() // the database's one time base (docs/architecture.md, Time)
    const {recorded, known} = store.record(`a bulk of ${up.length} up and ${down.length} down VM ports`, () => {
      const recorded = up.map((p) => store.vsis.requestUp(p, now))
      const known = down.filter((id) => store.vsis.requestDown(id, now) !== undefined)
      store.journal.add('vm-bulk', null, {up: up.length, down: known.length}, now)
      return {recorded, known}
    })
    const todo = recorded.filter((r) => r.state !== 'associated')
    if (todo.length > 0 || known.length > 0) {
      this.queue.push('bulk', {kind: 'vm-bulk', up: todo, down: known}, {ports: [...todo.map((r) => r.portUuid), ...known]})
    }
    return {up: recorded.length, alreadyAssociated: recorded.length - todo.length, down: known.length, unknownDown: down.length - known.length, queued: todo.length + known.length}
  }

  private vmDown(params: unknown) {
    const portUuid = parsePortUuid(params)
    const store = this.requireStore()
    const now = systemClock.now() // the database's one time base (docs/architecture.md, Time)
    const rec = store.record(`VM port ${portUuid} down`, () => {
      const r = store.vsis.requestDown(portUuid, now)
      if (r) store.journal.add('vm-down', portUuid, {}, now)
      return r
    })
    if (!rec) throw new VdpAgentError('UNKNOWN_PORT', `no VM port ${portUuid} is recorded, so there is nothing to take down (see vdp-agent vsi list)`, {portUuid})
    this.queue.push('vm', {kind: 'vm-down', portUuid}, {ports: [portUuid]})
    return {...rec, queued: true}
  }

  /** The metrics read the daemon's state when scraped (src/metrics); RPC and dataplane series only with those parts on. */
  private createMetrics(): DaemonMetrics {
    // process_*/nodejs_* metrics keep an event-loop delay monitor running: only when the endpoint is on.
    const processMetrics = parseMetricsListen(this.config.metrics.listen) !== undefined
    const metrics = new DaemonMetrics({
      uplink: () => this.uplink?.current ?? {ifname: null, source: null, state: 'none'},
      neighborsByInterface: () => {
        const counts: Record<string, number> = {}
        for (const n of this.store?.neighbors.list() ?? []) counts[n.ifname] = (counts[n.ifname] ?? 0) + 1
        return counts
      },
      vsisByState: () => this.store?.vsis.countsByState() ?? {},
      queue: () => ({waiting: {uplink: this.queue.waiting('uplink'), vm: this.queue.waiting('vm'), bulk: this.queue.waiting('bulk')}, inFlight: this.queue.inFlight}),
      outbox: () => {
        const depth = this.store?.outbox.depth()
        return {pending: depth?.pending ?? 0, oldestCreatedAt: depth?.oldestAt ?? null}
      },
      lldpRejectedByRule: () => Object.fromEntries(Object.entries(this.lldp?.interfaceStats() ?? {}).map(([ifname, st]) => [ifname, st.rxDiscardedByRule])),
      ecp: () => {
        const t = this.vsiManager?.totals().transport ?? {}
        return {retransmissions: t.retransmissions ?? 0, timeouts: t.giveUps ?? 0}
      },
      now: () => Date.now(),
      ...(this.config.rpc.transport === 'amqp' ? {rpc: () => {
        const st = this.controller?.status()
        return st ? {connected: st.connected, lastHeartbeatAt: st.lastHeartbeat ? Date.parse(st.lastHeartbeat.at) : null, heartbeatsSent: st.heartbeatsSent, badMessages: st.badMessages} : null
      }} : {}),
      ...(this.config.dataplane.driver === 'ovs' ? {dataplane: async () => (await this.dataplane?.stats()) ?? null} : {}),
    }, {processMetrics})
    metrics.declareTask('reconcile')
    metrics.declareTask('prune')
    return metrics
  }

  /** `[metrics] listen`: a port that cannot be opened is logged; the daemon runs on without metrics. */
  private async startMetricsServer(): Promise<void> {
    const at = parseMetricsListen(this.config.metrics.listen)
    const metrics = this.metrics
    if (!at || !metrics) return
    const server = new MetricsServer(async () => ({body: await metrics.scrape(), contentType: metrics.contentType}))
    try {
      const port = await server.listen(at)
      this.metricsServer = server
      this.log.info({host: at.host, port}, 'metrics endpoint listening (GET /metrics)')
    } catch (err) {
      this.log.error({err: errorMessage(err)}, 'metrics endpoint not started; the daemon runs on without it')
    }
  }

  private requireStore(): Store {
    if (!this.ready || !this.store) throw new VdpAgentError('NOT_READY', 'the daemon is starting or stopping; try again')
    return this.store
  }

  private controlHandlers(): Record<string, ControlHandler> {
    const handlers: DaemonHandlers = {
      status: () => this.status(),
      'uplink.show': () => this.uplinkShow(),
      'uplink.reevaluate': (params) => this.uplinkReevaluate(params),
      'link.get': (params) => {
        const raw = (params as {ifname?: unknown} | null | undefined)?.ifname
        if (typeof raw !== 'string') throw new VdpAgentError('BAD_ARGUMENT', 'link.get needs {ifname: string}')
        const ifname = validateIfName(raw)
        const link = this.links?.get(ifname)
        return {ifname, exists: link !== undefined, carrier: link?.carrier ?? false}
      },
      neighbors: (params) => this.neighbors(params),
      'lldp.stats': () => ({listening: this.lldp?.listening() ?? [], transmitting: this.lldp?.transmitting() ?? [], interfaces: this.lldp?.interfaceStats() ?? {}}),
      'vsi.list': () => this.requireStore().vsis.list(),
      journal: (params) => this.requireStore().journal.list(parseJournalQuery(params)),
      'vsi.get': (params) => this.requireStore().vsis.get(parsePortUuid(params)) ?? null,
      'vm.up': (params) => this.vmUp(params),
      'vm.down': (params) => this.vmDown(params),
      'vm.bulk': (params) => this.vmBulk(params),
      'vdp.stats': () => ({uplink: this.vsiManager?.uplink ?? null, station: null, transport: null, ...this.vsiManager?.counters(), totals: this.vsiManager?.totals() ?? null}),
      'config.reload': () => this.reload(),
      'dataplane.flows': () => this.dataplane?.view() ?? null,
      'dataplane.audit': () => this.dataplane?.audit('requested by the CLI') ?? null,
      'rpc.status': () => this.controller?.status() ?? {transport: 'local'},
    }
    // Nothing is answered while the daemon is starting or stopping.
    return Object.fromEntries(
      Object.entries(handlers).map(([name, fn]) => [
        name,
        (params: unknown) => {
          this.requireStore()
          return fn(params)
        },
      ]),
    )
  }
}
