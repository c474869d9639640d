import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {Store} from '../store/store.js'
import type {VsiRecord} from '../model/vsi.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import type {EventQueue, QueueItem} from './event-queue.js'
import type {AgentEvent} from './events.js'
import {nextRetry} from './retry.js'
import type {VsiManager, VsiNotice, VsiOutcome} from './vsi-manager.js'

export interface VmProcessorDeps {
  store: Store
  manager: VsiManager
  queue: EventQueue<AgentEvent>
  log: Logger
  clock: Clock
  config: () => AgentConfig
  macOf: (ifname: string) => string | undefined
}

/**
 * What the processor does with each queued event. Desired state lives in SQLite (written before the event
 * was queued); each result is committed whole in a transaction with its journal entry (and an outbox message
 * for the controller), before its event completes; the results one VDPDU answered share a transaction. A
 * failed association is retried with backoff, never dropped silently.
 */
export class VmProcessor {
  private readonly retryAt = new Map<string, number>()
  private retryTimer?: TimerHandle
  private stopping = false
  private results: {rec: VsiRecord; uplink: string; vid: number | null; done: () => void}[] = []
  private flush?: NodeJS.Immediate

  constructor(private readonly deps: VmProcessorDeps) {}

  /** Restart recovery: retries that were scheduled before the restart. */
  start(): void {
    for (const v of this.deps.store.vsis.list()) if (v.state === 'pending' && v.nextRetryAt !== null) this.scheduleRetry(v.portUuid, v.nextRetryAt)
  }

  /** The daemon is stopping: exchanges cut short now are not failures, they resume at the next start. */
  stop(): void {
    this.stopping = true
    if (this.retryTimer) this.deps.clock.clearTimer(this.retryTimer)
    this.retryTimer = undefined
  }

  async handle(item: QueueItem<AgentEvent>): Promise<void> {
    const event = item.payload
    switch (event.kind) {
      case 'uplink-up':
        return this.uplinkUp(event.ifname)
      case 'uplink-down':
        return this.uplinkDown(event.ifname, event.reason)
      case 'vm-up':
        return this.associate([event.port.portUuid])
      case 'vm-down':
        return this.deassociate([event.portUuid])
      case 'vm-bulk': {
        const started = this.deps.clock.now()
        await Promise.all([this.associate(event.up.map((p) => p.portUuid)), this.deassociate(event.down)])
        const counts = this.deps.store.vsis.countsByState()
        this.deps.log.info({up: event.up.length, down: event.down.length, ms: Math.round(this.deps.clock.now() - started), vsis: counts}, 'bulk VM event done')
        return
      }
    }
  }

  /** Unsolicited news from the station. */
  onNotice(notice: VsiNotice): void {
    const {store, log, clock} = this.deps
    const rec = store.vsis.get(notice.portUuid)
    if (!rec || rec.desired !== 'up') return
    const now = clock.now()
    if (notice.type === 'vlan-changed') {
      log.warn({port: rec.portUuid, from: notice.from, to: notice.to}, 'the switch changed the VLAN of an association')
      store.persist('a VLAN change', () => {
        store.vsis.update(rec.portUuid, {vdpVlan: notice.to}, now)
        store.journal.add('vsi-vlan-changed', rec.portUuid, {from: notice.from, to: notice.to}, now)
        this.report(rec, 'SUCCESS', null, notice.to, now)
      })
      return
    }
    log.warn({port: rec.portUuid, reason: notice.reason}, 'association lost')
    this.failed(rec, {ok: false, reason: notice.reason, hard: notice.hard}, 'vsi-lost')
  }

  private async uplinkUp(ifname: string): Promise<void> {
    const {manager, store, log, clock} = this.deps
    const mac = this.deps.macOf(ifname)
    if (!mac) {
      log.warn({ifname}, 'uplink up but its MAC is unknown; VDP waits for the next uplink event')
      return
    }
    manager.open(ifname, mac, store.uplink.get()?.evb)
    // Everything that should be associated goes to the switch again, in one batched bulk event.
    const now = clock.now()
    const up: VsiRecord[] = []
    const gone: string[] = []
    for (const v of store.vsis.list()) (v.desired === 'up' ? up.push(v) : gone.push(v.portUuid))
    store.persist('the VM ports on a new uplink', () => {
      // Ports taken down while there was no uplink: nothing of them is on this uplink's switch.
      for (const port of gone) {
        store.vsis.delete(port)
        store.journal.add('vsi-removed', port, {why: 'taken down while the uplink was down'}, now)
      }
      for (const v of up) if (v.state === 'failed') store.vsis.update(v.portUuid, {state: 'pending', attempts: 0, nextRetryAt: null}, now)
    })
    for (const v of up) this.cancelRetry(v.portUuid)
    if (up.length > 0) {
      log.info({ifname, vsis: up.length}, 'associating the VM ports on the new uplink')
      this.deps.queue.push('bulk', {kind: 'vm-bulk', up, down: []}, {ports: up.map((v) => v.portUuid)})
    }
  }

  private async uplinkDown(ifname: string, reason: string): Promise<void> {
    const {manager, store, clock} = this.deps
    manager.close(`uplink ${ifname} down`)
    const now = clock.now()
    store.persist('the VM ports of a closed VDP session', () => {
      for (const v of store.vsis.list()) {
        if (v.desired === 'up' && v.state !== 'failed') store.vsis.update(v.portUuid, {state: 'pending', failReason: `waiting for the uplink (${reason})`}, now)
      }
      store.journal.add('vdp-session-closed', ifname, {reason}, now)
    })
  }

  private async associate(portUuids: readonly string[]): Promise<void> {
    const {store, manager, clock} = this.deps
    const rows = store.vsis.getMany(portUuids)
    const recs = portUuids.map((p) => rows.get(p)).filter((v): v is VsiRecord => v !== undefined && v.desired === 'up')
    if (recs.length === 0) return
    for (const r of recs) this.cancelRetry(r.portUuid)
    const ids = recs.map((r) => r.portUuid)
    if (!manager.uplink) {
      store.persist('VM ports waiting for the uplink', () => {
        for (const id of ids) store.vsis.update(id, {state: 'pending', failReason: 'waiting for the uplink'}, clock.now())
      })
      return
    }
    const uplink = manager.uplink
    store.persist('VM ports associating', () => store.vsis.markMany(ids, 'associating', uplink, clock.now()))
    const outcomes = manager.associateMany(recs)
    await Promise.all(
      outcomes.map(async (p, i) => {
        const outcome = await p
        if (outcome.ok) await this.commitAssociated(recs[i], uplink, outcome.vid)
        else this.failedIfStillWanted(recs[i], outcome)
      }),
    )
  }

  /**
   * Successes are committed together with the others that arrived in the same turn of the event loop (the
   * answers of one VDPDU): one transaction holding whole results (state, VLAN, journal, outbox), committed
   * before the event completes. Thousands of VSIs then cost tens of transactions, not thousands.
   */
  private commitAssociated(rec: VsiRecord, uplink: string, vid: number | null): Promise<void> {
    return new Promise((done) => {
      this.results.push({rec, uplink, vid, done})
      this.flush ??= setImmediate(() => this.flushAssociated())
    })
  }

  private flushAssociated(): void {
    this.flush = undefined
    const batch = this.results
    this.results = []
    const {clock, log} = this.deps
    const now = clock.now()
    try {
      this.commitBatch(batch, now)
    } catch (err) {
      // Runs from setImmediate: a throw here would kill the daemon. The events still complete.
      log.error({err: errorMessage(err), results: batch.length}, 'association results could not be committed')
    }
    for (const b of batch) {
      log.debug({port: b.rec.portUuid, vlan: b.vid, uplink: b.uplink}, 'VM port associated')
      b.done()
    }
  }

  private commitBatch(batch: {rec: VsiRecord; uplink: string; vid: number | null}[], now: number): void {
    const {store} = this.deps
    const current = store.vsis.getMany(batch.map((b) => b.rec.portUuid))
    store.persist('association results', () => {
      for (const {rec, uplink, vid} of batch) {
        // A later "down" took over while the switch answered: its own event records the end.
        if (current.get(rec.portUuid)?.desired !== 'up') continue
        store.vsis.update(rec.portUuid, {state: 'associated', vdpVlan: vid, uplink, attempts: 0, failReason: vid === null ? 'the switch assigned no VLAN' : null, nextRetryAt: null}, now)
        store.journal.add('vsi-associated', rec.portUuid, {vlan: vid, uplink}, now)
        this.report(rec, 'SUCCESS', null, vid, now)
      }
    })
  }

  private failedIfStillWanted(rec: VsiRecord, outcome: Extract<VsiOutcome, {ok: false}>): void {
    const current = this.deps.store.vsis.get(rec.portUuid)
    if (current?.desired === 'up') this.failed(current, outcome, 'vsi-failed')
  }

  private failed(rec: VsiRecord, outcome: Extract<VsiOutcome, {ok: false}>, kind: string): void {
    const {store, log, clock, config} = this.deps
    if (this.stopping) {
      store.persist('an interrupted association', () => store.vsis.update(rec.portUuid, {state: 'pending', failReason: 'the daemon stopped before the switch answered'}, clock.now()))
      return
    }
    const cfg = config().vdp
    const attempts = rec.attempts + 1
    const decision = nextRetry({initialMs: cfg.retry_initial * 1000, maxMs: cfg.retry_max * 1000, limit: cfg.retry_limit}, attempts, outcome.hard)
    const now = clock.now()
    const due = decision.retry ? now + decision.delayMs : null
    const reason = decision.retry ? outcome.reason : `${outcome.reason}; ${decision.why}`
    store.persist('a failed association', () => {
      store.vsis.update(rec.portUuid, {state: decision.retry ? 'pending' : 'failed', failReason: reason, attempts, vdpVlan: null, nextRetryAt: due}, now)
      store.journal.add(kind, rec.portUuid, {reason, attempts, retryInMs: decision.retry ? decision.delayMs : null}, now)
      this.report(rec, 'CREATE:FAIL', reason, null, now)
    })
    log.warn({port: rec.portUuid, reason, attempts, retryInMs: decision.retry ? decision.delayMs : null}, decision.retry ? 'association failed; will retry' : 'association failed; giving up until the next uplink up or VM event')
    if (due !== null) this.scheduleRetry(rec.portUuid, due)
  }

  private async deassociate(portUuids: readonly string[]): Promise<void> {
    const {store, manager, clock, log} = this.deps
    const recs = portUuids.map((p) => store.vsis.get(p)).filter((v): v is VsiRecord => v !== undefined && v.desired === 'down')
    for (const r of recs) this.cancelRetry(r.portUuid)
    await Promise.all(
      recs.map(async (rec) => {
        let reason: string | null = null
        if (manager.uplink) {
          store.persist('a VM port de-associating', () => store.vsis.update(rec.portUuid, {state: 'deassociating'}, clock.now()))
          const outcome = await manager.deassociate(rec)
          if (!outcome.ok) reason = outcome.reason
        }
        const now = clock.now()
        const current = store.vsis.get(rec.portUuid)
        if (!current || current.desired !== 'down') return // brought up again meanwhile
        store.persist('a de-association result', () => {
          store.vsis.delete(rec.portUuid)
          store.journal.add('vsi-deassociated', rec.portUuid, {reason}, now)
          this.report(rec, reason ? 'DELETE:FAIL' : 'SUCCESS', reason, null, now)
        })
        log.debug({port: rec.portUuid, reason}, 'VM port de-associated')
      }),
    )
  }

  /** The controller hears every result (update_vm_result, as the original agent sent it). */
  private report(rec: VsiRecord, result: 'SUCCESS' | 'CREATE:FAIL' | 'DELETE:FAIL', failReason: string | null, vdpVlan: number | null, now: number): void {
    if (this.deps.config().rpc.transport === 'local') return
    this.deps.store.outbox.add('update_vm_result', {port_uuid: rec.portUuid, result, fail_reason: failReason, vdp_vlan: vdpVlan, local_vlan: rec.localVlan}, now)
  }

  private scheduleRetry(portUuid: string, at: number): void {
    this.retryAt.set(portUuid, at)
    this.armRetryTimer()
  }

  /** The timer stays armed: firing for a cancelled port is a no-op, and re-arming per VSI would cost O(n) each. */
  private cancelRetry(portUuid: string): void {
    this.retryAt.delete(portUuid)
  }

  /** One timer for every scheduled retry: the earliest. */
  private armRetryTimer(): void {
    const {clock} = this.deps
    if (this.retryTimer) clock.clearTimer(this.retryTimer)
    this.retryTimer = undefined
    if (this.retryAt.size === 0) return
    const next = Math.min(...this.retryAt.values())
    this.retryTimer = clock.setTimer(Math.max(0, next - clock.now()), () => this.runDueRetries())
  }

  private runDueRetries(): void {
    this.retryTimer = undefined
    const now = this.deps.clock.now()
    for (const [port, at] of [...this.retryAt]) {
      if (at > now) continue
      this.retryAt.delete(port)
      const rec = this.deps.store.vsis.get(port)
      if (!rec || this.deps.queue.hasPort(port)) continue
      try {
        if (rec.desired === 'up') this.deps.queue.push('vm', {kind: 'vm-up', port: rec}, {ports: [port]})
        else this.deps.queue.push('vm', {kind: 'vm-down', portUuid: port}, {ports: [port]})
      } catch {
        this.retryAt.set(port, now + 1000) // queue full: try again shortly, nothing is lost
      }
    }
    this.armRetryTimer()
  }
}
