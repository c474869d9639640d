/**
 * Long-run fuzzing of the LLDP decoder and the pcap parser. After `npx tsc -p tsconfig.json`:
 *
 *   node dist/bench/lldp-fuzz.js [--cases 1000000] [--seed N] [--corpus ../shared/corpus]
 *
 * The same properties as test/lldp/fuzz.test.ts (bench/lldp-fuzz-harness.ts): mutated corpus frames (70 %),
 * frames assembled from random TLVs (25 %) and mutated capture files through the pcap parser in random
 * chunks (5 %). Exits 1 with fast-check's shrunk counterexample on the first failure.
 */
import {existsSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {
  applyMutations,
  checkDecoderInvariants,
  checkPcapParser,
  loadSeedFrames,
  mutationArbitrary,
  newOutcome,
  randomFrameArbitrary,
} from './lldp-fuzz-harness.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const cases = Number(arg('--cases') ?? 1_000_000)
const seed = Number(arg('--seed') ?? Date.now() % 2 ** 31)
const repo = fileURLToPath(new URL('../../', import.meta.url)) // dist/bench → repository root
const corpus = arg('--corpus') ?? `${repo}../shared/corpus`
const fixtures = `${repo}test/lldp/fixtures`
if (!existsSync(corpus)) throw new Error(`no corpus at ${corpus} (use --corpus)`)

const seeds = loadSeedFrames([corpus, fixtures])
const captures = [
  `${corpus}/third-party/tcpdump/evb.pcap`,
  `${corpus}/third-party/tcpdump/dcb_pfc.pcap`,
  `${corpus}/generated/lldpd-plus-lldpad-vdp22.pcap`,
]
  .filter(existsSync)
  .map((p) => readFileSync(p))
const outcome = newOutcome()
let pcapCases = 0
let done = 0
const started = performance.now()
let lastReport = started

const oneCase = fc.oneof(
  {
    weight: 70,
    arbitrary: fc.tuple(
      fc.constant('mutate' as const),
      fc.nat(),
      fc.array(mutationArbitrary, {minLength: 1, maxLength: 8}),
    ),
  },
  {weight: 25, arbitrary: fc.tuple(fc.constant('random' as const), randomFrameArbitrary)},
  {
    weight: 5,
    arbitrary: fc.tuple(
      fc.constant('pcap' as const),
      fc.nat(),
      fc.array(mutationArbitrary, {maxLength: 4}),
      fc.array(fc.integer({min: 1, max: 4096}), {minLength: 1, maxLength: 6}),
    ),
  },
)

process.stdout.write(`fuzzing ${cases.toLocaleString('en-US')} cases, seed ${seed}, ${seeds.length} seed frames\n`)
try {
  fc.assert(
    fc.property(oneCase, (c) => {
      if (c[0] === 'mutate') checkDecoderInvariants(applyMutations(seeds[c[1] % seeds.length], c[2]), outcome)
      else if (c[0] === 'random') checkDecoderInvariants(c[1], outcome)
      else {
        pcapCases++
        checkPcapParser(applyMutations(captures[c[1] % captures.length], c[2]), c[3])
      }
      done++
      const t = performance.now()
      if (t - lastReport > 10_000) {
        lastReport = t
        process.stdout.write(`  ${done.toLocaleString('en-US')} cases, ${((t - started) / 1000).toFixed(0)} s\n`)
      }
    }),
    {numRuns: cases, seed},
  )
} catch (err) {
  process.stdout.write(
    `FAILED after ${done.toLocaleString('en-US')} cases (seed ${seed}):\n${(err as Error).message}\n`,
  )
  process.exit(1)
}
const seconds = (performance.now() - started) / 1000
process.stdout.write(
  `passed: ${done.toLocaleString('en-US')} cases in ${seconds.toFixed(1)} s (${Math.round(done / seconds).toLocaleString('en-US')}/s), no failure\n` +
    `  LLDP frames decoded (lenient, then re-encoded byte for byte): ${outcome.decoded.toLocaleString('en-US')}\n` +
    `  lenient decode rejected (LldpDecodeError), by rule: ${JSON.stringify(outcome.rejectedByRule)}\n` +
    `  strict decode rejected (LldpDecodeError), by rule: ${JSON.stringify(outcome.strictRejectedByRule)}\n` +
    `  slowest single case, strict + lenient decode (GC pauses included): ${outcome.maxDecodeMicros.toFixed(0)} µs\n` +
    `  pcap parser cases: ${pcapCases.toLocaleString('en-US')}\n`,
)
