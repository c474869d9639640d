import {type Clock, type TimerHandle, systemClock} from '../core/clock.js'
import type {TaskOutcome} from '../core/scheduler.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {OutboxMessage, OutboxRepo} from '../store/outbox-repo.js'

export interface OutboxSenderDeps {
  outbox: OutboxRepo
  /** Deliver one message (an RPC call); resolves with the server's result. */
  send: (msg: OutboxMessage) => Promise<unknown>
  /** Whether the server stored it (upstream: a False/None reply to save_uplink or save_topo_disc_params means not). */
  accepted: (msg: OutboxMessage, result: unknown) => boolean
  connected: () => boolean
  log: Logger
  /** Stamps (delivered at) and retry timers; default `systemClock`. */
  clock?: Clock
  /** Calls in flight at once (the server handles them in order per subject anyway). */
  window?: number
  retryInitialMs?: number
  retryMaxMs?: number
  onDelivered?: (msg: OutboxMessage, result: unknown) => void
}

export interface OutboxSenderStats {
  inFlight: number
  delivered: number
  failures: number
  lastError: string | null
  lastDeliveredAt: number | null
}

/** How many pending rows one pass looks at, at most (superseded ones are already filtered out). */
const SCAN_LIMIT = 5000

/**
 * Delivers the SQLite outbox to the server: at least once, in order per subject (one message of a subject
 * in flight at a time, newest-only thanks to the repo's collapsing), several subjects in parallel, a
 * message marked delivered only when the server's reply says it was stored. Failures back off
 * exponentially with jitter per message; nothing here blocks VDP work (the processor only writes rows).
 * Besides the kicks (a row added, a call settled, a retry due), the owner runs `relay` periodically (the
 * daemon's `outbox-relay` task, every second): a backstop for a reconnect nobody announced.
 */
export class OutboxSender {
  private readonly inFlight = new Map<number, string | null>()
  private readonly busySubjects = new Set<string>()
  private readonly retryAt = new Map<number, {at: number; attempts: number}>()
  private scheduled = false
  private running = false
  private readonly retryTimers = new Set<TimerHandle>()
  private readonly clock: Clock
  private idle: (() => void)[] = []
  readonly stats: OutboxSenderStats = {inFlight: 0, delivered: 0, failures: 0, lastError: null, lastDeliveredAt: null}

  constructor(private readonly deps: OutboxSenderDeps) {
    this.clock = deps.clock ?? systemClock
  }

  private now(): number {
    return this.clock.now()
  }

  start(): void {
    this.running = true
    this.deps.outbox.onAdded = () => this.kick()
    this.kick()
  }

  stop(): void {
    this.running = false
    for (const t of this.retryTimers) this.clock.clearTimer(t)
    this.retryTimers.clear()
    this.deps.outbox.onAdded = undefined
  }

  /**
   * One pass now (the periodic backstop): sends what is due; 'no-answer' while the broker is away (nothing
   * can go). A failing pass throws (the scheduler logs and counts it).
   */
  relay(): TaskOutcome {
    if (!this.running) return 'done'
    if (!this.deps.connected()) return 'no-answer'
    this.pump()
    return 'done'
  }

  /** Resolves when nothing is in flight (for an orderly stop). */
  drained(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve()
    return new Promise((r) => this.idle.push(r))
  }

  kick(): void {
    if (this.scheduled || !this.running) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      try {
        this.pump()
      } catch (err) {
        this.deps.log.error({err: errorMessage(err)}, 'outbox pass failed')
      }
    })
  }

  private pump(): void {
    if (!this.running || !this.deps.connected()) return
    const window = this.deps.window ?? 64
    const now = this.now()
    let after = 0
    let scanned = 0
    let exhausted = false
    const seen = new Set<number>()
    while (this.inFlight.size < window && scanned < SCAN_LIMIT) {
      const rows = this.deps.outbox.pending(Math.min(500, SCAN_LIMIT - scanned), after)
      if (rows.length === 0) {
        exhausted = true
        break
      }
      for (const r of rows) seen.add(r.id)
      scanned += rows.length
      after = rows[rows.length - 1].id
      for (const msg of rows) {
        if (this.inFlight.size >= window) break
        if (this.inFlight.has(msg.id)) continue
        if (msg.subject !== null && this.busySubjects.has(msg.subject)) continue
        const retry = this.retryAt.get(msg.id)
        if (retry && retry.at > now) {
          // a later message of the subject must wait for this one (order per subject)
          if (msg.subject !== null) this.busySubjects.add(msg.subject)
          continue
        }
        this.dispatch(msg)
      }
    }
    // backoff state of messages that are no longer pending (superseded or delivered) is forgotten
    if (exhausted)
      for (const id of this.retryAt.keys()) if (!seen.has(id) && !this.inFlight.has(id)) this.retryAt.delete(id)
    // subjects blocked only by a backing-off message are free again for the next pass
    this.busySubjects.clear()
    for (const s of this.inFlight.values()) if (s !== null) this.busySubjects.add(s)
  }

  private dispatch(msg: OutboxMessage): void {
    this.inFlight.set(msg.id, msg.subject)
    if (msg.subject !== null) this.busySubjects.add(msg.subject)
    this.stats.inFlight = this.inFlight.size
    this.deps
      .send(msg)
      .then(
        (result) => {
          if (this.deps.accepted(msg, result)) {
            this.deps.outbox.markDelivered(msg.id, this.now())
            this.retryAt.delete(msg.id)
            this.stats.delivered++
            this.stats.lastDeliveredAt = this.now()
            this.deps.onDelivered?.(msg, result)
          } else {
            this.failed(msg, `the server did not store it (reply ${JSON.stringify(result)})`)
          }
        },
        (err: unknown) => this.failed(msg, errorMessage(err)),
      )
      .finally(() => {
        this.inFlight.delete(msg.id)
        if (msg.subject !== null) this.busySubjects.delete(msg.subject)
        this.stats.inFlight = this.inFlight.size
        if (this.inFlight.size === 0) for (const r of this.idle.splice(0)) r()
        this.kick()
      })
  }

  private failed(msg: OutboxMessage, error: string): void {
    const prev = this.retryAt.get(msg.id)?.attempts ?? 0
    const attempts = prev + 1
    const initial = this.deps.retryInitialMs ?? 1000
    const max = this.deps.retryMaxMs ?? 60_000
    const cap = Math.min(max, initial * 2 ** Math.min(attempts - 1, 20))
    // full jitter: a fleet that lost its server does not come back in lockstep
    const delay = cap / 2 + Math.random() * (cap / 2)
    this.retryAt.set(msg.id, {at: this.now() + delay, attempts})
    if (this.running) {
      // after a stop nothing is armed: the next start sends what is pending
      const timer = this.clock.setTimer(delay + 1, () => {
        this.retryTimers.delete(timer)
        this.kick()
      })
      this.retryTimers.add(timer)
    }
    this.stats.failures++
    this.stats.lastError = `${msg.method}: ${error}`
    try {
      this.deps.outbox.markFailed(msg.id, error)
    } catch (err) {
      this.deps.log.error({err: errorMessage(err)}, 'cannot record an outbox failure')
    }
    this.deps.log.warn(
      {method: msg.method, id: msg.id, attempts, retryInMs: Math.round(delay), err: error},
      'outbox message not delivered; will retry',
    )
  }
}
