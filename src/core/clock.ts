/**
 * The only way the VDP engine sees time. Production code gets `systemClock`; tests get a `ManualClock`
 * and move time by hand, so retry spacing and keep-alives are tested without sleeping.
 */
import {MinHeap} from './min-heap.js'

/** Opaque handle of a scheduled callback. */
export interface TimerHandle {
  readonly timerId: number
}

export interface Clock {
  /** Milliseconds, monotonic within the process; fractions allowed (EVB timers are 10 µs × 2^n). */
  now(): number
  setTimer(delayMs: number, fn: () => void): TimerHandle
  clearTimer(handle: TimerHandle): void
}

class SystemTimerHandle implements TimerHandle {
  constructor(
    readonly timerId: number,
    readonly timeout: NodeJS.Timeout,
  ) {}
}

let systemTimerIds = 0

/** Wall-clock time with sub-millisecond resolution; Node rounds timer delays to whole milliseconds. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(delayMs, fn) {
    return new SystemTimerHandle(++systemTimerIds, setTimeout(fn, Math.max(0, delayMs)))
  },
  clearTimer(handle) {
    if (handle instanceof SystemTimerHandle) clearTimeout(handle.timeout)
  },
}

interface ManualTimer {
  readonly timerId: number
  readonly due: number
  readonly fn: () => void
}

/**
 * Deterministic clock for tests. `advance(ms)` fires every timer that falls due within the step, in due
 * order (ties in scheduling order), moving `now()` to each timer's due time before calling it, so a callback
 * that schedules another timer inside the step sees it fire too.
 */
export class ManualClock implements Clock {
  private current: number
  private nextId = 0
  private readonly pending = new MinHeap<ManualTimer>((a, b) => a.due - b.due || a.timerId - b.timerId)
  /** Ids scheduled and neither fired nor cleared. */
  private readonly live = new Set<number>()

  constructor(start = 0) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = {timerId: ++this.nextId, due: this.current + Math.max(0, delayMs), fn}
    this.pending.push(timer)
    this.live.add(timer.timerId)
    return {timerId: timer.timerId}
  }

  clearTimer(handle: TimerHandle): void {
    this.live.delete(handle.timerId)
  }

  /** Number of timers still scheduled. */
  get pendingTimers(): number {
    return this.live.size
  }

  /** Move time forward by `ms`, firing due timers in order. Returns how many fired. */
  advance(ms: number): number {
    return this.advanceTo(this.current + ms)
  }

  advanceTo(target: number): number {
    let fired = 0
    for (;;) {
      const next = this.pending.peek()
      if (next === undefined || next.due > target) break
      this.pending.pop()
      if (!this.live.delete(next.timerId)) continue // cleared
      this.current = Math.max(this.current, next.due)
      fired++
      next.fn()
    }
    this.current = Math.max(this.current, target)
    return fired
  }
}
