import {describe, expect, it} from 'vitest'
import {
  ackTimer,
  evbTime,
  evbTimers,
  LLDPAD_DEFAULT_EVB,
  reinitKeepAlive,
  respWaitDelay,
  toutKeepAlive,
} from '../../src/vdp/timers.js'
import {EvbParamError} from '../../src/vdp/errors.js'
import {KEEPALIVE_PCAP, ecpFrames} from './helpers/corpus.js'

describe('EVB timer arithmetic (wire-notes §EVB timers, §VDP timers)', () => {
  it('T(exp) is 10 µs × 2^exp, in ms', () => {
    expect(evbTime(0)).toBeCloseTo(0.01, 9)
    expect(evbTime(8)).toBeCloseTo(2.56, 9)
    expect(evbTime(14)).toBeCloseTo(163.84, 9)
    expect(evbTime(20)).toBeCloseTo(10485.76, 6)
    expect(evbTime(25)).toBeCloseTo(335544.32, 3)
    expect(evbTime(27)).toBeCloseTo(1342177.28, 2)
  })

  it("gives lldpad's default respWaitDelay and toutKeepAlive (≈ 15.76 s)", () => {
    expect(respWaitDelay(3, 8, 20)).toBeCloseTo(1.5 * (7 * 2.56 + 10485.76), 6)
    expect(respWaitDelay(3, 8, 20) / 1000).toBeCloseTo(15.76, 2)
    expect(toutKeepAlive(3, 8, 20)).toBeCloseTo(respWaitDelay(3, 8, 20), 9)
    const all = evbTimers(LLDPAD_DEFAULT_EVB)
    expect(all.ackTimerMs).toBeCloseTo(2.56, 9)
    expect(all.reinitKeepAliveMs).toBeCloseTo(10485.76, 6)
  })

  it('gives ≈ 505 s against a Cisco leaf advertising RWD 25 (wire-notes §VDP timers)', () => {
    expect(respWaitDelay(3, 14, 25) / 1000).toBeCloseTo(505.0, 0)
  })

  it('rejects values the EVB TLV cannot carry', () => {
    expect(() => evbTime(32)).toThrow(EvbParamError)
    expect(() => respWaitDelay(8, 8, 20)).toThrow(EvbParamError)
    expect(() => evbTime(1.5)).toThrow(/0–31/)
  })

  it('agrees with the lldpad capture: retransmissions T(14) apart, keep-alives every T(20)', () => {
    // Negotiated in that capture: R 3, RTE 14, RWD 20, RKA 20 (EVB TLV octets 6e 54 14 / 6e 94 14).
    const frames = ecpFrames(KEEPALIVE_PCAP)
    const bySeq = (seq: number) =>
      frames.filter((r) => r.frame.readUInt16BE(16) === seq && r.frame.readUInt16BE(14) === 0x1001)
    const retries = bySeq(0x0a).map((r) => r.timeMs)
    expect(retries).toHaveLength(4) // 1 + R transmissions, then lldpad gives up
    for (let i = 1; i < retries.length; i++) expect(retries[i] - retries[i - 1]).toBeCloseTo(ackTimer(14), -1)
    // The first VSI's association (seq 1) and its keep-alive (seq 4) are T(RKA) apart, plus processing.
    const gap = bySeq(4)[0].timeMs - bySeq(1)[0].timeMs
    expect(gap).toBeGreaterThan(reinitKeepAlive(20))
    expect(gap - reinitKeepAlive(20)).toBeLessThan(10)
  })
})
