/**
 * `vdp decode` under fuzzing: corpus ECP frames (lldpad captures, qbg22 vectors) and frames we construct
 * (every filter and VSIID format, Cisco TLVs), mutated (bit flips, truncation, insertion, deletion, TLV
 * length rewrites, copied slices) and VLAN-tagged, then random octets. A modest run count here;
 * `node dist/bench/vdp-fuzz.js --cases 1000000` runs the same property for long.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {mutationArbitrary} from '../../bench/lldp-fuzz-harness.js'
import {
  applyVdpMutations,
  checkVdpDecodeInvariants,
  constructedSeeds,
  loadEcpSeeds,
  newVdpOutcome,
  vdpCaseArbitrary,
  withVlanTags,
} from '../../bench/vdp-fuzz-harness.js'
import {EcpExchangeTracker} from '../../src/vdp/frame-decode.js'
import {CORPUS} from './helpers/corpus.js'
import {existsSync} from 'node:fs'

const seeds = existsSync(CORPUS) ? loadEcpSeeds([CORPUS]) : constructedSeeds()

describe('vdp decode under fuzzing', () => {
  it('has seeds from the lldpad captures, the qbg22 vectors and our constructed frames', () => {
    expect(seeds.length).toBeGreaterThan(existsSync(CORPUS) ? 40 : 4)
  })

  it('mutated and VLAN-tagged frames: typed errors only, exact VDPDU round trip, every rendering works', () => {
    const outcome = newVdpOutcome()
    const tracker = new EcpExchangeTracker()
    fc.assert(
      fc.property(vdpCaseArbitrary(seeds.length, mutationArbitrary), ([i, mutations, tags]) => {
        checkVdpDecodeInvariants(withVlanTags(applyVdpMutations(seeds[i], mutations), tags), tracker, outcome)
      }),
      {numRuns: 3000},
    )
    // The cases must reach all three outcomes, or the property proves little.
    expect(outcome.decoded).toBeGreaterThan(1000)
    expect(outcome.malformedVdpdus).toBeGreaterThan(200)
    expect(Object.keys(outcome.vdpErrorByCode).length).toBeGreaterThanOrEqual(3)
    expect(Object.keys(outcome.rejectedByCode).length).toBeGreaterThanOrEqual(1)
  })

  it('random octets behind an ECP header', () => {
    const outcome = newVdpOutcome()
    const tracker = new EcpExchangeTracker()
    const header = Buffer.from('0180c2000000020000000101894010010001', 'hex')
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 600}), fc.nat(18), (tail, cut) => {
        checkVdpDecodeInvariants(Buffer.concat([header.subarray(0, 18 - (cut % 5)), tail]), tracker, outcome)
      }),
      {numRuns: 2000},
    )
    expect(outcome.decoded).toBeGreaterThan(500)
  })
})
