/**
 * Periodic work of the daemon (reconcile, prune; later heartbeat, topology report, outbox relay, flow audit)
 * on the injected clock, so it is tested with `ManualClock`. Like the pollers of Faucet's Gauge, each task has
 * a name, a period, its last run and last error, and counts its runs, its errors and the runs that found no
 * answer.
 *
 * Rules: a task that throws (or whose promise rejects) is reported to `onError`, counted and run again at its
 * next period (the original agent's timers stopped for good on one exception); a task never overlaps itself:
 * an async task's next period starts when its promise settles.
 */
import {VdpAgentError} from '../errors.js'
import type {Clock, TimerHandle} from './clock.js'

/** A task added twice, an unknown task, a period that is not a positive number of ms, a jitter outside [0, 1). */
export class SchedulerError extends VdpAgentError {}

/** What one run found: 'no-answer' when it asked something (a peer, the controller) and got nothing back. */
export type TaskOutcome = 'done' | 'no-answer'

/** One run of a task; returning nothing counts as 'done'. */
export type TaskFn = () => TaskOutcome | void | Promise<TaskOutcome | void>

export interface TaskOptions {
  /** Delay before the first run, in ms; default one period. */
  readonly initialDelayMs?: number
  /** Each wait is the period × (1 ± jitter × random), 0 ≤ jitter < 1; default 0 (spreads hosts polling one controller). */
  readonly jitter?: number
}

/** A task as `status` shows it (JSON field `tasks`, docs/json/status.schema.json). */
export interface TaskView {
  name: string
  periodS: number
  /** When the last run started, ISO 8601; null before the first. */
  lastRunAt: string | null
  /** The last run's error message; null when the last run succeeded (or none ran yet). */
  lastError: string | null
  runs: number
  errors: number
  noAnswer: number
}

export interface SchedulerOptions {
  readonly clock: Clock
  /** Told about every failed run; the task is rescheduled whatever this does. */
  readonly onError?: (task: string, err: unknown) => void
  /** Source of randomness for jitter, in [0, 1); default Math.random. */
  readonly random?: () => number
}

/**
 * Periodic work a component offers to its owner's scheduler (the daemon registers every one of them, so
 * `status` lists them and their failures are counted): the component does not arm timers of its own.
 */
export interface PeriodicTask {
  readonly name: string
  /** The period in ms, read when the task is added and again after a configuration reload (SIGHUP). */
  readonly periodMs: () => number
  readonly run: TaskFn
  /** Delay before the first run, in ms; default one period. */
  readonly initialDelayMs?: number
}

/** A scheduled task; `setPeriod` applies from the next wait (a running run finishes first). */
export interface ScheduledTask {
  readonly name: string
  setPeriod(periodMs: number): void
  /** Stop it; a run under way finishes, none follows. */
  cancel(): void
}

interface Task {
  readonly name: string
  readonly fn: TaskFn
  periodMs: number
  readonly jitter: number
  timer?: TimerHandle
  running: boolean
  cancelled: boolean
  lastRunAt: number | null
  lastError: string | null
  runs: number
  errors: number
  noAnswer: number
}

export class Scheduler {
  private readonly tasks = new Map<string, Task>()
  private stopped = false

  constructor(private readonly opts: SchedulerOptions) {}

  /** Run `fn` every `periodMs` ms (> 0) under a unique `name`. */
  every(name: string, periodMs: number, fn: TaskFn, options: TaskOptions = {}): ScheduledTask {
    if (this.tasks.has(name))
      throw new SchedulerError('TASK_EXISTS', `a task named ${name} is already scheduled`, {name})
    checkPeriod(name, periodMs)
    const jitter = options.jitter ?? 0
    if (!(jitter >= 0 && jitter < 1))
      throw new SchedulerError('TASK_JITTER', `task ${name}: jitter must be in [0, 1), got ${jitter}`, {name, jitter})
    const task: Task = {
      name,
      fn,
      periodMs,
      jitter,
      running: false,
      cancelled: false,
      lastRunAt: null,
      lastError: null,
      runs: 0,
      errors: 0,
      noAnswer: 0,
    }
    this.tasks.set(name, task)
    this.arm(task, options.initialDelayMs ?? this.wait(task))
    return {
      name,
      setPeriod: (ms) => this.setPeriod(name, ms),
      cancel: () => this.cancel(task),
    }
  }

  /** Change a task's period (SIGHUP); an idle task waits the new period from now. */
  setPeriod(name: string, periodMs: number): void {
    const task = this.tasks.get(name)
    if (!task) throw new SchedulerError('TASK_UNKNOWN', `no task named ${name}`, {name})
    checkPeriod(name, periodMs)
    if (task.periodMs === periodMs) return
    task.periodMs = periodMs
    if (!task.running) this.arm(task, this.wait(task))
  }

  /** The tasks in the order they were added. */
  list(): TaskView[] {
    return [...this.tasks.values()].map((t) => ({
      name: t.name,
      periodS: t.periodMs / 1000,
      lastRunAt: t.lastRunAt === null ? null : new Date(t.lastRunAt).toISOString(),
      lastError: t.lastError,
      runs: t.runs,
      errors: t.errors,
      noAnswer: t.noAnswer,
    }))
  }

  /** Cancel every task (the daemon's stop); runs under way finish. */
  stop(): void {
    this.stopped = true
    for (const task of this.tasks.values()) this.cancel(task)
  }

  private cancel(task: Task): void {
    task.cancelled = true
    if (task.timer) this.opts.clock.clearTimer(task.timer)
    task.timer = undefined
    this.tasks.delete(task.name)
  }

  private arm(task: Task, delayMs: number): void {
    if (task.timer) this.opts.clock.clearTimer(task.timer)
    task.timer = undefined
    if (task.cancelled || this.stopped) return
    task.timer = this.opts.clock.setTimer(delayMs, () => {
      task.timer = undefined
      this.run(task)
    })
  }

  private wait(task: Task): number {
    if (task.jitter === 0) return task.periodMs
    const r = (this.opts.random ?? Math.random)()
    return task.periodMs * (1 + task.jitter * (2 * r - 1))
  }

  private run(task: Task): void {
    task.running = true
    task.lastRunAt = this.opts.clock.now()
    let result: ReturnType<TaskFn>
    try {
      result = task.fn()
    } catch (err) {
      this.finish(task, {failed: err})
      return
    }
    if (result instanceof Promise) {
      result.then(
        (outcome) => this.finish(task, {outcome}),
        (err: unknown) => this.finish(task, {failed: err}),
      )
    } else {
      this.finish(task, {outcome: result})
    }
  }

  private finish(task: Task, end: {outcome: TaskOutcome | void} | {failed: unknown}): void {
    task.running = false
    task.runs++
    if ('failed' in end) {
      const err = end.failed
      task.errors++
      task.lastError = err instanceof Error ? err.message : String(err)
      try {
        this.opts.onError?.(task.name, err)
      } catch {
        // a failing reporter must not stop the task
      }
    } else {
      task.lastError = null
      if (end.outcome === 'no-answer') task.noAnswer++
    }
    this.arm(task, this.wait(task))
  }
}

function checkPeriod(name: string, periodMs: number): void {
  if (!(Number.isFinite(periodMs) && periodMs > 0))
    throw new SchedulerError(
      'TASK_PERIOD',
      `task ${name}: the period must be a positive number of ms, got ${periodMs}`,
      {name, periodMs},
    )
}
