/**
 * Long-run fuzzing of the ECP22/VDP22 decoder behind `vdp decode`. After `npx tsc -p tsconfig.json`:
 *
 *   node dist/bench/vdp-fuzz.js [--cases 1000000] [--seed N] [--corpus ../shared/corpus]
 *
 * The same property as test/vdp/decode-fuzz.test.ts (bench/vdp-fuzz-harness.ts): corpus and constructed ECP
 * frames mutated and VLAN-tagged (90 %), random octets behind an ECP header (10 %). Exits 1 with fast-check's
 * shrunk counterexample on the first failure; reports the slowest single decode (a hang shows there).
 */
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {mutationArbitrary} from './lldp-fuzz-harness.js'
import {
  applyVdpMutations,
  checkVdpDecodeInvariants,
  loadEcpSeeds,
  newVdpOutcome,
  vdpCaseArbitrary,
  withVlanTags,
} from './vdp-fuzz-harness.js'
import {EcpExchangeTracker} from '../src/vdp/frame-decode.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const cases = Number(arg('--cases') ?? 1_000_000)
const seed = Number(arg('--seed') ?? Date.now() % 2 ** 31)
const repo = fileURLToPath(new URL('../../', import.meta.url)) // dist/bench → repository root
const corpus = arg('--corpus') ?? `${repo}../shared/corpus`
if (!existsSync(corpus)) throw new Error(`no corpus at ${corpus} (use --corpus)`)

const seeds = loadEcpSeeds([corpus])
const header = Buffer.from('0180c2000000020000000101894010010001', 'hex')
const outcome = newVdpOutcome()
const tracker = new EcpExchangeTracker()
let done = 0
const started = performance.now()
let lastReport = started

const oneCase = fc.oneof(
  {weight: 90, arbitrary: fc.tuple(fc.constant('mutate' as const), vdpCaseArbitrary(seeds.length, mutationArbitrary))},
  {weight: 10, arbitrary: fc.tuple(fc.constant('random' as const), fc.uint8Array({maxLength: 1500}))},
)

process.stdout.write(`fuzzing ${cases.toLocaleString('en-US')} cases, seed ${seed}, ${seeds.length} seed frames\n`)
try {
  fc.assert(
    fc.property(oneCase, (c) => {
      if (c[0] === 'mutate') {
        const [i, mutations, tags] = c[1]
        checkVdpDecodeInvariants(withVlanTags(applyVdpMutations(seeds[i], mutations), tags), tracker, outcome)
      } else checkVdpDecodeInvariants(Buffer.concat([header, c[1]]), tracker, outcome)
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
    `FAILED after ${done.toLocaleString('en-US')} cases (seed ${seed}):\n${(err as Error).message}\n${String((err as Error).cause ?? '')}\n`,
  )
  process.exit(1)
}
const seconds = (performance.now() - started) / 1000
process.stdout.write(
  `passed: ${done.toLocaleString('en-US')} cases in ${seconds.toFixed(1)} s (${Math.round(done / seconds).toLocaleString('en-US')}/s), no failure\n` +
    `  ECP frames decoded (VDPDUs re-encoded byte for byte): ${outcome.decoded.toLocaleString('en-US')}\n` +
    `  malformed VDPDUs reported, by code: ${JSON.stringify(outcome.vdpErrorByCode)}\n` +
    `  not ECP / too short (EcpDecodeError), by code: ${JSON.stringify(outcome.rejectedByCode)}\n` +
    `  slowest single decode (GC pauses included): ${outcome.maxDecodeMicros.toFixed(0)} µs\n` +
    `  exchanges followed: ${JSON.stringify(tracker.totals())}\n`,
)
