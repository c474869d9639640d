import {describe, expect, it} from 'vitest'

import {nextRetry} from '../../src/agent/retry.js'

const policy = {initialMs: 1000, maxMs: 300_000, limit: 12}

describe('retry backoff', () => {
  it('doubles from the initial delay, jittered by at most ±25 %, and caps at the maximum', () => {
    const mid = () => 0.5
    expect([1, 2, 3, 4, 10].map((a) => nextRetry(policy, a, false, mid))).toEqual(
      [1000, 2000, 4000, 8000, 300_000].map((delayMs) => ({retry: true, delayMs})),
    )
    expect(nextRetry(policy, 1, false, () => 0)).toEqual({retry: true, delayMs: 750})
    expect(nextRetry(policy, 1, false, () => 0.999999)).toEqual({retry: true, delayMs: 1250})
  })

  it('stops at the limit and never retries a hard error', () => {
    expect(nextRetry(policy, 12, false)).toEqual({retry: false, why: 'gave up after 12 attempts'})
    expect(nextRetry(policy, 1, true)).toMatchObject({retry: false, why: expect.stringMatching(/hard/)})
  })

  it('never retries at a fixed rate forever: the delays are bounded in number', () => {
    let attempts = 1
    while (nextRetry(policy, attempts, false).retry) attempts++
    expect(attempts).toBe(12)
  })
})
