import {MinHeap} from '../core/min-heap.js'
import {VdpAgentError} from '../errors.js'

/** Served in this order: uplink events first, then single VM events, then bulk VM lists. */
export const PRIORITIES = ['uplink', 'vm', 'bulk'] as const
export type Priority = (typeof PRIORITIES)[number]

export interface QueueItem<T> {
  /** Global arrival order; FIFO within a priority follows it. */
  readonly seq: number
  readonly priority: Priority
  /** Ports this event touches. Two events sharing a port always start in arrival order, one at a time. */
  readonly ports: readonly string[]
  /** An exclusive event (an uplink change) runs alone: it waits for everything in flight, and holds back the rest. */
  readonly exclusive: boolean
  readonly payload: T
}

class QueueFullError extends VdpAgentError {
  constructor(priority: Priority, capacity: number) {
    super('QUEUE_FULL', `the ${priority} event queue is full (${capacity} events waiting); retry later`, {
      priority,
      capacity,
    })
  }
}

/** Oldest first: seq is unique and grows with every push. */
const bySeq = (a: QueueItem<unknown>, b: QueueItem<unknown>): number => a.seq - b.seq

export interface EventQueueOptions {
  /** Most events waiting per priority (events in flight do not count). */
  capacity: Record<Priority, number>
}

/**
 * The agent's work queue. Unlike the original agent's PriorityQueue of (priority, msg), it keeps FIFO order
 * within a priority and never reorders two events of the same port, whatever their priorities: a port's
 * down can never run before its up. Several events on distinct ports may be in flight at once (so their
 * VDP exchanges share ECPDUs); `take` hands out the next startable event and `done` releases its ports.
 */
export class EventQueue<T> {
  private seq = 0
  /** Per port: its events (waiting or in flight) in arrival order. The head is the only one that may run. */
  private readonly portLines = new Map<string, QueueItem<T>[]>()
  /** Per priority: waiting events whose every port line they head, i.e. startable. */
  private readonly ready = new Map<Priority, MinHeap<QueueItem<T>>>(
    PRIORITIES.map((p) => [p, new MinHeap<QueueItem<T>>(bySeq)]),
  )
  private readonly waitingCount = new Map<Priority, number>(PRIORITIES.map((p) => [p, 0]))
  private readonly running = new Set<QueueItem<T>>()
  private exclusiveRunning = false
  private waiters: (() => void)[] = []

  constructor(private readonly options: EventQueueOptions) {}

  /** Events waiting to start, per priority. */
  waiting(priority?: Priority): number {
    if (priority) return this.waitingCount.get(priority)!
    let n = 0
    for (const c of this.waitingCount.values()) n += c
    return n
  }

  /** Whether an event touching `port` is waiting or running. */
  hasPort(port: string): boolean {
    return this.portLines.has(port)
  }

  get inFlight(): number {
    return this.running.size
  }

  push(priority: Priority, payload: T, opts: {ports: readonly string[]; exclusive?: boolean}): QueueItem<T> {
    const capacity = this.options.capacity[priority]
    if (this.waitingCount.get(priority)! >= capacity) throw new QueueFullError(priority, capacity)
    const item: QueueItem<T> = {
      seq: ++this.seq,
      priority,
      ports: [...new Set(opts.ports)],
      exclusive: opts.exclusive ?? false,
      payload,
    }
    for (const port of item.ports) {
      const line = this.portLines.get(port)
      if (line) line.push(item)
      else this.portLines.set(port, [item])
    }
    this.waitingCount.set(priority, this.waitingCount.get(priority)! + 1)
    if (this.headsAllLines(item)) this.ready.get(priority)!.push(item)
    this.wake()
    return item
  }

  /**
   * The next event that may start, or undefined. Highest priority first, oldest first within it; an
   * exclusive event waits until nothing is in flight and, while it waits, nothing of lower rank starts.
   */
  take(): QueueItem<T> | undefined {
    if (this.exclusiveRunning) return undefined
    for (const priority of PRIORITIES) {
      const heap = this.ready.get(priority)!
      const next = heap.peek()
      if (!next) continue
      if (next.exclusive && this.running.size > 0) return undefined
      heap.pop()
      this.waitingCount.set(priority, this.waitingCount.get(priority)! - 1)
      this.running.add(next)
      if (next.exclusive) this.exclusiveRunning = true
      return next
    }
    return undefined
  }

  /** Release a taken event: the next events of its ports become startable. */
  done(item: QueueItem<T>): void {
    if (!this.running.delete(item)) return
    if (item.exclusive) this.exclusiveRunning = false
    for (const port of item.ports) {
      const line = this.portLines.get(port)!
      line.shift()
      if (line.length === 0) {
        this.portLines.delete(port)
        continue
      }
      const successor = line[0]
      if (this.headsAllLines(successor)) this.ready.get(successor.priority)!.push(successor)
    }
    this.wake()
  }

  /** Resolves at the next push or done: the moment `take` may have something new. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private headsAllLines(item: QueueItem<T>): boolean {
    return item.ports.every((port) => this.portLines.get(port)![0] === item)
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
