import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {Dataplane} from '../dataplane/dataplane.js'
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
  /** The host's datapath (issue 12): a result is committed only once its flows are in. */
  dataplane?: Dataplane
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
    if (notice.type === 'bridge-restarted') return this.unconfirmAll(notice.reason)
    const rec = store.vsis.get(notice.portUuid)
    if (notice.type === 'deassociated') {
      if (rec?.desired === 'down') {
        this.removeDown(rec, null)
        void this.deps.dataplane?.portDown(rec)
      }
      return
    }
    if (!rec || rec.desired !== 'up') return
    const now = clock.now()
    if (notice.type === 'confirmed') {
      if (rec.state === 'associated' && rec.vdpVlan === notice.vid) return
      const confirm = (r: VsiRecord) =>
        store.persist('a confirmed association', () => {
          store.vsis.update(r.portUuid, {state: 'associated', vdpVlan: notice.vid, localVlan: r.localVlan, failReason: null}, now)
          store.journal.add('vsi-confirmed', r.portUuid, {vlan: notice.vid}, now)
          if (rec.vdpVlan !== notice.vid) this.report(r, 'SUCCESS', null, notice.vid, now)
        })
      if (this.deps.dataplane && notice.vid !== null && rec.vdpVlan !== notice.vid) {
        // A switch that came back with another VLAN: the flows move first, as for a VLAN change.
        void this.deps.dataplane.portUp(rec, notice.vid).then((r) => {
          if (r.ok) confirm({...rec, localVlan: r.localVlan ?? rec.localVlan})
          else this.failedIfStillWanted(rec, {ok: false, reason: r.reason, hard: false})
        })
        return
      }
      confirm(rec)
      return
    }
    if (notice.type === 'vlan-changed') {
      log.warn({port: rec.portUuid, from: notice.from, to: notice.to}, 'the switch changed the VLAN of an association')
      if (this.deps.dataplane && notice.to !== null) {
        // dataplane: the flows move to the new VLAN first; the change is recorded and reported after
        void this.deps.dataplane.portUp(rec, notice.to).then((r) => {
          if (r.ok) this.recordVlanChange({...rec, localVlan: r.localVlan ?? rec.localVlan}, notice.from, notice.to)
          else this.failedIfStillWanted(rec, {ok: false, reason: r.reason, hard: false})
        })
        return
      }
      this.recordVlanChange(rec, notice.from, notice.to)
      return
    }
    log.warn({port: rec.portUuid, reason: notice.reason}, 'association lost')
    this.failed(rec, {ok: false, reason: notice.reason, hard: notice.hard, unanswered: notice.unanswered}, 'vsi-lost')
  }

  /**
   * The switch restarted or went away: what it holds is unknown until it answers again (the station re-sends
   * everything; each answer comes back as a `confirmed` notice). Status says "associating" meanwhile rather
   * than claim associations the switch may not hold.
   */
  private unconfirmAll(reason: string): void {
    const {store, clock, log} = this.deps
    const now = clock.now()
    const rows = store.vsis.list().filter((v) => v.desired === 'up' && v.state === 'associated')
    if (rows.length === 0) return
    store.persist('associations to re-confirm', () => {
      for (const v of rows) store.vsis.update(v.portUuid, {state: 'associating', failReason: `re-confirming with the switch: ${reason}`}, now)
      store.journal.add('vdp-bridge-restarted', null, {reason, vsis: rows.length}, now)
    })
    log.warn({reason, vsis: rows.length}, 'associations await the switch\'s confirmation')
  }

  private recordVlanChange(rec: VsiRecord, from: number | null, to: number | null): void {
    const {store, clock} = this.deps
    const now = clock.now()
    store.persist('a VLAN change', () => {
      store.vsis.update(rec.portUuid, {vdpVlan: to, localVlan: rec.localVlan}, now)
      store.journal.add('vsi-vlan-changed', rec.portUuid, {from, to}, now)
      this.report(rec, 'SUCCESS', null, to, now)
    })
  }

  private async uplinkUp(ifname: string): Promise<void> {
    const {manager, store, log, clock} = this.deps
    const mac = this.deps.macOf(ifname)
    if (!mac) {
      log.warn({ifname}, 'uplink up but its MAC is unknown; VDP waits for the next uplink event')
      return
    }
    const uplinkRec = store.uplink.get()
    manager.open(ifname, mac, uplinkRec?.evb, uplinkRec?.detectedOn ?? ifname)
    await this.deps.dataplane?.uplinkUp(ifname)
    // Everything that should be associated goes to the switch again, and everything taken down is
    // de-associated there (a switch that remembers still holds what a previous run left), in one bulk event.
    const now = clock.now()
    const up: VsiRecord[] = []
    const down: string[] = []
    const neverSent: string[] = []
    for (const v of store.vsis.list()) {
      if (v.desired === 'up') up.push(v)
      else if (v.uplink === null) neverSent.push(v.portUuid)
      else down.push(v.portUuid)
    }
    store.persist('the VM ports on a new uplink', () => {
      // Taken down before any request left for a switch: nothing of them is anywhere.
      for (const port of neverSent) {
        store.vsis.delete(port)
        store.journal.add('vsi-removed', port, {why: 'taken down before it was ever sent to a switch'}, now)
      }
      for (const v of up) if (v.state === 'failed') store.vsis.update(v.portUuid, {state: 'pending', attempts: 0, nextRetryAt: null}, now)
    })
    for (const v of up) this.cancelRetry(v.portUuid)
    for (const port of down) this.cancelRetry(port)
    if (up.length > 0 || down.length > 0) {
      log.info({ifname, up: up.length, down: down.length}, 'bringing the switch on the new uplink to the desired state')
      this.deps.queue.push('bulk', {kind: 'vm-bulk', up, down}, {ports: [...up.map((v) => v.portUuid), ...down]})
    }
  }

  private async uplinkDown(ifname: string, reason: string): Promise<void> {
    const {manager, store, clock} = this.deps
    manager.close(`uplink ${ifname} down`)
    await this.deps.dataplane?.uplinkDown(ifname)
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
        else if (outcome.interrupted || outcome.deferred) this.interrupted(recs[i], outcome.reason)
        else this.failedIfStillWanted(recs[i], outcome)
      }),
    )
  }

  /**
   * Successes are committed together with the others that arrived in the same turn of the event loop (the
   * answers of one VDPDU): one transaction holding whole results (state, VLAN, journal, outbox), committed
   * before the event completes. Thousands of VSIs then cost tens of transactions, not thousands.
   */
  private async commitAssociated(rec: VsiRecord, uplink: string, vid: number | null): Promise<void> {
    const {dataplane} = this.deps
    if (dataplane && vid !== null) {
      // the flows go in first: a port is reported associated (with its local VLAN) only once it can forward
      const programmed = await dataplane.portUp(rec, vid)
      if (!programmed.ok) return this.failedIfStillWanted(rec, {ok: false, reason: programmed.reason, hard: false})
      rec = {...rec, localVlan: programmed.localVlan ?? rec.localVlan}
    }
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
        store.vsis.update(rec.portUuid, {state: 'associated', vdpVlan: vid, localVlan: rec.localVlan, uplink, attempts: 0, failReason: vid === null ? 'the switch assigned no VLAN' : null, nextRetryAt: null}, now)
        store.journal.add('vsi-associated', rec.portUuid, {vlan: vid, uplink}, now)
        this.report(rec, 'SUCCESS', null, vid, now)
      }
    })
  }

  /** The session closed under the exchange (uplink down, stopping): nothing was decided; redone later. */
  private interrupted(rec: VsiRecord, reason: string): void {
    const current = this.deps.store.vsis.get(rec.portUuid)
    // An uplink down has already said why it waits; otherwise say what cut the exchange short.
    if (current?.desired === 'up' && current.state === 'associating') {
      this.deps.store.persist('an interrupted association', () => this.deps.store.vsis.update(rec.portUuid, {state: 'pending', failReason: reason}, this.deps.clock.now()))
    }
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
    // Unanswered: the switch may still hold the VSI with its VLAN; the retry asks for that one (requestedVid).
    const vdpVlan = outcome.unanswered ? rec.vdpVlan : null
    store.persist('a failed association', () => {
      store.vsis.update(rec.portUuid, {state: decision.retry ? 'pending' : 'failed', failReason: reason, attempts, vdpVlan, nextRetryAt: due}, now)
      store.journal.add(kind, rec.portUuid, {reason, attempts, retryInMs: decision.retry ? decision.delayMs : null}, now)
      this.report(rec, 'CREATE:FAIL', reason, null, now)
    })
    log.warn({port: rec.portUuid, reason, attempts, retryInMs: decision.retry ? decision.delayMs : null}, decision.retry ? 'association failed; will retry' : 'association failed; giving up until the next uplink up or VM event')
    if (due !== null) this.scheduleRetry(rec.portUuid, due)
  }

  private async deassociate(portUuids: readonly string[]): Promise<void> {
    const {store, manager, clock} = this.deps
    const recs = portUuids.map((p) => store.vsis.get(p)).filter((v): v is VsiRecord => v !== undefined && v.desired === 'down')
    for (const r of recs) this.cancelRetry(r.portUuid)
    await Promise.all(
      recs.map(async (rec) => {
        let reason: string | null = null
        // A desired-down row is ended at the switch, never just deleted: without an uplink (or when the
        // session closes under the exchange) it waits, and the next uplink up de-associates it. Only a row
        // never sent to any switch has nothing to end.
        if (!manager.uplink && rec.uplink !== null) {
          store.persist('a VM port waiting to be de-associated', () => store.vsis.update(rec.portUuid, {state: 'pending', failReason: 'waiting for the uplink to de-associate it'}, clock.now()))
          return
        }
        if (manager.uplink) {
          store.persist('a VM port de-associating', () => store.vsis.update(rec.portUuid, {state: 'deassociating'}, clock.now()))
          const outcome = await manager.deassociate(rec)
          if (!outcome.ok && (outcome.interrupted || outcome.deferred)) {
            // Redone at the next uplink up, or (deferred) completed by a `deassociated` notice.
            const row = store.vsis.get(rec.portUuid)
            if (row?.desired === 'down') {
              const failReason = `de-association ${outcome.deferred ? 'queued' : 'interrupted'}: ${outcome.reason}`
              store.persist('a VM port waiting to be de-associated', () => store.vsis.update(rec.portUuid, {state: 'pending', failReason}, clock.now()))
            }
            return
          }
          // Unanswered: the switch drops the VSI at its own keep-alive timeout, since nothing refreshes it.
          if (!outcome.ok) reason = outcome.unanswered ? `${outcome.reason}; the switch drops it at its keep-alive timeout` : outcome.reason
        }
        const current = store.vsis.get(rec.portUuid)
        if (!current || current.desired !== 'down') return // brought up again meanwhile
        this.removeDown(rec, reason)
        await this.deps.dataplane?.portDown(rec)
      }),
    )
  }

  /** The switch confirmed the De-Associate (reason null) or cannot: the row ends, reported. */
  private removeDown(rec: VsiRecord, reason: string | null): void {
    const {store, clock, log} = this.deps
    const now = clock.now()
    store.persist('a de-association result', () => {
      store.vsis.delete(rec.portUuid)
      store.journal.add('vsi-deassociated', rec.portUuid, {reason}, now)
      this.report(rec, reason ? 'DELETE:FAIL' : 'SUCCESS', reason, null, now)
    })
    log.debug({port: rec.portUuid, reason}, 'VM port de-associated')
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
      if (!rec) continue
      // still queued (e.g. inside a running bulk event): try again shortly rather than dropping the retry
      if (this.deps.queue.hasPort(port)) {
        this.retryAt.set(port, now + 1000)
        continue
      }
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
