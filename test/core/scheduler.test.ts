import {describe, expect, it} from 'vitest'

import {ManualClock} from '../../src/core/clock.js'
import {Scheduler, SchedulerError} from '../../src/core/scheduler.js'

/** Let settled promises run their callbacks (the scheduler reschedules an async task when its promise settles). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('Scheduler', () => {
  it('runs a task every period on the clock and counts runs', () => {
    const clock = new ManualClock(1_000_000)
    const s = new Scheduler({clock})
    const at: number[] = []
    s.every('reconcile', 30_000, () => void at.push(clock.now()))
    clock.advance(29_999)
    expect(at).toEqual([])
    clock.advance(1 + 60_000)
    expect(at).toEqual([1_030_000, 1_060_000, 1_090_000])
    expect(s.list()).toEqual([
      {
        name: 'reconcile',
        periodS: 30,
        lastRunAt: new Date(1_090_000).toISOString(),
        lastError: null,
        runs: 3,
        errors: 0,
        noAnswer: 0,
      },
    ])
  })

  it('keeps running a task that throws, counting and reporting each error', () => {
    const clock = new ManualClock()
    const reported: string[] = []
    const s = new Scheduler({clock, onError: (name, err) => reported.push(`${name}: ${(err as Error).message}`)})
    let n = 0
    s.every('flaky', 1000, () => {
      n++
      if (n % 2 === 1) throw new Error(`boom ${n}`)
    })
    clock.advance(1000)
    expect(s.list()[0]).toMatchObject({runs: 1, errors: 1, lastError: 'boom 1'})
    clock.advance(1000)
    expect(s.list()[0]).toMatchObject({runs: 2, errors: 1, lastError: null})
    clock.advance(3000)
    expect(n).toBe(5)
    expect(s.list()[0]).toMatchObject({runs: 5, errors: 3, lastError: 'boom 5'})
    expect(reported).toEqual(['flaky: boom 1', 'flaky: boom 3', 'flaky: boom 5'])
  })

  it('keeps running a task whose promise rejects, and one whose error reporter throws', async () => {
    const clock = new ManualClock()
    const s = new Scheduler({
      clock,
      onError: () => {
        throw new Error('reporter down')
      },
    })
    s.every('rejects', 1000, () => Promise.reject(new Error('no broker')))
    clock.advance(1000)
    await flush()
    clock.advance(1000)
    await flush()
    expect(s.list()[0]).toMatchObject({runs: 2, errors: 2, lastError: 'no broker'})
  })

  it('never overlaps a slow async task: the next period starts when its run settles', async () => {
    const clock = new ManualClock()
    const s = new Scheduler({clock})
    let active = 0
    let maxActive = 0
    const finishers: (() => void)[] = []
    s.every('slow', 1000, () => {
      active++
      maxActive = Math.max(maxActive, active)
      return new Promise<void>((resolve) =>
        finishers.push(() => {
          active--
          resolve()
        }),
      )
    })
    clock.advance(1000)
    expect(finishers).toHaveLength(1)
    clock.advance(10_000) // ten periods pass while the first run is under way
    expect(finishers).toHaveLength(1)
    finishers[0]()
    await flush()
    expect(s.list()[0]).toMatchObject({runs: 1})
    clock.advance(999)
    expect(finishers).toHaveLength(1)
    clock.advance(1)
    expect(finishers).toHaveLength(2)
    expect(maxActive).toBe(1)
  })

  it('counts runs that found no answer apart from errors', async () => {
    const clock = new ManualClock()
    const s = new Scheduler({clock})
    const answers = ['no-answer', 'done', 'no-answer'] as const
    let i = 0
    s.every('heartbeat', 500, async () => answers[i++ % answers.length])
    for (let k = 0; k < 3; k++) {
      clock.advance(500)
      await flush()
    }
    expect(s.list()[0]).toMatchObject({runs: 3, errors: 0, noAnswer: 2})
  })

  it('applies a new period (SIGHUP) from now, honours an initial delay, jitter and cancel', () => {
    const clock = new ManualClock()
    const s = new Scheduler({clock, random: () => 0.75})
    const at: Record<string, number[]> = {a: [], b: [], c: []}
    const a = s.every('a', 10_000, () => void at.a.push(clock.now()), {initialDelayMs: 0})
    s.every('b', 1000, () => void at.b.push(clock.now()), {jitter: 0.5})
    clock.advance(0)
    expect(at.a).toEqual([0])
    a.setPeriod(2000)
    clock.advance(4000)
    expect(at.a).toEqual([0, 2000, 4000])
    expect(at.b).toEqual([1250, 2500, 3750]) // period × (1 + 0.5 × (2 × 0.75 − 1))
    expect(s.list().map((t) => t.periodS)).toEqual([2, 1])
    a.cancel()
    clock.advance(10_000)
    expect(at.a).toEqual([0, 2000, 4000])
    expect(s.list().map((t) => t.name)).toEqual(['b'])
    s.stop()
    expect(clock.pendingTimers).toBe(0)
  })

  it('refuses a duplicate name, a bad period and a bad jitter with typed errors', () => {
    const s = new Scheduler({clock: new ManualClock()})
    s.every('prune', 1000, () => {})
    expect(() => s.every('prune', 1000, () => {})).toThrow(expect.objectContaining({code: 'TASK_EXISTS'}))
    expect(() => s.every('x', 0, () => {})).toThrow(SchedulerError)
    expect(() => s.every('y', 1000, () => {}, {jitter: 1})).toThrow(expect.objectContaining({code: 'TASK_JITTER'}))
    expect(() => s.setPeriod('nope', 1000)).toThrow(expect.objectContaining({code: 'TASK_UNKNOWN'}))
  })
})
