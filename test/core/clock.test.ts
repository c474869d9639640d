import {describe, expect, it} from 'vitest'
import {ManualClock} from '../../src/core/clock.js'
import {DeadlineQueue} from '../../src/core/deadline-queue.js'

describe('ManualClock', () => {
  it('fires due timers in due order, ties in scheduling order, with now() at each due time', () => {
    const clock = new ManualClock(100)
    const seen: string[] = []
    clock.setTimer(5, () => seen.push(`b@${clock.now()}`))
    clock.setTimer(2, () => seen.push(`a@${clock.now()}`))
    clock.setTimer(5, () => seen.push(`c@${clock.now()}`))
    expect(clock.advance(4)).toBe(1)
    expect(clock.advance(10)).toBe(2)
    expect(seen).toEqual(['a@102', 'b@105', 'c@105'])
    expect(clock.now()).toBe(114)
  })

  it('fires timers scheduled inside the step and skips cleared ones', () => {
    const clock = new ManualClock()
    const seen: number[] = []
    const h = clock.setTimer(1, () => seen.push(-1))
    clock.setTimer(2, () => clock.setTimer(3, () => seen.push(clock.now())))
    clock.clearTimer(h)
    clock.advance(10)
    expect(seen).toEqual([5])
    expect(clock.pendingTimers).toBe(0)
  })
})

describe('DeadlineQueue', () => {
  it('hands over everything due in one batch, earliest first, with one clock timer', () => {
    const clock = new ManualClock()
    const batches: string[][] = []
    const q = new DeadlineQueue<string>(clock, (items) => batches.push(items))
    q.schedule('x', 10)
    q.schedule('y', 5)
    q.schedule('z', 10)
    expect(clock.pendingTimers).toBe(1)
    clock.advance(10)
    expect(batches).toEqual([['y'], ['x', 'z']])
    expect(q.size).toBe(0)
  })

  it('moves and cancels deadlines without leaking timers', () => {
    const clock = new ManualClock()
    const fired: string[] = []
    const q = new DeadlineQueue<string>(clock, (items) => fired.push(...items))
    for (let i = 0; i < 1000; i++) q.schedule('a', 1000 - i) // moved earlier every time
    q.schedule('b', 3)
    q.cancel('b')
    expect(q.deadlineOf('a')).toBe(1)
    clock.advance(2000)
    expect(fired).toEqual(['a'])
    expect(clock.pendingTimers).toBe(0)
  })

  it('lets the callback schedule new deadlines', () => {
    const clock = new ManualClock()
    const fired: number[] = []
    const q = new DeadlineQueue<string>(clock, (items) => {
      fired.push(clock.now())
      if (fired.length < 3) for (const it of items) q.schedule(it, clock.now() + 10)
    })
    q.schedule('k', 10)
    clock.advance(100)
    expect(fired).toEqual([10, 20, 30])
  })
})

describe('ManualClock bookkeeping', () => {
  it('clearing a timer that already fired changes nothing', () => {
    const clock = new ManualClock()
    const h = clock.setTimer(1, () => {})
    clock.advance(1)
    clock.clearTimer(h)
    clock.setTimer(1, () => {})
    expect(clock.pendingTimers).toBe(1)
  })
})
