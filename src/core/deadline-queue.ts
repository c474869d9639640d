/**
 * One sorted deadline list for many items (VSIs), driven by a single clock timer.
 *
 * Why: 4,000 VSIs each with a response or keep-alive deadline must not mean 4,000 live timers being
 * created and cancelled. Items are rescheduled in O(log n) with lazy deletion; the one clock timer is re-armed
 * only when the earliest deadline moves earlier. Items that fall due together are handed over in one batch,
 * which is what lets the station pack their keep-alives into shared ECPDUs.
 */
import type {Clock, TimerHandle} from './clock.js'
import {MinHeap} from './min-heap.js'

interface Entry<T> {
  readonly at: number
  readonly seq: number
  readonly item: T
}

export class DeadlineQueue<T> {
  private readonly heap = new MinHeap<Entry<T>>((a, b) => a.at - b.at || a.seq - b.seq)
  private readonly live = new Map<T, Entry<T>>()
  private seq = 0
  private timer: TimerHandle | undefined
  private armedAt = Infinity

  constructor(
    private readonly clock: Clock,
    /** Called with every item whose deadline has passed, earliest first; their deadlines are cleared. */
    private readonly onDue: (items: T[]) => void,
  ) {}

  get size(): number {
    return this.live.size
  }

  deadlineOf(item: T): number | undefined {
    return this.live.get(item)?.at
  }

  /** Set (or move) the deadline of `item`. */
  schedule(item: T, at: number): void {
    const entry: Entry<T> = {at, seq: ++this.seq, item}
    this.live.set(item, entry)
    this.heap.push(entry)
    if (this.heap.size > 2 * this.live.size + 64) this.compact()
    if (at < this.armedAt) this.arm(at)
  }

  cancel(item: T): void {
    // The heap entry stays until it surfaces or the heap is compacted; it is recognised as stale.
    this.live.delete(item)
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.timer = undefined
    this.armedAt = Infinity
    this.live.clear()
    this.heap.rebuild([])
  }

  private isLive(entry: Entry<T>): boolean {
    return this.live.get(entry.item) === entry
  }

  private compact(): void {
    this.heap.rebuild([...this.live.values()])
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.armedAt = at
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => this.fire())
  }

  private fire(): void {
    this.timer = undefined
    this.armedAt = Infinity
    // A hair of slack: now + (at − now) can land one ulp short of `at`, which must not re-arm forever.
    const now = this.clock.now() + 1e-6
    const due: T[] = []
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined) break
      if (!this.isLive(top)) {
        this.heap.pop()
        continue
      }
      if (top.at > now) break
      this.heap.pop()
      this.live.delete(top.item)
      due.push(top.item)
    }
    // Re-arm before the callback: it may schedule new deadlines, which compare against armedAt.
    const next = this.firstLive()
    if (next !== undefined) this.arm(next.at)
    if (due.length > 0) this.onDue(due)
  }

  private firstLive(): Entry<T> | undefined {
    for (;;) {
      const top = this.heap.peek()
      if (top === undefined || this.isLive(top)) return top
      this.heap.pop()
    }
  }
}
