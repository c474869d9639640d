import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {EventQueue, PRIORITIES, type Priority, type QueueItem} from '../../src/agent/event-queue.js'

const big = {capacity: {uplink: 1000, vm: 1000, bulk: 1000}}

function drainSerially<T>(q: EventQueue<T>): T[] {
  const out: T[] = []
  for (let item = q.take(); item; item = q.take()) {
    out.push(item.payload)
    q.done(item)
  }
  return out
}

describe('EventQueue ordering', () => {
  it('serves uplink before VM before bulk, FIFO within a priority', () => {
    const q = new EventQueue<string>(big)
    q.push('bulk', 'b1', {ports: ['p9']})
    q.push('vm', 'v1', {ports: ['p1']})
    q.push('uplink', 'u1', {ports: ['uplink'], exclusive: true})
    q.push('vm', 'v2', {ports: ['p2']})
    q.push('uplink', 'u2', {ports: ['uplink'], exclusive: true})
    expect(drainSerially(q)).toEqual(['u1', 'u2', 'v1', 'v2', 'b1'])
  })

  it("never runs a port's down before its up, even when the down has the higher priority", () => {
    const q = new EventQueue<string>(big)
    q.push('bulk', 'bulk-up(p1,p2)', {ports: ['p1', 'p2']})
    q.push('vm', 'down(p1)', {ports: ['p1']})
    q.push('vm', 'up(p3)', {ports: ['p3']})
    expect(drainSerially(q)).toEqual(['up(p3)', 'bulk-up(p1,p2)', 'down(p1)'])
  })

  it('runs events of distinct ports side by side, but one event per port at a time', () => {
    const q = new EventQueue<string>(big)
    q.push('vm', 'up(p1)', {ports: ['p1']})
    q.push('vm', 'down(p1)', {ports: ['p1']})
    q.push('vm', 'up(p2)', {ports: ['p2']})
    const a = q.take()!
    const b = q.take()!
    expect([a.payload, b.payload]).toEqual(['up(p1)', 'up(p2)'])
    expect(q.take()).toBeUndefined() // down(p1) waits for up(p1)
    q.done(b)
    expect(q.take()).toBeUndefined()
    q.done(a)
    expect(q.take()?.payload).toBe('down(p1)')
  })

  it('an uplink event waits for in-flight work and holds back everything else until done', () => {
    const q = new EventQueue<string>(big)
    q.push('vm', 'v1', {ports: ['p1']})
    const v1 = q.take()!
    q.push('uplink', 'u-down', {ports: ['uplink'], exclusive: true})
    q.push('vm', 'v2', {ports: ['p2']})
    expect(q.take()).toBeUndefined() // v2 may not overtake the waiting uplink event
    q.done(v1)
    const u = q.take()!
    expect(u.payload).toBe('u-down')
    expect(q.take()).toBeUndefined() // nothing runs beside an uplink event
    q.done(u)
    expect(q.take()?.payload).toBe('v2')
  })

  it('is bounded per priority with a typed error, and uplink events have their own room', () => {
    const q = new EventQueue<number>({capacity: {uplink: 2, vm: 3, bulk: 1}})
    for (let i = 0; i < 3; i++) q.push('vm', i, {ports: [`p${i}`]})
    expect(() => q.push('vm', 3, {ports: ['p3']})).toThrow(
      expect.objectContaining({
        code: 'QUEUE_FULL',
        message: expect.stringContaining('vm event queue is full (3 events waiting)'),
      }),
    )
    q.push('uplink', 9, {ports: ['uplink'], exclusive: true})
    const uplink = q.take()!
    expect(uplink.payload).toBe(9)
    q.done(uplink)
    q.done(q.take()!) // taking a VM event frees a VM slot
    expect(() => q.push('vm', 3, {ports: ['p3']})).not.toThrow()
  })

  it('changed() resolves on push and on done', async () => {
    const q = new EventQueue<string>(big)
    const first = q.changed()
    q.push('vm', 'x', {ports: ['p']})
    await first
    const item = q.take()!
    const second = q.changed()
    q.done(item)
    await second
  })
})

/**
 * A brute-force reference: the startable events are those with no earlier unfinished event on any of
 * their ports; the pick is the best priority, then the oldest; exclusive events run alone.
 */
class ReferenceQueue {
  waiting: {seq: number; priority: Priority; ports: string[]; exclusive: boolean}[] = []
  running: {seq: number; ports: string[]; exclusive: boolean}[] = []
  private seq = 0
  push(priority: Priority, ports: string[], exclusive: boolean) {
    this.waiting.push({seq: ++this.seq, priority, ports: [...new Set(ports)], exclusive})
  }
  take(): number | undefined {
    if (this.running.some((r) => r.exclusive)) return undefined
    const unfinished = [...this.waiting, ...this.running]
    const startable = this.waiting.filter(
      (w) => !unfinished.some((o) => o.seq < w.seq && o.ports.some((p) => w.ports.includes(p))),
    )
    startable.sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.seq - b.seq)
    const pick = startable[0]
    if (!pick) return undefined
    if (pick.exclusive && this.running.length > 0) return undefined
    this.waiting = this.waiting.filter((w) => w !== pick)
    this.running.push(pick)
    return pick.seq
  }
  done(seq: number) {
    this.running = this.running.filter((r) => r.seq !== seq)
  }
}

type Op = {op: 'push'; priority: Priority; ports: string[]} | {op: 'take'} | {op: 'done'; pick: number}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('push' as const),
    priority: fc.constantFrom(...PRIORITIES),
    ports: fc.array(fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5'), {minLength: 1, maxLength: 3}),
  }),
  fc.record({op: fc.constant('take' as const)}),
  fc.record({op: fc.constant('done' as const), pick: fc.nat(20)}),
)

describe('EventQueue property: agrees with the reference model on random schedules', () => {
  it('same choice at every take, and per-port start order equals arrival order', () => {
    fc.assert(
      fc.property(fc.array(opArb, {maxLength: 200}), (ops) => {
        const q = new EventQueue<number>(big)
        const ref = new ReferenceQueue()
        const running: QueueItem<number>[] = []
        const startedPerPort = new Map<string, number[]>()
        const arrivedPerPort = new Map<string, number[]>()
        for (const op of ops) {
          if (op.op === 'push') {
            // uplink events are exclusive, like the daemon's
            const exclusive = op.priority === 'uplink'
            const item = q.push(op.priority, 0, {ports: op.ports, exclusive})
            ref.push(op.priority, op.ports, exclusive)
            for (const p of item.ports) arrivedPerPort.set(p, [...(arrivedPerPort.get(p) ?? []), item.seq])
          } else if (op.op === 'take') {
            const got = q.take()
            expect(got?.seq).toBe(ref.take())
            if (got) {
              running.push(got)
              for (const p of got.ports) startedPerPort.set(p, [...(startedPerPort.get(p) ?? []), got.seq])
            }
          } else if (running.length > 0) {
            const [item] = running.splice(op.pick % running.length, 1)
            q.done(item)
            ref.done(item.seq)
          }
        }
        for (const [port, started] of startedPerPort) {
          expect(started).toEqual(arrivedPerPort.get(port)!.slice(0, started.length))
        }
      }),
      {numRuns: 500},
    )
  })
})
