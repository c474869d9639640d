import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {EventQueue, QueueItem} from './event-queue.js'

export type EventHandler<T> = (item: QueueItem<T>) => Promise<void>

/**
 * The queue's consumer. It starts every startable event up to `maxInFlight` at once (events of distinct
 * ports run side by side, so their VDP exchanges can share ECPDUs), and a handler's failure is logged
 * and contained: one bad event never stops the loop (the original agent's thread could die for good).
 */
export class Processor<T> {
  private stopping = false
  private loop?: Promise<void>
  private readonly active = new Set<Promise<void>>()
  private wakeStop?: () => void

  constructor(
    private readonly queue: EventQueue<T>,
    private readonly handle: EventHandler<T>,
    private readonly log: Logger,
    private readonly maxInFlight = 512,
  ) {}

  start(): void {
    this.loop ??= this.run()
  }

  /** Stop taking events and wait for those in flight (at most `timeoutMs`). Waiting events stay queued. */
  async stop(timeoutMs = 10_000): Promise<boolean> {
    this.stopping = true
    this.wakeStop?.()
    await this.loop
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    const drained = Promise.all(this.active).then(() => true as const)
    const ok = await Promise.race([drained, timedOut])
    clearTimeout(timer)
    return ok
  }

  private async run(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.wakeStop = resolve
    })
    while (!this.stopping) {
      const item = this.active.size < this.maxInFlight ? this.queue.take() : undefined
      if (item) {
        const job = this.runOne(item)
        this.active.add(job)
        void job.finally(() => this.active.delete(job))
        continue
      }
      await Promise.race([this.queue.changed(), stopped])
    }
  }

  private async runOne(item: QueueItem<T>): Promise<void> {
    try {
      await this.handle(item)
    } catch (err) {
      this.log.error(
        {err: errorMessage(err), priority: item.priority, ports: item.ports.slice(0, 8)},
        'event handler failed',
      )
    } finally {
      this.queue.done(item)
    }
  }
}
