import {EventEmitter} from 'node:events'

import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import type {EvbNegotiated} from '../model/evb.js'
import type {LldpAgent} from '../lldp-agent/lldp-agent.js'
import {type NeighborEvent, isEvbBridgeNeighbor} from '../lldp-agent/neighbor-table.js'
import type {Logger} from '../log/logger.js'
import type {Store} from '../store/store.js'
import type {UplinkRecord} from '../model/uplink.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {type LinkFacts, type UplinkPolicy, UplinkDecider, isCandidatePort, linkUsable} from './decide.js'
import {readOverrideFile} from './override-file.js'

/** A link as the link monitor reports it (src/net/links.ts LinkInfo is one). */
export interface WatchedLink extends LinkFacts {
  mac: string | null
}

export interface LinkChange {
  type: 'added' | 'removed' | 'changed' | 'renamed'
  link: WatchedLink
  previous?: WatchedLink
}

/** The live interface inventory (rtnetlink in the daemon, a fake in tests). */
export interface LinkWatch {
  list(): WatchedLink[]
  subscribe(listener: (change: LinkChange) => void): () => void
}

/** The daemon's LinkWatch: the rtnetlink LinkMonitor, whose LinkInfo and LinkEvent fit as they are. */
export function linkWatchOf(monitor: {
  list(): WatchedLink[]
  on(e: 'link', fn: (c: LinkChange) => void): unknown
  off(e: 'link', fn: (c: LinkChange) => void): unknown
}): LinkWatch {
  return {
    list: () => monitor.list(),
    subscribe(listener) {
      monitor.on('link', listener)
      return () => monitor.off('link', listener)
    },
  }
}

export interface UplinkTransition {
  previous: UplinkRecord | undefined
  current: UplinkRecord
}

export interface UplinkServiceDeps {
  store: Store
  log: Logger
  clock: Clock
  links: LinkWatch
  lldp: LldpAgent
  config: () => AgentConfig
}

/** What the service tells its listeners (`service.on(name, fn)`). */
export interface UplinkServiceEvents {
  /** The uplink decision changed (persisted first); the daemon turns it into uplink up/down work. */
  transition: [t: UplinkTransition]
  /** The negotiated EVB values on the uplink changed (ECP/VDP timers follow them). */
  evb: [evb: EvbNegotiated | undefined]
}

function uplinkPolicy(cfg: AgentConfig): UplinkPolicy {
  return {
    mode: cfg.uplink.mode,
    staticInterface: cfg.uplink.static_interface,
    include: cfg.uplink.include,
    exclude: cfg.uplink.exclude,
    candidateKinds: cfg.uplink.candidate_kinds,
    downDebounceMs: cfg.uplink.down_debounce * 1000,
  }
}

/**
 * The daemon's uplink detector: it follows the kernel's link events, the LLDP neighbour table and the
 * override file, asks the UplinkDecider, and on every change persists the new state (one transaction with
 * a journal entry), moves LLDP transmission to the new uplink and reports the transition (which becomes
 * uplink up/down events in the priority queue). Driven by events; `reconcile` is only a backstop.
 */
export class UplinkService extends EventEmitter<UplinkServiceEvents> {
  private decider!: UplinkDecider
  private lastGoodOverride?: string
  private overrideError: string | null = null
  private recheckTimer?: TimerHandle
  private unsubscribe?: () => void
  private evaluating = false

  constructor(private readonly deps: UplinkServiceDeps) {
    super()
  }

  start(): void {
    const {store, lldp, links} = this.deps
    // What the table leaves out (aged out while we were down, beyond the per-port bound) leaves the database too.
    const stale = lldp.restore(store.neighbors.list())
    if (stale.length > 0) store.transaction(() => stale.forEach((n) => store.neighbors.delete(n)))
    this.decider = new UplinkDecider(store.uplink.get())
    this.readOverride()
    this.unsubscribe = links.subscribe((change) => this.onLinkChange(change))
    this.refreshListening()
    this.evaluate('start-up')
  }

  stop(): void {
    this.unsubscribe?.()
    if (this.recheckTimer) this.deps.clock.clearTimer(this.recheckTimer)
  }

  get current(): UplinkRecord | undefined {
    return this.decider?.record
  }

  get override(): {ifname: string | null; error: string | null} {
    return {ifname: this.lastGoodOverride ?? null, error: this.overrideError}
  }

  /** The negotiated EVB values on the uplink (undefined until the bridge's EVB TLV arrived). */
  negotiatedEvb(): EvbNegotiated | undefined {
    const rec = this.current
    if (!rec?.ifname || rec.state !== 'up') return undefined
    return this.deps.lldp.negotiation(rec.detectedOn ?? rec.ifname)?.negotiated
  }

  /** The override file changed (watcher) or the CLI asked: re-read it and decide again. */
  overrideChanged(why: string): UplinkRecord {
    this.readOverride()
    return this.evaluate(why)
  }

  /** Config reloaded: candidate ports and policy may differ. */
  configChanged(): void {
    this.refreshListening()
    this.evaluate('config reloaded')
  }

  /** Backstop for anything an event could have missed. */
  reconcile(): void {
    this.readOverride()
    this.refreshListening()
    this.evaluate('periodic reconciliation')
  }

  /** The LLDP agent renegotiated EVB on a port: record it when that port carries the uplink. */
  evbChanged(ifname: string): void {
    const rec = this.current
    if (!rec?.ifname || (rec.detectedOn ?? rec.ifname) !== ifname) return
    // During evaluate (moving TX to a new uplink) the outer evaluate records the negotiation itself.
    if (!this.evaluating) this.evaluate('EVB negotiation changed')
    this.emit('evb', this.negotiatedEvb())
  }

  /** Persist neighbour changes and re-decide when one could matter. */
  onNeighborEvents(events: NeighborEvent[]): void {
    const {store, lldp} = this.deps
    if (store.health().writable) {
      store.persist('LLDP neighbour changes', () => {
        for (const e of events) {
          if (e.type === 'removed') store.neighbors.delete(e.neighbor)
          else store.neighbors.upsert(e.neighbor)
        }
      })
    } else {
      // Writes are failing: one pending write that makes the table equal the live one, however many frames come.
      store.persist(
        'the LLDP neighbour table',
        () => {
          for (const n of store.neighbors.list()) store.neighbors.delete(n)
          for (const n of lldp.table.list()) store.neighbors.upsert(n)
        },
        'neighbors',
      )
    }
    if (events.some((e) => e.type !== 'updated' || e.changed)) this.evaluate('LLDP neighbour change')
  }

  private readOverride(): void {
    const path = this.deps.config().general.uplink_override_file
    try {
      this.lastGoodOverride = readOverrideFile(path)
      this.overrideError = null
    } catch (err) {
      const message = errorMessage(err)
      if (message !== this.overrideError)
        this.deps.log.error(
          {err: message, keeping: this.lastGoodOverride ?? null},
          'uplink override file is invalid; keeping the last valid override',
        )
      this.overrideError = message
    }
  }

  private onLinkChange(change: LinkChange): void {
    const {lldp, log} = this.deps
    const {link, previous} = change
    if (change.type === 'removed') lldp.dropInterface(link.name, 'interface-gone')
    else if (change.type === 'renamed' && previous) lldp.dropInterface(previous.name, 'interface-gone')
    else if (previous && linkUsable(previous) && !linkUsable(link)) lldp.dropInterface(link.name, 'link-down')
    else if (previous && !linkUsable(previous) && linkUsable(link)) lldp.greet(link.name) // the switch answers at once
    log.debug({change: change.type, ifname: link.name, carrier: link.carrier, operstate: link.operstate}, 'link change')
    this.refreshListening()
    this.evaluate(`link ${link.name} ${change.type}`)
  }

  private refreshListening(): void {
    const policy = uplinkPolicy(this.deps.config())
    const ports = this.deps.links
      .list()
      .filter((l) => isCandidatePort(l, policy))
      .map((l) => l.name)
    this.deps.lldp.setListenPorts(ports)
  }

  private world() {
    const links = new Map(this.deps.links.list().map((l) => [l.name, l]))
    const evbBridges = new Map<string, string>()
    for (const n of this.deps.lldp.table.list()) {
      if (isEvbBridgeNeighbor(n) && !evbBridges.has(n.ifname))
        evbBridges.set(n.ifname, `${n.systemName ?? n.chassisId} ${n.portId}`)
    }
    return {override: this.lastGoodOverride, links, evbBridges, now: this.deps.clock.now()}
  }

  evaluate(why: string): UplinkRecord {
    this.evaluating = true
    try {
      return this.evaluateNow(why)
    } finally {
      this.evaluating = false
    }
  }

  private evaluateNow(why: string): UplinkRecord {
    const {store, log, lldp, clock} = this.deps
    const previous = this.decider.record
    const {record, recheckAt} = this.decider.decide(this.world(), uplinkPolicy(this.deps.config()))
    // Transmit first: the EVB negotiation exists for the ports we transmit on.
    lldp.setTransmitPorts(
      record.state === 'up' && record.ifname
        ? record.bondMembers.length > 0
          ? record.bondMembers
          : [record.ifname]
        : [],
    )
    record.evb =
      record.state === 'up' && record.ifname
        ? (lldp.negotiation(record.detectedOn ?? record.ifname)?.negotiated ?? null)
        : null
    const changed =
      !previous ||
      previous.ifname !== record.ifname ||
      previous.state !== record.state ||
      previous.source !== record.source
    store.persist(
      'the uplink state',
      () => {
        store.uplink.put(record)
        if (changed)
          store.journal.add(
            'uplink',
            record.ifname,
            {state: record.state, source: record.source, reason: record.reason, why},
            record.changedAt,
          )
      },
      changed ? undefined : 'uplink',
    )
    if (this.recheckTimer) clock.clearTimer(this.recheckTimer)
    this.recheckTimer = undefined
    if (recheckAt !== undefined)
      this.recheckTimer = clock.setTimer(Math.max(0, recheckAt - clock.now()), () => this.evaluate('debounce elapsed'))
    if (changed) {
      log.info(
        {
          ifname: record.ifname,
          state: record.state,
          source: record.source,
          detectedOn: record.detectedOn,
          bondMembers: record.bondMembers,
          reason: record.reason,
          why,
        },
        'uplink changed',
      )
      this.emit('transition', {previous, current: record})
    }
    return record
  }
}
