import type {AgentConfig} from '../config/schema.js'
import type {Clock} from '../core/clock.js'
import {DeadlineQueue} from '../core/deadline-queue.js'
import type {Dataplane} from '../dataplane/dataplane.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {UplinkRecord} from '../model/uplink.js'
import {type VdpPort, type VsiRecord, vdpPortOf} from '../model/vsi.js'
import type {VsiRepo} from '../store/vsi-repo.js'
import type {EventQueue, QueueItem} from './event-queue.js'
import type {AgentEvent} from './events.js'
import type {AssociatedResult, ResultSink} from './result-sink.js'
import {nextRetry} from './retry.js'
import type {VsiNotice, VsiOutcome} from './vsi-manager.js'

/** What the reconciler needs of the VDP session on the uplink (src/agent/vsi-manager.ts `VsiManager`). */
export interface VdpSession {
  readonly uplink: string | undefined
  open(ifname: string, mac: string, negotiated: UplinkRecord['evb'], lldpPort?: string): void
  close(reason: string): void
  associateMany(ports: readonly VdpPort[]): Promise<VsiOutcome>[]
  deassociate(port: VdpPort): Promise<VsiOutcome>
}

export interface VdpReconcilerDeps {
  /** The desired state and the last results, as recorded (read only: every write goes through `results`). */
  vsis: Pick<VsiRepo, 'get' | 'getMany' | 'list' | 'countsByState'>
  /** The uplink as recorded (its negotiated EVB values, the port LLDP hears the switch on). */
  uplinkRecord: () => UplinkRecord | undefined
  results: ResultSink
  session: VdpSession
  queue: EventQueue<AgentEvent>
  log: Logger
  clock: Clock
  config: () => AgentConfig
  macOf: (ifname: string) => string | undefined
  /** The host's datapath (issue 12; `NoDataplane` without one): a result is committed only once its flows are in. */
  dataplane: Dataplane
}

/** After a retry found its port still queued (or the queue full), it is tried again this much later. */
const RETRY_AGAIN_MS = 1000

/**
 * Turns desired state into VDP work, one queued event at a time: uplink up (re-drive everything on the new
 * session) and down, VM up, down and bulk, retries with backoff on a deadline queue, and the station's
 * unsolicited notices. What it decides goes to the result sink (SQLite, the controller's outbox), which it never
 * writes itself; each result is committed before its event completes, and the results one VDPDU answered share
 * one commit. A failed association is retried with backoff, never dropped silently.
 */
export class VdpReconciler {
  private readonly retries: DeadlineQueue<string>
  private stopping = false
  private batch: {result: AssociatedResult; done: () => void}[] = []
  private flush?: NodeJS.Immediate

  constructor(private readonly deps: VdpReconcilerDeps) {
    this.retries = new DeadlineQueue(deps.clock, (ports) => this.runDueRetries(ports))
  }

  /** Restart recovery: retries that were scheduled before the restart. */
  start(): void {
    for (const v of this.deps.vsis.list())
      if (v.state === 'pending' && v.nextRetryAt !== null) this.retries.schedule(v.portUuid, v.nextRetryAt)
  }

  /** The daemon is stopping: exchanges cut short now are not failures, they resume at the next start. */
  stop(): void {
    this.stopping = true
    this.retries.close()
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
        const counts = this.deps.vsis.countsByState()
        this.deps.log.info(
          {up: event.up.length, down: event.down.length, ms: Math.round(this.deps.clock.now() - started), vsis: counts},
          'bulk VM event done',
        )
        return
      }
    }
  }

  /** Unsolicited news from the station. */
  onNotice(notice: VsiNotice): void {
    const {vsis, results, log, dataplane} = this.deps
    if (notice.type === 'bridge-restarted') return this.unconfirmAll(notice.reason)
    const rec = vsis.get(notice.portUuid)
    if (notice.type === 'deassociated') {
      if (rec?.desired === 'down') {
        this.ended(rec, null)
        void dataplane.portDown(rec)
      }
      return
    }
    if (!rec || rec.desired !== 'up') return
    if (notice.type === 'confirmed') {
      if (rec.state === 'associated' && rec.vdpVlan === notice.vid) return
      if (notice.vid !== null && rec.vdpVlan !== notice.vid) {
        // A switch that came back with another VLAN: the flows move first, as for a VLAN change.
        void dataplane.portUp(rec, notice.vid).then((r) => {
          if (r.ok) results.confirmed(rec, notice.vid, r.localVlan ?? rec.localVlan)
          else this.failedIfStillWanted(rec, {ok: false, reason: r.reason, hard: false})
        })
        return
      }
      results.confirmed(rec, notice.vid, rec.localVlan)
      return
    }
    if (notice.type === 'vlan-changed') {
      log.warn({port: rec.portUuid, from: notice.from, to: notice.to}, 'the switch changed the VLAN of an association')
      if (notice.to !== null) {
        // dataplane: the flows move to the new VLAN first; the change is recorded and reported after
        void dataplane.portUp(rec, notice.to).then((r) => {
          if (r.ok) results.vlanChanged(rec, notice.from, notice.to, r.localVlan ?? rec.localVlan)
          else this.failedIfStillWanted(rec, {ok: false, reason: r.reason, hard: false})
        })
        return
      }
      results.vlanChanged(rec, notice.from, notice.to, rec.localVlan)
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
    const rows = this.deps.vsis.list().filter((v) => v.desired === 'up' && v.state === 'associated')
    if (rows.length === 0) return
    this.deps.results.awaitingConfirmation(
      rows.map((v) => v.portUuid),
      reason,
    )
    this.deps.log.warn({reason, vsis: rows.length}, "associations await the switch's confirmation")
  }

  private async uplinkUp(ifname: string): Promise<void> {
    const {session, vsis, log, results} = this.deps
    const mac = this.deps.macOf(ifname)
    if (!mac) {
      log.warn({ifname}, 'uplink up but its MAC is unknown; VDP waits for the next uplink event')
      return
    }
    const uplinkRec = this.deps.uplinkRecord()
    session.open(ifname, mac, uplinkRec?.evb, uplinkRec?.detectedOn ?? ifname)
    await this.deps.dataplane.uplinkUp(ifname)
    // Everything that should be associated goes to the switch again, and everything taken down is
    // de-associated there (a switch that remembers still holds what a previous run left), in one bulk event.
    const up: VsiRecord[] = []
    const down: string[] = []
    const neverSent: string[] = []
    for (const v of vsis.list()) {
      if (v.desired === 'up') up.push(v)
      else if (v.uplink === null) neverSent.push(v.portUuid)
      else down.push(v.portUuid)
    }
    results.newUplink(
      neverSent,
      up.filter((v) => v.state === 'failed').map((v) => v.portUuid),
    )
    for (const v of up) this.retries.cancel(v.portUuid)
    for (const port of down) this.retries.cancel(port)
    if (up.length > 0 || down.length > 0) {
      log.info({ifname, up: up.length, down: down.length}, 'bringing the switch on the new uplink to the desired state')
      this.deps.queue.push('bulk', {kind: 'vm-bulk', up, down}, {ports: [...up.map((v) => v.portUuid), ...down]})
    }
  }

  private async uplinkDown(ifname: string, reason: string): Promise<void> {
    this.deps.session.close(`uplink ${ifname} down`)
    await this.deps.dataplane.uplinkDown(ifname)
    this.deps.results.sessionClosed(ifname, reason)
  }

  private async associate(portUuids: readonly string[]): Promise<void> {
    const {vsis, session, results} = this.deps
    const rows = vsis.getMany(portUuids)
    const recs = portUuids.map((p) => rows.get(p)).filter((v): v is VsiRecord => v !== undefined && v.desired === 'up')
    if (recs.length === 0) return
    for (const r of recs) this.retries.cancel(r.portUuid)
    const ids = recs.map((r) => r.portUuid)
    const uplink = session.uplink
    if (!uplink) return results.pending(ids, 'waiting for the uplink')
    results.associating(ids, uplink)
    const outcomes = session.associateMany(recs.map(vdpPortOf))
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
   * answers of one VDPDU): one commit holding whole results (state, VLAN, journal, report), made before the
   * event completes. Thousands of VSIs then cost tens of transactions, not thousands.
   */
  private async commitAssociated(rec: VsiRecord, uplink: string, vid: number | null): Promise<void> {
    const {dataplane} = this.deps
    let localVlan = rec.localVlan
    if (vid !== null) {
      // the flows go in first: a port is reported associated (with its local VLAN) only once it can forward
      const programmed = await dataplane.portUp(rec, vid)
      if (!programmed.ok) return this.failedIfStillWanted(rec, {ok: false, reason: programmed.reason, hard: false})
      localVlan = programmed.localVlan ?? rec.localVlan
    }
    return new Promise((done) => {
      this.batch.push({result: {port: rec, uplink, vid, localVlan}, done})
      this.flush ??= setImmediate(() => this.flushAssociated())
    })
  }

  private flushAssociated(): void {
    this.flush = undefined
    const batch = this.batch
    this.batch = []
    const {log} = this.deps
    try {
      this.deps.results.associated(batch.map((b) => b.result))
    } catch (err) {
      // Runs from setImmediate: a throw here would kill the daemon. The events still complete.
      log.error({err: errorMessage(err), results: batch.length}, 'association results could not be committed')
    }
    for (const {result, done} of batch) {
      log.debug({port: result.port.portUuid, vlan: result.vid, uplink: result.uplink}, 'VM port associated')
      done()
    }
  }

  /** The session closed under the exchange (uplink down, stopping): nothing was decided; redone later. */
  private interrupted(rec: VsiRecord, reason: string): void {
    const current = this.deps.vsis.get(rec.portUuid)
    // An uplink down has already said why it waits; otherwise say what cut the exchange short.
    if (current?.desired === 'up' && current.state === 'associating') this.deps.results.pending([rec.portUuid], reason)
  }

  private failedIfStillWanted(rec: VsiRecord, outcome: Extract<VsiOutcome, {ok: false}>): void {
    const current = this.deps.vsis.get(rec.portUuid)
    if (current?.desired === 'up') this.failed(current, outcome, 'vsi-failed')
  }

  private failed(rec: VsiRecord, outcome: Extract<VsiOutcome, {ok: false}>, kind: 'vsi-failed' | 'vsi-lost'): void {
    const {results, log, clock, config} = this.deps
    if (this.stopping) return results.pending([rec.portUuid], 'the daemon stopped before the switch answered')
    const cfg = config().vdp
    const attempts = rec.attempts + 1
    const decision = nextRetry(
      {initialMs: cfg.retry_initial * 1000, maxMs: cfg.retry_max * 1000, limit: cfg.retry_limit},
      attempts,
      outcome.hard,
    )
    const retryInMs = decision.retry ? decision.delayMs : null
    const nextRetryAt = retryInMs !== null ? clock.now() + retryInMs : null
    const reason = decision.retry ? outcome.reason : `${outcome.reason}; ${decision.why}`
    // Unanswered: the switch may still hold the VSI with its VLAN; the retry asks for that one (requestedVid).
    const vdpVlan = outcome.unanswered ? rec.vdpVlan : null
    results.failed(rec, {reason, attempts, nextRetryAt, retryInMs, vdpVlan, kind})
    log.warn(
      {port: rec.portUuid, reason, attempts, retryInMs},
      decision.retry
        ? 'association failed; will retry'
        : 'association failed; giving up until the next uplink up or VM event',
    )
    if (nextRetryAt !== null) this.retries.schedule(rec.portUuid, nextRetryAt)
  }

  private async deassociate(portUuids: readonly string[]): Promise<void> {
    const {vsis, session, results} = this.deps
    const recs = portUuids
      .map((p) => vsis.get(p))
      .filter((v): v is VsiRecord => v !== undefined && v.desired === 'down')
    for (const r of recs) this.retries.cancel(r.portUuid)
    await Promise.all(
      recs.map(async (rec) => {
        let reason: string | null = null
        // A desired-down row is ended at the switch, never just deleted: without an uplink (or when the
        // session closes under the exchange) it waits, and the next uplink up de-associates it. Only a row
        // never sent to any switch has nothing to end.
        if (!session.uplink && rec.uplink !== null)
          return results.pending([rec.portUuid], 'waiting for the uplink to de-associate it')
        if (session.uplink) {
          results.deassociating(rec.portUuid)
          const outcome = await session.deassociate(vdpPortOf(rec))
          if (!outcome.ok && (outcome.interrupted || outcome.deferred)) {
            // Redone at the next uplink up, or (deferred) completed by a `deassociated` notice.
            if (vsis.get(rec.portUuid)?.desired === 'down')
              results.pending(
                [rec.portUuid],
                `de-association ${outcome.deferred ? 'queued' : 'interrupted'}: ${outcome.reason}`,
              )
            return
          }
          // Unanswered: the switch drops the VSI at its own keep-alive timeout, since nothing refreshes it.
          if (!outcome.ok)
            reason = outcome.unanswered
              ? `${outcome.reason}; the switch drops it at its keep-alive timeout`
              : outcome.reason
        }
        const current = vsis.get(rec.portUuid)
        if (!current || current.desired !== 'down') return // brought up again meanwhile
        this.ended(rec, reason)
        await this.deps.dataplane.portDown(rec)
      }),
    )
  }

  /** The switch confirmed the De-Associate (reason null) or cannot: the row ends, reported. */
  private ended(rec: VsiRecord, reason: string | null): void {
    this.deps.results.deassociated(rec, reason)
    this.deps.log.debug({port: rec.portUuid, reason}, 'VM port de-associated')
  }

  /** Retries that fell due go back into the queue as VM events (a port still queued, or a full queue: shortly). */
  private runDueRetries(ports: string[]): void {
    if (this.stopping) return
    const again = this.deps.clock.now() + RETRY_AGAIN_MS
    for (const port of ports) {
      const rec = this.deps.vsis.get(port)
      if (!rec) continue
      // still queued (e.g. inside a running bulk event): try again shortly rather than dropping the retry
      if (this.deps.queue.hasPort(port)) {
        this.retries.schedule(port, again)
        continue
      }
      try {
        if (rec.desired === 'up') this.deps.queue.push('vm', {kind: 'vm-up', port: rec}, {ports: [port]})
        else this.deps.queue.push('vm', {kind: 'vm-down', portUuid: port}, {ports: [port]})
      } catch {
        this.retries.schedule(port, again) // queue full: try again shortly, nothing is lost
      }
    }
  }
}
