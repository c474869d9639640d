/**
 * pcap / pcapng reading and writing: record counts, original lengths and timestamps against tcpdump's
 * listing of every corpus capture; hand-assembled files for both byte orders, µs/ns and pcapng blocks;
 * chunk boundaries anywhere; typed errors on garbage.
 */
import {Readable} from 'node:stream'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  PcapFormatError,
  PcapngWriter,
  PcapStreamParser,
  PcapWriter,
  readPcapBatches,
  readPcapRecords,
  type PcapRecord,
} from '../../src/pcap/index.js'
import {checkPcapParser} from '../../bench/lldp-fuzz-harness.js'
import {allCaptures, oracleCaptures, readText} from '../lldp/corpus.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

async function collect(source: string | Readable): Promise<PcapRecord[]> {
  const out: PcapRecord[] = []
  for await (const r of readPcapRecords(source)) out.push(r)
  return out
}

function parseAll(file: Buffer): PcapRecord[] {
  const p = new PcapStreamParser()
  const records = p.push(file)
  p.finish()
  return records
}

/** tcpdump -tttt prints UTC 'YYYY-MM-DD hh:mm:ss.ffffff'. */
function tcpdumpTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n)
  const iso = new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
  return `${iso}.${(ns % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6)}`
}

describe('reading the corpus', () => {
  const withTcpdump = oracleCaptures().filter((c) => c.tcpdump && !c.name.startsWith('third-party/tcpdump/'))

  it.each(withTcpdump.map((c) => [c.name, c] as const))(
    '%s: count, timestamps and lengths match tcpdump',
    async (_name, cap) => {
      const records = await collect(cap.pcap)
      const listed = [
        ...readText(cap.tcpdump!).matchAll(/^\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) .*?, length (\d+)/gm),
      ]
      expect(records.length).toBe(listed.length)
      listed.forEach((m, i) => {
        expect(tcpdumpTime(records[i].timestampNs)).toBe(m[2])
        expect(records[i].originalLength).toBe(Number(m[3]))
        expect(records[i].linkType).toBe(1)
      })
    },
  )

  it('reads every capture, whole and in 7-octet chunks, with the same result', async () => {
    for (const path of allCaptures()) {
      const whole = await collect(path)
      const chunked: PcapRecord[] = []
      for await (const batch of readPcapBatches(path, {chunkSize: 7})) chunked.push(...batch)
      expect(chunked.map((r) => r.data.toString('hex'))).toEqual(whole.map((r) => r.data.toString('hex')))
      expect(chunked.map((r) => r.timestampNs)).toEqual(whole.map((r) => r.timestampNs))
    }
  })

  it('reads from a Readable as well as a path', async () => {
    const [path] = allCaptures()
    const {readFileSync} = await import('node:fs')
    const fromStream = await collect(Readable.from([readFileSync(path)]))
    expect(fromStream.map((r) => r.data.toString('hex'))).toEqual(
      (await collect(path)).map((r) => r.data.toString('hex')),
    )
  })
})

describe('classic pcap, hand-assembled', () => {
  const frame = 'ffffffffffff0242ac11000288cc02060501010101010406040102020202060200140000'

  it('big-endian with nanosecond timestamps (magic a1b23c4d)', () => {
    const file = hex(`a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000001
      5f5e1000 3b9ac9ff 00000024 00000040 ${frame}`)
    const [r] = parseAll(file)
    expect(r.timestampNs).toBe(1600000000n * 1_000_000_000n + 999_999_999n)
    expect(r.originalLength).toBe(64)
    expect(r.data.toString('hex')).toBe(frame)
  })

  it('little-endian with microsecond timestamps; link type from the header, FCS bits ignored', () => {
    const file = hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000010
      01000000 40420f00 24000000 24000000 ${frame}`)
    const p = new PcapStreamParser()
    const [r] = p.push(file)
    expect(p.info).toEqual({format: 'pcap', linkType: 1, snaplen: 65535, nanosecond: false, bigEndian: false})
    expect(r.timestampNs).toBe(1_000_000_000n + 1_000_000n * 1000n)
    expect(r.linkType).toBe(1)
  })

  it.each([
    ['not a capture', hex('0102030405060708')],
    ['a truncated file header', hex('d4c3b2a10200040000')],
    [
      'a record cut short',
      hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000 01000000 00000000 24000000 24000000 ffff`),
    ],
    [
      'a record larger than allowed',
      hex(`d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000 01000000 00000000 ffffff7f ffffff7f`),
    ],
    ['an empty input', Buffer.alloc(0)],
  ])('%s: PcapFormatError', (_what, file) => {
    const p = new PcapStreamParser()
    expect(() => {
      p.push(file)
      p.finish()
    }).toThrow(PcapFormatError)
  })
})

describe('pcapng, hand-assembled', () => {
  // Section 1, little-endian: SHB, IDB (Ethernet, if_tsresol 9 = ns), NRB (skipped), EPB, SPB.
  const le = hex(`
    0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
    01000000 20000000 0100 0000 00000400 0900 0100 09000000 0000 0000 20000000
    04000000 10000000 00000000 10000000
    06000000 28000000 00000000 00000000 e8030000 06000000 08000000 aabbccddeeff 0000 28000000
    03000000 14000000 03000000 112233 00 14000000`)
  // Section 2, big-endian: SHB, IDB (link type 1, if_tsresol 0x86 = 2^-6 s, if_tsoffset 10 s), EPB.
  const be = hex(`
    0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c
    00000001 0000002c 0001 0000 00000000 0009 0001 86000000 000e 0008 000000000000000a 0000 0000 0000002c
    00000006 00000024 00000000 00000000 00000040 00000004 00000004 01020304 00000024`)

  it('reads EPB and SPB across two sections of different byte order and time resolution', () => {
    const records = parseAll(Buffer.concat([le, be]))
    expect(records.map((r) => [r.data.toString('hex'), r.originalLength, r.linkType, r.timestampNs])).toEqual([
      ['aabbccddeeff', 8, 1, 1000n],
      ['112233', 3, 1, 0n],
      ['01020304', 4, 1, 10_000_000_000n + 1_000_000_000n], // 64 ticks of 1/64 s + 10 s offset
    ])
  })

  it.each([
    ['a block length not a multiple of 4', hex('0a0d0d0a 1d000000 4d3c2b1a 0100 0000 ffffffffffffffff 1d000000')],
    ['a trailing length that disagrees', hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 20000000')],
    [
      'a packet on an undefined interface',
      Buffer.concat([
        le.subarray(0, 28),
        hex('06000000 20000000 05000000 00000000 00000000 00000000 00000000 20000000'),
      ]),
    ],
    ['a bad byte-order magic', hex('0a0d0d0a 1c000000 01020304 0100 0000 ffffffffffffffff 1c000000')],
  ])('%s: PcapFormatError', (_what, file) => {
    expect(() => parseAll(file)).toThrow(PcapFormatError)
  })
})

describe('writers', () => {
  const data = [
    hex('0180c200000e020000000101 88cc 0207040200000001010405056574683006020078 0000'),
    hex('00112233445566778899aabbccdd'),
  ]

  it.each([
    ['pcap µs little-endian', new PcapWriter()],
    ['pcap ns big-endian', new PcapWriter({nanosecond: true, bigEndian: true})],
    ['pcapng', new PcapngWriter()],
  ])('%s round-trips records', (_name, writer) => {
    const ts = [1_700_000_000_123_456_000n, 1_700_000_001_000_001_000n]
    const file = Buffer.concat([
      writer.fileHeader(),
      ...data.map((d, i) => writer.record(d, ts[i], i === 1 ? 100 : d.length)),
    ])
    const records = parseAll(file)
    expect(records.map((r) => r.data.toString('hex'))).toEqual(data.map((d) => d.toString('hex')))
    expect(records.map((r) => r.timestampNs)).toEqual(ts)
    expect(records.map((r) => r.originalLength)).toEqual([data[0].length, 100])
  })

  it('writeRecordHeader writes the same header as record()', () => {
    const w = new PcapWriter()
    const one = w.record(data[0], 5_000_000_007_000n)
    const hdr = Buffer.alloc(16)
    w.writeRecordHeader(hdr, 0, 5000, 7, data[0].length, data[0].length)
    expect(one.subarray(0, 16)).toEqual(hdr)
  })
})

describe('robustness', () => {
  it('any chunking of any prefix/garbage gives the same records or a PcapFormatError, nothing else', async () => {
    const {readFileSync} = await import('node:fs')
    const files = allCaptures()
      .slice(0, 12)
      .map((p) => readFileSync(p))
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.integer({min: 1, max: 300}), {minLength: 1, maxLength: 8}),
        fc.nat(),
        fc.uint8Array({maxLength: 64}),
        (i, chunks, cut, garbage) => {
          const base = files[i % files.length]
          const file = Buffer.concat([base.subarray(0, cut % (base.length + 1)), garbage])
          checkPcapParser(file, chunks)
        },
      ),
      {numRuns: 500},
    )
  })

  it('pure garbage: PcapFormatError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), fc.boolean(), (bytes, ng) => {
        const file = Buffer.from(bytes)
        if (ng && file.length >= 4) file.writeUInt32LE(0x0a0d0d0a, 0)
        checkPcapParser(file, [1, 5, 64])
      }),
      {numRuns: 1000},
    )
  })
})
