import type {VmIntake} from '../agent/intake.js'
import type {AgentConfig} from '../config/schema.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import type {PeriodicTask, TaskOutcome} from '../core/scheduler.js'
import {VdpAgentError, errorMessage} from '../errors.js'
import {isEvbBridgeNeighbor} from '../lldp-agent/neighbor-table.js'
import type {Logger} from '../log/logger.js'
import type {NeighborRecord} from '../model/neighbor.js'
import type {OutboxMessage} from '../store/outbox-repo.js'
import type {Store} from '../store/store.js'
import type {UplinkRecord} from '../model/uplink.js'
import type {JsonValue} from '../store/json.js'
import {ctime} from './ctime.js'
import {type RpcContext, pyJsonDumps} from './oslo-envelope.js'
import {type BadMessage, OsloRpc, RpcEndpointError} from './oslo-rpc.js'
import {OutboxSender} from './outbox-sender.js'
import {VmResultOutbox} from './vm-result-outbox.js'
import {RabbitTransport} from './rabbit-transport.js'
import {type ServerUplinkInfo, parseSendVmInfo, parseServerUplink} from './server-messages.js'
import type {AmqpTransport} from './transport.js'
import {describeBroker, parseBrokerUrl} from './transport-url.js'

export interface ControllerLinkDeps {
  config: () => AgentConfig
  store: Store
  log: Logger
  /** Every timestamp (epoch ms, the database's time base) and one-shot timer. */
  clock: Clock
  /** The agent's VM intake, the same one the control socket feeds (validation, SQLite, queue). */
  intake: Pick<VmIntake, 'up' | 'down' | 'bulk'>
  version: string
  startedAt: number
  /** For tests: a transport other than rabbitmq-client. */
  transport?: AmqpTransport
}

/** `send_msg_to_agent` context type of the uplink message (upstream constants.UPLINK_NAME). */
const UPLINK_NAME_TYPE = 1002
/** How long after a stored save_uplink the server's bulk VM list is awaited before asking again. */
const BULK_WAIT_MS = 20_000
/** Re-requests of the bulk VM list per uplink before giving up (upstream asked forever, every 20 s). */
const BULK_MAX_REQUESTS = 5
/** How often the neighbour table is compared with what the server was told. */
const TOPOLOGY_CHECK_MS = 5_000
/** How often the outbox is looked at besides its kicks (retries due, a reconnect nobody announced). */
const OUTBOX_RELAY_MS = 1_000
/** How often the broker connection flag is re-read (the client library misses some changes). */
const CONNECTION_POLL_MS = 1_000
/** How long `stop` waits for calls in flight. */
const DRAIN_MS = 2_000

export interface RpcStatus {
  transport: 'amqp'
  broker: string
  connected: boolean
  connects: number
  lastError: string | null
  agentTopic: string
  replyQueue: string
  lastHeartbeat: {at: string; seq: number} | null
  heartbeatsSent: number
  outbox: {
    pending: number
    oldestAt: string | null
    inFlight: number
    delivered: number
    failures: number
    lastError: string | null
  }
  serverUplink: (ServerUplinkInfo & {at: string; agrees: boolean | null}) | null
  bulkVmList: {received: number; lastAt: string | null; requestsWithoutAnswer: number}
  badMessages: number
}

/**
 * The agent's side of the DFA controller protocol (upstream networking-cisco dfa_agent.py and dfa_server.py; docs/rpc.md) over oslo.messaging:
 * heartbeat casts, the outbox's calls (update_vm_result, save_uplink, save_topo_disc_params,
 * request_uplink_info), and the RPC server on `dfa_agent_<host_id>` (send_vm_info, send_msg_to_agent,
 * update_ip_rule). Everything but the heartbeat goes through the SQLite outbox. Its periodic work (heartbeat,
 * topology check, outbox relay, connection poll) is offered as `tasks()` to the daemon's scheduler.
 */
export class ControllerLink {
  readonly transport: AmqpTransport
  readonly rpc: OsloRpc
  private readonly sender: OutboxSender
  /** update_vm_result for what the server sent and the agent refused or never had (the agent's own results: ResultSink). */
  private readonly vmResults: VmResultOutbox
  private readonly broker: string
  private readonly clock: Clock
  private bulkTimer?: TimerHandle
  private hbSeq = 0
  private heartbeatsSent = 0
  private lastHeartbeat: {at: number; seq: number} | null = null
  private serverUplink: RpcStatus['serverUplink'] = null
  private bulkReceived = 0
  private bulkLastAt: number | null = null
  private bulkRequests = 0
  /** When the last save_uplink went out: a bulk list after that answers it (it may beat the call's reply). */
  private saveUplinkSentAt = 0
  private badMessages = 0
  private readonly topoSent = new Map<string, {key: string; at: number}>()
  private stopped = false

  constructor(private readonly deps: ControllerLinkDeps) {
    const cfg = deps.config().rpc
    const addr = parseBrokerUrl(cfg.url)
    this.clock = deps.clock
    this.vmResults = new VmResultOutbox(deps.store.outbox)
    this.broker = describeBroker(addr)
    const control = {exchange: cfg.exchange, type: 'topic' as const, durable: cfg.durable_queues, autoDelete: false}
    this.transport =
      deps.transport ??
      new RabbitTransport({
        broker: addr,
        publishExchanges: [control],
        connectionName: `vdp-agent:${process.pid}:${this.hostId}`,
        statePollMs: 0, // the rpc-connection task polls
      })
    this.rpc = new OsloRpc({
      transport: this.transport,
      log: deps.log,
      exchange: cfg.exchange,
      durable: cfg.durable_queues,
    })
    this.rpc.onBadMessage((m) => this.recordBad(m))
    this.sender = new OutboxSender({
      outbox: deps.store.outbox,
      send: (msg) => this.deliver(msg),
      accepted: (msg, result) =>
        msg.method === 'save_uplink' || msg.method === 'save_topo_disc_params'
          ? result !== false && result !== null
          : true,
      connected: () => this.transport.state.connected,
      log: deps.log,
      clock: deps.clock,
      retryInitialMs: 1000,
      retryMaxMs: 60_000,
      onDelivered: (msg, result) => this.delivered(msg, result),
    })
    this.transport.onStateChange((s) => {
      deps.log.info(
        {broker: this.broker, connected: s.connected, lastError: s.lastError},
        s.connected ? 'connected to the controller broker' : 'lost the controller broker; reconnecting',
      )
      if (s.connected) {
        this.sender.kick()
        // the server learns at once that we are back
        this.sendHeartbeat().catch((err: unknown) => deps.log.warn({err: errorMessage(err)}, 'heartbeat not sent'))
      }
    })
  }

  get hostId(): string {
    return this.deps.config().general.host_id
  }

  get agentTopic(): string {
    return `${this.deps.config().rpc.agent_topic_prefix}${this.hostId}`
  }

  /**
   * The periodic work, for the owner's scheduler (started after `start`): `heartbeat` (every
   * heartbeat_interval, the first at once; 'no-answer' when skipped while disconnected), `topology` (the
   * neighbour table against what the server was told), `outbox-relay` and `rpc-connection` (the broker
   * connection flag re-read; 'no-answer' while it is down).
   */
  tasks(): PeriodicTask[] {
    return [
      {
        name: 'heartbeat',
        periodMs: () => this.deps.config().rpc.heartbeat_interval * 1000,
        initialDelayMs: 0,
        run: () => this.sendHeartbeat(),
      },
      {name: 'topology', periodMs: () => TOPOLOGY_CHECK_MS, run: () => this.checkTopology()},
      {name: 'outbox-relay', periodMs: () => OUTBOX_RELAY_MS, run: () => this.sender.relay()},
      {
        name: 'rpc-connection',
        periodMs: () => CONNECTION_POLL_MS,
        run: () => (this.stopped || this.transport.refreshState() ? 'done' : 'no-answer'),
      },
    ]
  }

  /** Starts everything without waiting for the broker: an agent started before its broker connects later by itself. */
  start(): void {
    const {log, store} = this.deps
    log.info({broker: this.broker, topic: this.agentTopic}, 'controller RPC starting')
    this.rpc.startReplies().catch((err: unknown) => log.error({err: errorMessage(err)}, 'reply queue failed'))
    this.rpc
      .serve(this.agentTopic, this.hostId, {
        send_vm_info: (args) => this.onSendVmInfo(args),
        send_msg_to_agent: (args, ctx) => this.onSendMsgToAgent(args, ctx),
        update_ip_rule: () => this.onUpdateIpRule(),
      })
      .then(() => log.info({topic: this.agentTopic}, 'serving the controller topic'))
      .catch((err: unknown) => log.error({err: errorMessage(err)}, 'cannot serve the controller topic'))
    this.sender.start()
    const uplink = store.uplink.get()
    if (uplink?.state === 'up' && uplink.ifname) this.uplinkChanged(uplink)
    else store.outbox.add('request_uplink_info', {agent: this.hostId}, this.clock.now())
    // The topology as the database holds it (a restart): reported now, so that this run knows what the server
    // was told, and a switch leaving right after the start is reported as gone.
    this.neighborsChanged()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.clearBulkWatchdog()
    this.sender.stop()
    // an I/O deadline of the shutdown (like OsloRpc's call timeouts), not protocol time: a real timer
    let drainTimer: NodeJS.Timeout | undefined
    await Promise.race([this.sender.drained(), new Promise<void>((r) => (drainTimer = setTimeout(r, DRAIN_MS)))])
    clearTimeout(drainTimer)
    await this.rpc.close()
    await this.transport.close()
  }

  /** Every uplink change goes to the server (save_uplink), and a stored uplink brings the bulk VM list. */
  uplinkChanged(rec: UplinkRecord): void {
    const up = rec.state === 'up' && rec.ifname !== null
    this.deps.store.outbox.add(
      'save_uplink',
      {
        agent: this.hostId,
        uplink: up ? rec.ifname : '',
        veth_intf: '',
        memb_port_list: rec.bondMembers.length > 0 ? rec.bondMembers.join(' ') : null,
        fail_reason: up ? '' : (rec.reason ?? 'Uplink not yet discovered'),
      },
      this.clock.now(),
    )
    this.bulkRequests = 0
    this.clearBulkWatchdog()
    this.checkServerUplinkAgreement()
  }

  /** The neighbour table changed: report interfaces whose neighbour changed now. */
  neighborsChanged(): void {
    setImmediate(() => {
      try {
        this.checkTopology()
      } catch (err) {
        this.deps.log.error({err: errorMessage(err)}, 'topology report failed')
      }
    })
  }

  status(): RpcStatus {
    const depth = this.deps.store.outbox.depth()
    const s = this.sender.stats
    return {
      transport: 'amqp',
      broker: this.broker,
      connected: this.transport.state.connected,
      connects: this.transport.state.connects,
      lastError: this.transport.state.lastError,
      agentTopic: this.agentTopic,
      replyQueue: this.rpc.replyQueue,
      lastHeartbeat: this.lastHeartbeat
        ? {at: new Date(this.lastHeartbeat.at).toISOString(), seq: this.lastHeartbeat.seq}
        : null,
      heartbeatsSent: this.heartbeatsSent,
      outbox: {
        pending: depth.pending,
        oldestAt: depth.oldestAt === null ? null : new Date(depth.oldestAt).toISOString(),
        inFlight: s.inFlight,
        delivered: s.delivered,
        failures: s.failures,
        lastError: s.lastError,
      },
      serverUplink: this.serverUplink,
      bulkVmList: {
        received: this.bulkReceived,
        lastAt: this.bulkLastAt ? new Date(this.bulkLastAt).toISOString() : null,
        requestsWithoutAnswer: this.bulkRequests,
      },
      badMessages: this.badMessages,
    }
  }

  // --- agent -> server ---

  private deliver(msg: OutboxMessage): Promise<unknown> {
    const cfg = this.deps.config().rpc
    const timeout = cfg.call_timeout * 1000
    const payload = msg.payload as Record<string, unknown>
    if (msg.method === 'save_uplink') this.saveUplinkSentAt = this.clock.now()
    if (msg.method === 'request_uplink_info')
      return this.rpc.call(cfg.server_topic, msg.method, {agent: this.hostId}, {}, timeout)
    // upstream passes update_vm_result's context {'agent': host}; the others an empty one
    const ctx: RpcContext = msg.method === 'update_vm_result' ? {agent: this.hostId} : {}
    const body =
      msg.method === 'save_topo_disc_params' ? {...payload, heartbeat: ctime(new Date(this.clock.now()))} : payload
    return this.rpc.call(cfg.server_topic, msg.method, {msg: pyJsonDumps(body)}, ctx, timeout)
  }

  private delivered(msg: OutboxMessage, _result: unknown): void {
    if (msg.method !== 'save_uplink') return
    const p = msg.payload as {uplink?: string}
    // upstream: a stored non-empty uplink makes the server send the bulk VM list; watch that it does
    if (p.uplink) this.armBulkWatchdog()
  }

  /** A one-shot timer (not a periodic task): armed per stored save_uplink, cleared by the next uplink change. */
  private armBulkWatchdog(): void {
    this.clearBulkWatchdog()
    if (this.stopped) return
    const since = this.saveUplinkSentAt
    this.bulkTimer = this.clock.setTimer(BULK_WAIT_MS, () => {
      this.bulkTimer = undefined
      if (this.stopped || (this.bulkLastAt !== null && this.bulkLastAt >= since)) return
      const uplink = this.deps.store.uplink.get()
      if (!uplink || uplink.state !== 'up') return
      if (this.bulkRequests >= BULK_MAX_REQUESTS) {
        this.deps.log.error(
          {requests: this.bulkRequests},
          'the server never sent the bulk VM list after save_uplink; not asking again until the uplink changes',
        )
        this.deps.store.journal.add('rpc-bulk-missing', null, {requests: this.bulkRequests}, this.clock.now())
        return
      }
      this.bulkRequests++
      this.deps.log.warn({attempt: this.bulkRequests}, 'no bulk VM list after save_uplink; sending save_uplink again')
      const n = this.bulkRequests
      this.uplinkChanged(uplink)
      this.bulkRequests = n
    })
  }

  private clearBulkWatchdog(): void {
    if (this.bulkTimer) this.clock.clearTimer(this.bulkTimer)
    this.bulkTimer = undefined
  }

  /**
   * A cast, sent directly: a stale heartbeat is worthless, so one that cannot go now is skipped, not queued
   * ('no-answer'). Rejects when the cast fails.
   */
  private async sendHeartbeat(): Promise<TaskOutcome> {
    if (this.stopped || !this.transport.state.connected) return 'no-answer'
    const {store, config, version, startedAt} = this.deps
    const now = new Date(this.clock.now())
    const seq = ++this.hbSeq
    const uplink = store.uplink.get()
    const counts = store.vsis.countsByState()
    const msg = {
      when: ctime(now),
      agent: this.hostId,
      // our extras; the upstream server reads only when and agent
      seq,
      version,
      uptime_s: Math.round((now.getTime() - startedAt) / 1000),
      uplink: {ifname: uplink?.ifname ?? null, state: uplink?.state ?? 'none', source: uplink?.source ?? null},
      vsis: counts,
    }
    await this.rpc.cast(config().rpc.server_topic, 'heartbeat', {msg: pyJsonDumps(msg)})
    this.heartbeatsSent++
    this.lastHeartbeat = {at: now.getTime(), seq}
    return 'done'
  }

  /**
   * save_topo_disc_params per LLDP interface: on a change, at least every topology_interval (read at each
   * check, so a SIGHUP applies at once), and once with no neighbour when it goes. Throws what the store throws.
   */
  private checkTopology(): void {
    if (this.stopped) return
    const now = this.clock.now()
    const maxGap = this.deps.config().rpc.topology_interval * 1000
    const byIf = new Map<string, NeighborRecord[]>()
    for (const n of this.deps.store.neighbors.list()) byIf.set(n.ifname, [...(byIf.get(n.ifname) ?? []), n])
    for (const [ifname, list] of byIf) {
      const payload = this.topologyPayload(ifname, list.find(isEvbBridgeNeighbor) ?? list[0])
      const key = JSON.stringify(payload)
      const last = this.topoSent.get(ifname)
      if (!last || last.key !== key || now - last.at >= maxGap) {
        this.deps.store.outbox.add('save_topo_disc_params', payload, now)
        this.topoSent.set(ifname, {key, at: now})
      }
    }
    for (const ifname of [...this.topoSent.keys()]) {
      if (byIf.has(ifname)) continue
      this.deps.store.outbox.add('save_topo_disc_params', this.topologyPayload(ifname, undefined), now)
      this.topoSent.delete(ifname)
    }
  }

  /** The upstream field set (upstream topo_disc and dfa_server.py save_topo_disc_params; docs/rpc.md); `heartbeat` is stamped when the message is sent. */
  private topologyPayload(ifname: string, n: NeighborRecord | undefined): {[key: string]: JsonValue} {
    const uplink = this.deps.store.uplink.get()
    const bond = uplink?.detectedOn === ifname && uplink.ifname && uplink.ifname !== ifname ? uplink.ifname : null
    const configurations: Record<string, string> = {}
    if (bond) {
      configurations.bond_interface = bond
      if (uplink?.bondMembers.length) configurations.bond_member_ports = uplink.bondMembers.join(' ')
    }
    const evb = n && typeof n.evb === 'object' && n.evb !== null ? (n.evb as {mode?: unknown}) : null
    const ipv4 = n?.mgmtAddresses
      .map((a) => (typeof a === 'object' && a !== null ? (a as {address?: unknown}).address : a))
      .find((a): a is string => typeof a === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(a))
    return {
      host: this.hostId,
      protocol_interface: ifname,
      phy_interface: ifname,
      remote_evb_cfgd: evb !== null,
      remote_evb_mode: typeof evb?.mode === 'string' ? evb.mode : null,
      remote_mgmt_addr: ipv4 ?? null,
      remote_system_desc: n?.systemDescription ?? null,
      remote_system_name: n?.systemName ?? null,
      remote_port: n?.portDescription ?? null,
      remote_chassis_id_mac: n && n.chassisSubtype === 4 ? n.chassisId : null,
      remote_port_id_mac: n && n.portSubtype === 3 ? n.portId : null,
      configurations: JSON.stringify(configurations),
    }
  }

  // --- server -> agent ---

  /**
   * One VM or a bulk list. Valid entries go through the daemon's intake (recorded in SQLite before this
   * returns, so before the request is acknowledged); an invalid entry is journalled and reported back as
   * CREATE:FAIL with the reason, the rest still go.
   */
  private onSendVmInfo(args: Record<string, unknown>): null {
    const {bulk, entries} = parseSendVmInfo(args.msg, this.hostId)
    const now = this.clock.now()
    const {store, intake, log} = this.deps
    const rejected = entries.filter((e) => !e.ok)
    for (const e of rejected) {
      if (e.ok) continue
      log.warn({port: e.portUuid, reason: e.reason}, 'send_vm_info entry refused')
      store.journal.add('rpc-vm-refused', e.portUuid, {reason: e.reason}, now)
      if (e.portUuid && /^[0-9a-f-]{36}$/.test(e.portUuid))
        this.vmResults.report(
          {portUuid: e.portUuid, outcome: 'association-failed', failReason: e.reason, vdpVlan: null, localVlan: null},
          now,
        )
    }
    const ups = entries.flatMap((e) => (e.ok && e.status === 'up' ? [e.port] : []))
    const downs = entries.flatMap((e) => (e.ok && e.status === 'down' ? [e.portUuid] : []))
    if (bulk) {
      this.bulkReceived++
      this.bulkLastAt = now
      this.bulkRequests = 0
      // a bulk list is the whole truth for this host (upstream: process_bulk_vm_event)
      const r = intake.bulk({up: dedupe(ups), down: downs.filter((d) => !ups.some((u) => u.portUuid === d))})
      log.info(
        {up: ups.length, down: downs.length, refused: rejected.length, result: r},
        'bulk VM list from the server',
      )
    } else {
      for (const p of ups) intake.up(p)
      for (const d of downs) this.vmDownFromServer(d, now)
    }
    if (!bulk && rejected.length > 0) {
      const first = rejected[0]
      throw new RpcEndpointError('RPC_BAD_PAYLOAD', first.ok ? 'refused' : first.reason)
    }
    return null
  }

  /** A down for a port we never had: nothing to undo; tell the server it is gone so it can drop its row. */
  private vmDownFromServer(portUuid: string, now: number): void {
    try {
      this.deps.intake.down({portUuid})
    } catch (err) {
      if (!(err instanceof VdpAgentError && err.code === 'UNKNOWN_PORT')) throw err
      this.vmResults.report({portUuid, outcome: 'deassociated', failReason: null, vdpVlan: null, localVlan: null}, now)
    }
  }

  /** type 1002: the uplink the server remembers. Recorded and shown; it never outranks our own sources. */
  private onSendMsgToAgent(args: Record<string, unknown>, ctx: RpcContext): null {
    if (ctx.type !== UPLINK_NAME_TYPE)
      throw new RpcEndpointError(
        'RPC_BAD_PAYLOAD',
        `send_msg_to_agent type ${JSON.stringify(ctx.type ?? null)} is not supported (only ${UPLINK_NAME_TYPE}, the uplink)`,
      )
    const info = parseServerUplink(args.msg)
    this.serverUplink = {...info, at: new Date(this.clock.now()).toISOString(), agrees: null}
    this.deps.store.journal.add(
      'rpc-server-uplink',
      info.uplink,
      {uplink: info.uplink, vethIntf: info.vethIntf},
      this.clock.now(),
    )
    this.checkServerUplinkAgreement()
    return null
  }

  private checkServerUplinkAgreement(): void {
    if (!this.serverUplink) return
    const ours = this.deps.store.uplink.get()
    const ourName = ours?.state === 'up' ? ours.ifname : null
    if (ourName === null || this.serverUplink.uplink === null) {
      this.serverUplink.agrees = null // nothing to compare: the server's memory is only shown
      return
    }
    const agrees = this.serverUplink.uplink === ourName
    if (!agrees && this.serverUplink.agrees !== false) {
      this.deps.log.warn(
        {ours: ourName, server: this.serverUplink.uplink},
        'the server remembers another uplink; ours stands and is reported to it',
      )
      this.deps.store.journal.add(
        'rpc-uplink-disagreement',
        ourName,
        {ours: ourName, server: this.serverUplink.uplink},
        this.clock.now(),
      )
      this.serverUplink.agrees = false
      if (ours) this.uplinkChanged(ours)
      return
    }
    this.serverUplink.agrees = agrees
  }

  private onUpdateIpRule(): never {
    this.deps.store.journal.add('rpc-unsupported', null, {method: 'update_ip_rule'}, this.clock.now())
    throw new RpcEndpointError(
      'RPC_NOT_SUPPORTED',
      'update_ip_rule is not supported by vdp-agent (the DCNM DHCP iptables rules of the original agent are not implemented)',
      'NotImplementedError',
    )
  }

  private recordBad(m: BadMessage): void {
    this.badMessages++
    try {
      this.deps.store.journal.add(
        'rpc-bad-message',
        m.method ?? null,
        {code: m.code, reason: m.reason.slice(0, 500), routingKey: m.routingKey},
        this.clock.now(),
      )
    } catch (err) {
      this.deps.log.error({err: errorMessage(err)}, 'cannot journal a bad RPC message')
    }
  }
}

function dedupe<T extends {portUuid: string}>(list: T[]): T[] {
  const seen = new Map<string, T>()
  for (const p of list) seen.set(p.portUuid, p) // the last entry of a port wins
  return [...seen.values()]
}
