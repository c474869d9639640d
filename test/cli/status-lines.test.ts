import {describe, expect, it} from 'vitest'

import type {StatusView} from '../../src/control/views.js'
import {statusLines} from '../../src/cli/views.js'

const base: StatusView = {
  source: 'daemon',
  daemon: {running: true, pid: 42, startedAt: '2026-11-30T10:00:00.000Z'},
  uplink: {
    ifname: null,
    source: null,
    state: 'none',
    detectedOn: null,
    bondMembers: [],
    reason: null,
    changedAt: null,
    evb: null,
  },
  neighbors: {total: 0, evbBridges: 0},
  vsis: {total: 0, byState: {}},
  outbox: {pending: 0},
}

describe('statusLines: periodic tasks', () => {
  it('shows each task with its period and last run, and failures or missing answers only when there are some', () => {
    const now = Date.parse('2026-11-30T10:05:00.000Z')
    const lines = statusLines(
      {
        ...base,
        tasks: [
          {
            name: 'reconcile',
            periodS: 30,
            lastRunAt: '2026-11-30T10:04:55.000Z',
            lastError: null,
            runs: 9,
            errors: 0,
            noAnswer: 0,
          },
          {
            name: 'prune',
            periodS: 30,
            lastRunAt: '2026-11-30T10:04:55.000Z',
            lastError: 'database is locked',
            runs: 9,
            errors: 2,
            noAnswer: 0,
          },
          {name: 'heartbeat', periodS: 10, lastRunAt: null, lastError: null, runs: 0, errors: 0, noAnswer: 3},
        ],
      },
      now,
    )
    expect(lines).toContain(
      'tasks:     reconcile every 30s, last 5s ago; prune every 30s, last 5s ago, 2 failed (now: database is locked); heartbeat every 10s, 3 without answer',
    )
  })

  it('has no tasks line when the answer comes from the database', () => {
    expect(
      statusLines({...base, source: 'database', daemon: {running: false}}).some((l) => l.startsWith('tasks:')),
    ).toBe(false)
  })
})
