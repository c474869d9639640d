/**
 * The property both the test suite (modest run count) and bench/lldp-fuzz.ts (≥ 1 M cases) check:
 * whatever the octets, the LLDP decoder returns or throws LldpDecodeError (never an internal error), the
 * lenient decode re-encodes to the same octets, the header scan never throws and agrees with the decoder,
 * and the formatter renders every decoded frame.
 */
import {readdirSync, readFileSync} from 'node:fs'
import fc from 'fast-check'
import {decodeLldpFrame, encodeLldpFrame, LldpDecodeError, scanLldpHeader, type LldpFrame} from '../src/lldp/index.js'
import {formatLldpSummary, formatLldpTree} from '../src/lldp/format.js'
import {PcapStreamParser} from '../src/pcap/index.js'

export type Mutation =
  | {kind: 'flip'; at: number; bit: number}
  | {kind: 'set'; at: number; value: number}
  | {kind: 'truncate'; at: number}
  | {kind: 'insert'; at: number; bytes: Uint8Array}
  | {kind: 'delete'; at: number; count: number}
  | {kind: 'tlvLength'; tlv: number; length: number}
  | {kind: 'copy'; from: number; length: number; at: number}

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({min: 0, max: 7})}),
  fc.record({kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({min: 0, max: 255})}),
  fc.record({kind: fc.constant('truncate' as const), at: fc.nat()}),
  fc.record({kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 16})}),
  fc.record({kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({min: 1, max: 16})}),
  fc.record({kind: fc.constant('tlvLength' as const), tlv: fc.nat(40), length: fc.integer({min: 0, max: 511})}),
  fc.record({kind: fc.constant('copy' as const), from: fc.nat(), length: fc.integer({min: 1, max: 64}), at: fc.nat()}),
)

/** Offsets of the TLV headers of an LLDP frame (walking lengths as they are, stopping at the end). */
function tlvHeaderOffsets(frame: Buffer): number[] {
  const out: number[] = []
  let off = 14
  while (off + 2 <= frame.length && out.length < 64) {
    out.push(off)
    off += 2 + (((frame[off] & 1) << 8) | frame[off + 1])
  }
  return out
}

/**
 * Where a mutation lands: mostly inside the LLDPDU (after the 14-octet Ethernet header), one time in ten
 * anywhere, so that EtherType and VLAN-tag damage is fuzzed without drowning the TLV parser's cases.
 */
function position(at: number, n: number): number {
  return at % 10 === 0 || n <= 14 ? at % n : 14 + (at % (n - 14))
}

export function applyMutations(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(seed)
  for (const m of mutations) {
    const n = b.length
    switch (m.kind) {
      case 'flip':
        if (n > 0) b[position(m.at, n)] ^= 1 << m.bit
        break
      case 'set':
        if (n > 0) b[position(m.at, n)] = m.value
        break
      case 'truncate':
        b = b.subarray(0, m.at % (n + 1))
        break
      case 'insert': {
        const at = n === 0 ? 0 : position(m.at, n + 1)
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)])
        break
      }
      case 'delete': {
        const at = n === 0 ? 0 : position(m.at, n + 1)
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)])
        break
      }
      case 'tlvLength': {
        const offsets = tlvHeaderOffsets(b)
        if (offsets.length === 0) break
        const at = offsets[m.tlv % offsets.length]
        b[at] = (b[at] & 0xfe) | (m.length >> 8)
        b[at + 1] = m.length & 0xff
        break
      }
      case 'copy': {
        if (n === 0) break
        const from = m.from % n
        const piece = b.subarray(from, from + m.length)
        const at = position(m.at, n + 1)
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)])
        break
      }
    }
  }
  return b
}

const TLV_TYPES = fc.oneof(fc.integer({min: 0, max: 8}), fc.constant(127), fc.integer({min: 9, max: 126}))
const KNOWN_ORG = fc.constantFrom('0080c2', '00120f', '0012bb', '00005e', '001b3f', '000142')

/** A frame assembled from random TLVs (often a valid mandatory prefix, often known OUIs) rather than mutated. */
export const randomFrameArbitrary: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        fc.record({type: TLV_TYPES, body: fc.uint8Array({maxLength: 40})}),
        fc.record({
          type: fc.constant(127),
          oui: KNOWN_ORG,
          subtype: fc.integer({min: 0, max: 16}),
          body: fc.uint8Array({maxLength: 32}),
        }),
      ),
      {maxLength: 12},
    ),
    fc.uint8Array({maxLength: 8}),
  )
  .map(([mandatory, tlvs, tail]) => {
    const parts: Buffer[] = [Buffer.from('0180c200000e02000000010188cc', 'hex')]
    if (mandatory) parts.push(Buffer.from('0207040200000001010405056574683006020078', 'hex'))
    for (const t of tlvs) {
      const info =
        'oui' in t ? Buffer.concat([Buffer.from(t.oui, 'hex'), Buffer.from([t.subtype]), t.body]) : Buffer.from(t.body)
      parts.push(Buffer.from([(t.type << 1) | (info.length >> 8), info.length & 0xff]), info)
    }
    parts.push(Buffer.from(tail))
    return Buffer.concat(parts)
  })

export interface Outcome {
  decoded: number
  /** Lenient mode: frames rejected outright (not LLDP, no usable mandatory TLVs). */
  rejectedByRule: Record<string, number>
  /** Strict mode: the rule each rejected frame broke. */
  strictRejectedByRule: Record<string, number>
  maxDecodeMicros: number
}

export function newOutcome(): Outcome {
  return {decoded: 0, rejectedByRule: {}, strictRejectedByRule: {}, maxDecodeMicros: 0}
}

/** Throws (a plain Error) if any invariant is broken for `data`. */
export function checkDecoderInvariants(data: Buffer, outcome: Outcome = newOutcome()): void {
  const t0 = process.hrtime.bigint()
  let lenient: LldpFrame | undefined
  for (const strict of [false, true]) {
    try {
      const f = decodeLldpFrame(data, {strict})
      if (!strict) lenient = f
    } catch (err) {
      if (!(err instanceof LldpDecodeError)) throw new Error(`decoder threw a non-LldpDecodeError: ${String(err)}`)
      if (err.rule === 'internal-error') throw new Error(`internal error: ${err.message}`)
      const tally = strict ? outcome.strictRejectedByRule : outcome.rejectedByRule
      tally[err.rule] = (tally[err.rule] ?? 0) + 1
    }
  }
  const micros = Number(process.hrtime.bigint() - t0) / 1000
  if (micros > outcome.maxDecodeMicros) outcome.maxDecodeMicros = micros

  const scan = scanLldpHeader(data)
  if (lenient) {
    outcome.decoded++
    const again = encodeLldpFrame(lenient)
    if (!again.equals(data))
      throw new Error(`round trip changed the frame:\n in  ${data.toString('hex')}\n out ${again.toString('hex')}`)
    formatLldpSummary(lenient)
    formatLldpTree(lenient)
  }
  if (scan) {
    if (!lenient) throw new Error('the scan accepted a frame the lenient decoder rejected')
    const id = scan.chassisId
    if (JSON.stringify(id) !== JSON.stringify(lenient.chassisId) || scan.ttl !== lenient.ttl)
      throw new Error('scan and decode disagree')
    void scan.evb
    void scan.portId
  }
}

/** pcap parser invariant: garbage gives PcapFormatError, never anything else; chunking never changes the records. */
export function checkPcapParser(file: Buffer, chunkSizes: readonly number[]): void {
  const whole = parseAll(file, [file.length || 1])
  const chunked = parseAll(file, chunkSizes)
  if (JSON.stringify(whole) !== JSON.stringify(chunked)) throw new Error('chunking changed the parse')
}

function parseAll(file: Buffer, chunkSizes: readonly number[]): string[] {
  const parser = new PcapStreamParser({maxRecordLength: 1 << 16})
  const out: string[] = []
  try {
    let off = 0
    for (let i = 0; off < file.length; i++) {
      const size = Math.max(1, chunkSizes[i % chunkSizes.length])
      for (const r of parser.push(file.subarray(off, off + size)))
        out.push(`${r.linkType}/${r.originalLength}/${r.timestampNs}/${r.data.toString('hex')}`)
      off += size
    }
    parser.finish()
  } catch (err) {
    if ((err as {code?: string}).code !== 'PCAP_FORMAT') throw new Error(`pcap parser threw ${String(err)}`)
    out.push('error')
  }
  return out
}

/** Every Ethernet LLDP frame of every pcap under `dirs` (deduplicated): the mutation seeds. */
export function loadSeedFrames(dirs: readonly string[]): Buffer[] {
  const seen = new Set<string>()
  const frames: Buffer[] = []
  const walk = (dir: string): string[] =>
    readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
    )
  for (const dir of dirs) {
    for (const path of walk(dir).filter((p) => p.endsWith('.pcap') || p.endsWith('.raw'))) {
      const bytes = readFileSync(path)
      const records = path.endsWith('.raw') ? [bytes] : parsePcap(bytes)
      for (const data of records) {
        if (data.length < 14 || data.readUInt16BE(12) !== 0x88cc) continue
        const key = data.toString('hex')
        if (!seen.has(key)) {
          seen.add(key)
          frames.push(Buffer.from(data))
        }
      }
    }
  }
  return frames
}

function parsePcap(bytes: Buffer): Buffer[] {
  const parser = new PcapStreamParser()
  return parser
    .push(bytes)
    .filter((r) => r.linkType === 1)
    .map((r) => r.data)
}
