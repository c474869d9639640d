/**
 * Lifetime of native/afpacket.c under GC stress: test/helpers/processes/afpacket-stress.ts runs every way a socket can
 * live and die in a namespace, then forces GC; here we check the addon's own live counts, not timings.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, sweepStaleLabs} from '../../../src/lab/netns.js'
import {compiledTestProcess} from '../../helpers/probe-client.js'

const isRoot = process.getuid?.() === 0
const CYCLES = 1200 // each close() of a bound packet socket waits for an RCU grace period (~12 ms here)

interface Counts {
  sockets: number
  fds: number
}

describe.skipIf(!isRoot)('afpacket addon lifetime under GC stress', () => {
  const lab = new Lab()
  let result: {
    cycles: number
    live: Counts
    whileLeftOpen: Counts
    worker: {before: Counts; during: Counts; after: Counts}
    fds: {baseline: number; end: number}
    errors: Record<string, number>
    closedInCallback: number
    deliveredAfterClose: number
    uncaught: number
    deliveredAfterThrow: number
    batch: {queued: number; deliveredAtCheck: number; total: number}
  }

  beforeAll(async () => {
    await sweepStaleLabs()
    const ns = await lab.addNamespace('gc')
    await lab.addVethPair({ns, ifname: 's0'}, {ns, ifname: 's1'})
    await lab.waitForOperstate(ns, 's1', 'up')
    const {stdout} = await lab.exec(
      ns,
      [process.execPath, '--expose-gc', compiledTestProcess('afpacket-stress'), 's0', 's1', String(CYCLES)],
      {
        timeoutMs: 100_000,
      },
    )
    result = JSON.parse(stdout.trim().split('\n').at(-1)!)
  }, 110_000)

  afterAll(() => lab.destroy())

  it('frees every socket and closes every descriptor once the objects are collected', () => {
    expect(result.cycles).toBe(CYCLES)
    expect(result.live).toEqual({sockets: 0, fds: 0})
    expect(result.fds.end).toBeLessThanOrEqual(result.fds.baseline)
  })

  it('refuses a second start and any use after close without leaking, with the right codes', () => {
    const perScenario = CYCLES / 6
    expect(result.errors).toEqual({
      ERR_ALREADY_STARTED: perScenario,
      EBADF: 2 * perScenario, // start after close, send after close
      ERR_INVALID_MULTICAST: perScenario,
      ERR_INVALID_IFNAME: perScenario,
      ENODEV: perScenario,
    })
  })

  it('close() inside the frame callback stops delivery even with more frames queued', () => {
    expect(result.closedInCallback).toBe(CYCLES / 6)
    expect(result.deliveredAfterClose).toBe(0)
  })

  it('a throwing callback becomes an uncaught exception and the socket keeps delivering', () => {
    expect(result.uncaught).toBe(CYCLES / 60)
    expect(result.deliveredAfterThrow).toBe(CYCLES / 60)
  })

  it('reads a flood at most 64 frames per poll wakeup, so timers and other I/O still run', () => {
    expect(result.batch.queued).toBeGreaterThan(64) // the scenario is meaningful: more than a batch was waiting
    expect(result.batch.deliveredAtCheck).toBe(64)
    expect(result.batch.total).toBe(200)
  })

  it('keeps a started socket alive through GC until it is closed', () => {
    // the sender and the started-but-unreferenced socket both still hold their descriptors
    expect(result.whileLeftOpen.fds).toBe(2)
  })

  it('closes a socket left open by a worker thread when the worker ends', () => {
    expect(result.worker.during.fds).toBe(result.worker.before.fds + 1)
    expect(result.worker.after).toEqual(result.worker.before)
  })
})
