/**
 * Pure pcap and pcapng encoders: they return octets, the caller writes them wherever it likes.
 * PcapWriter writes classic pcap (little-endian by default, µs or ns timestamps); PcapngWriter writes one
 * section with one interface and Enhanced Packet Blocks (ns resolution).
 */
import {PcapFormatError} from './errors.js'
import {LINKTYPE_ETHERNET} from './parser.js'

export interface PcapWriterOptions {
  linkType?: number
  snaplen?: number
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean
  bigEndian?: boolean
}

const NS_PER_S = 1_000_000_000n

function checkTimestamp(timestampNs: bigint): void {
  if (timestampNs < 0n || timestampNs >= 0x1_0000_0000n * NS_PER_S) {
    throw new PcapFormatError(`timestamp ${timestampNs} ns does not fit a pcap record`, 0)
  }
}

export class PcapWriter {
  readonly linkType: number
  readonly snaplen: number
  readonly nanosecond: boolean
  private readonly bigEndian: boolean

  constructor(opts: PcapWriterOptions = {}) {
    this.linkType = opts.linkType ?? LINKTYPE_ETHERNET
    this.snaplen = opts.snaplen ?? 262144
    this.nanosecond = opts.nanosecond ?? false
    this.bigEndian = opts.bigEndian ?? false
  }

  fileHeader(): Buffer {
    const h = Buffer.alloc(24)
    const w32 = (v: number, at: number): number => (this.bigEndian ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at))
    const w16 = (v: number, at: number): number => (this.bigEndian ? h.writeUInt16BE(v, at) : h.writeUInt16LE(v, at))
    w32(this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0)
    w16(2, 4)
    w16(4, 6)
    w32(this.snaplen, 16)
    w32(this.linkType, 20)
    return h
  }

  /** Header + data of one record. */
  record(data: Uint8Array, timestampNs: bigint, originalLength = data.length): Buffer {
    checkTimestamp(timestampNs)
    const out = Buffer.allocUnsafe(16 + data.length)
    const seconds = Number(timestampNs / NS_PER_S)
    const nanos = Number(timestampNs % NS_PER_S)
    this.writeRecordHeader(
      out,
      0,
      seconds,
      this.nanosecond ? nanos : Math.floor(nanos / 1000),
      data.length,
      originalLength,
    )
    out.set(data, 16)
    return out
  }

  /**
   * Writes a 16-octet record header into `target` at `at` (bulk writers use this to avoid a Buffer per record).
   * `fraction` is µs or ns according to the writer's resolution.
   */
  writeRecordHeader(
    target: Buffer,
    at: number,
    seconds: number,
    fraction: number,
    capturedLength: number,
    originalLength: number,
  ): void {
    if (this.bigEndian) {
      target.writeUInt32BE(seconds, at)
      target.writeUInt32BE(fraction, at + 4)
      target.writeUInt32BE(capturedLength, at + 8)
      target.writeUInt32BE(originalLength, at + 12)
    } else {
      target.writeUInt32LE(seconds, at)
      target.writeUInt32LE(fraction, at + 4)
      target.writeUInt32LE(capturedLength, at + 8)
      target.writeUInt32LE(originalLength, at + 12)
    }
  }
}

export interface PcapngWriterOptions {
  linkType?: number
  snaplen?: number
}

export class PcapngWriter {
  readonly linkType: number
  readonly snaplen: number

  constructor(opts: PcapngWriterOptions = {}) {
    this.linkType = opts.linkType ?? LINKTYPE_ETHERNET
    this.snaplen = opts.snaplen ?? 262144
  }

  /** Section Header Block + one Interface Description Block with if_tsresol = 9 (nanoseconds). */
  fileHeader(): Buffer {
    const shb = Buffer.alloc(28)
    shb.writeUInt32LE(0x0a0d0d0a, 0)
    shb.writeUInt32LE(28, 4)
    shb.writeUInt32LE(0x1a2b3c4d, 8)
    shb.writeUInt16LE(1, 12)
    shb.writeUInt16LE(0, 14)
    shb.writeBigInt64LE(-1n, 16) // section length unknown
    shb.writeUInt32LE(28, 24)
    const idb = Buffer.alloc(32)
    idb.writeUInt32LE(1, 0)
    idb.writeUInt32LE(32, 4)
    idb.writeUInt16LE(this.linkType, 8)
    idb.writeUInt32LE(this.snaplen, 12)
    idb.writeUInt16LE(9, 16) // if_tsresol
    idb.writeUInt16LE(1, 18)
    idb[20] = 9
    idb.writeUInt16LE(0, 24) // opt_endofopt
    idb.writeUInt16LE(0, 26)
    idb.writeUInt32LE(32, 28)
    return Buffer.concat([shb, idb])
  }

  /** One Enhanced Packet Block on interface 0. */
  record(data: Uint8Array, timestampNs: bigint, originalLength = data.length): Buffer {
    if (timestampNs < 0n || timestampNs >= 1n << 64n)
      throw new PcapFormatError(`timestamp ${timestampNs} ns does not fit a pcapng block`, 0)
    const padded = (data.length + 3) & ~3
    const total = 32 + padded
    const out = Buffer.alloc(total)
    out.writeUInt32LE(6, 0)
    out.writeUInt32LE(total, 4)
    out.writeUInt32LE(0, 8)
    out.writeUInt32LE(Number(timestampNs >> 32n), 12)
    out.writeUInt32LE(Number(timestampNs & 0xffffffffn), 16)
    out.writeUInt32LE(data.length, 20)
    out.writeUInt32LE(originalLength, 24)
    out.set(data, 28)
    out.writeUInt32LE(total, total - 4)
    return out
  }
}
