/**
 * Property-based fuzzing: corpus frames mutated (bit flips, truncation, insertion, deletion, TLV length
 * rewrites, copied slices) and frames assembled from random TLVs. A modest run count here;
 * `node dist/bench/lldp-fuzz.js --cases 1000000` runs the same property for long.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  applyMutations,
  checkDecoderInvariants,
  loadSeedFrames,
  mutationArbitrary,
  newOutcome,
  randomFrameArbitrary,
} from '../../bench/lldp-fuzz-harness.js'
import {captureDirs, HAVE_THIRD_PARTY} from './corpus.js'

const seeds = loadSeedFrames(captureDirs())

describe('LLDP decoder under fuzzing', () => {
  it.skipIf(!HAVE_THIRD_PARTY)('has seeds from the corpus (including tcpdump and lldpd fuzz frames)', () => {
    expect(seeds.length).toBeGreaterThan(80)
  })

  it('mutated corpus frames: typed errors only, exact round trip, scan agrees', () => {
    const outcome = newOutcome()
    fc.assert(
      fc.property(fc.nat(), fc.array(mutationArbitrary, {minLength: 1, maxLength: 6}), (i, mutations) => {
        checkDecoderInvariants(applyMutations(seeds[i % seeds.length], mutations), outcome)
      }),
      {numRuns: 2000},
    )
    // Mutations must exercise both outcomes, or the property proves little.
    expect(outcome.decoded).toBeGreaterThan(200)
    expect(Object.keys(outcome.rejectedByRule).length).toBeGreaterThan(1)
  })

  it('frames assembled from random TLVs', () => {
    const outcome = newOutcome()
    fc.assert(
      fc.property(randomFrameArbitrary, (frame) => checkDecoderInvariants(frame, outcome)),
      {numRuns: 2000},
    )
    expect(outcome.decoded).toBeGreaterThan(200)
  })

  it('every corpus seed itself', () => {
    for (const seed of seeds) checkDecoderInvariants(seed)
  })
})
