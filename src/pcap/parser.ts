/**
 * A push-style parser for classic pcap (both byte orders, µs and ns timestamps) and pcapng (SHB, IDB, EPB,
 * SPB and the obsolete PB; per-interface link type and if_tsresol/if_tsoffset; both byte orders; several
 * sections). Feed it chunks in file order; it returns the complete records each chunk finishes. It keeps at
 * most one partial record between chunks, and refuses records larger than maxRecordLength, so memory stays
 * bounded whatever the file says.
 */
import {PcapFormatError} from './errors.js'
import {ClassicClock, PcapngClock, PcapRecord, type TimestampClock} from './record.js'

export const LINKTYPE_ETHERNET = 1

const PCAP_MAGIC_US = 0xa1b2c3d4
const PCAP_MAGIC_NS = 0xa1b23c4d
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1
const PCAP_FILE_HEADER = 24
const PCAP_RECORD_HEADER = 16

const PCAPNG_SHB = 0x0a0d0d0a
const PCAPNG_IDB = 1
const PCAPNG_OBSOLETE_PB = 2
const PCAPNG_SPB = 3
const PCAPNG_EPB = 6
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d
const OPT_IF_TSRESOL = 9
const OPT_IF_TSOFFSET = 14

export interface PcapParserOptions {
  /** Largest record (or pcapng block) accepted, in octets; bigger ones are a PcapFormatError. Default 16 MiB. */
  maxRecordLength?: number
}

export interface PcapFileInfo {
  format: 'pcap' | 'pcapng'
  /** Classic pcap only: the file's link type and snaplen; pcapng carries them per interface. */
  linkType?: number
  snaplen?: number
  nanosecond?: boolean
  bigEndian: boolean
}

interface PcapngInterface {
  linkType: number
  snaplen: number
  clock: TimestampClock
}

const EMPTY = Buffer.alloc(0)

export class PcapStreamParser {
  private pending: Buffer = EMPTY
  /** File offset of pending[0]. */
  private fileOffset = 0
  private format: 'unknown' | 'pcap' | 'pcapng' = 'unknown'
  private littleEndian = true
  private linkType = LINKTYPE_ETHERNET
  private snaplen = 0
  private nanosecond = false
  private classicClock: TimestampClock = new ClassicClock(false)
  private interfaces: PcapngInterface[] = []
  private readonly maxRecordLength: number
  /** A format error found after some records of the same chunk: reported on the next push() or finish(). */
  private failure: PcapFormatError | undefined

  constructor(opts: PcapParserOptions = {}) {
    this.maxRecordLength = opts.maxRecordLength ?? 16 * 1024 * 1024
  }

  /** What the file header said; undefined until the first octets are seen. */
  get info(): PcapFileInfo | undefined {
    if (this.format === 'unknown') return undefined
    if (this.format === 'pcapng') return {format: 'pcapng', bigEndian: !this.littleEndian}
    return {
      format: 'pcap',
      linkType: this.linkType,
      snaplen: this.snaplen,
      nanosecond: this.nanosecond,
      bigEndian: !this.littleEndian,
    }
  }

  /**
   * Parse `chunk` (the next octets of the file); complete records are appended to `out` and returned. On
   * damage, the records before it are still returned and the PcapFormatError is thrown by the next call, so
   * what a reader sees never depends on how the file was cut into chunks.
   */
  push(chunk: Uint8Array, out: PcapRecord[] = []): PcapRecord[] {
    if (this.failure) throw this.failure
    const before = out.length
    try {
      return this.parseChunk(chunk, out)
    } catch (err) {
      if (!(err instanceof PcapFormatError) || out.length === before) throw err
      this.failure = err
      return out
    }
  }

  private parseChunk(chunk: Uint8Array, out: PcapRecord[]): PcapRecord[] {
    let input: Buffer | null = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.pending.length > 0 || this.format === 'unknown') {
      input = this.completePending(input, out)
      if (input === null) return out
    }
    const off = this.format === 'pcap' ? this.parseClassic(input, out) : this.parsePcapng(input, out)
    this.fileOffset += off
    // Copy the partial unit at the end: keeping a view would pin the whole chunk until the next one arrives.
    this.pending = off === input.length ? EMPTY : Buffer.from(input.subarray(off))
    return out
  }

  /**
   * Completes the unit (file header, record or block) that straddles the previous chunk, copying only the
   * octets it needs from `input`; returns the rest of `input`, or null if all of it went into the pending unit.
   */
  private completePending(input: Buffer, out: PcapRecord[]): Buffer | null {
    let used = 0
    const take = (want: number): boolean => {
      const n = Math.min(want - this.pending.length, input.length - used)
      if (n > 0) {
        this.pending = Buffer.concat([this.pending, input.subarray(used, used + n)])
        used += n
      }
      return this.pending.length >= want
    }
    if (this.format === 'unknown') {
      if (!take(4)) return null
      this.detect(this.pending)
    }
    if (!take(this.headerLength())) return null
    if (!take(this.unitLength(this.pending))) return null
    const consumed = this.format === 'pcap' ? this.parseClassic(this.pending, out) : this.parsePcapng(this.pending, out)
    this.fileOffset += consumed
    this.pending = EMPTY
    return input.subarray(used)
  }

  /** Octets needed to know the length of the next unit. */
  private headerLength(): number {
    if (this.format === 'pcap') return this.fileOffset === 0 ? PCAP_FILE_HEADER : PCAP_RECORD_HEADER
    return 12
  }

  /** Total length of the unit at the start of `buf` (which holds at least headerLength() octets); validates it. */
  private unitLength(buf: Buffer): number {
    if (this.format === 'pcap') {
      if (this.fileOffset === 0) return PCAP_FILE_HEADER
      const captured = this.u32(buf, 8)
      if (captured > this.maxRecordLength) {
        throw new PcapFormatError(
          `record claims ${captured} captured octets, more than the ${this.maxRecordLength} allowed`,
          this.fileOffset,
        )
      }
      return PCAP_RECORD_HEADER + captured
    }
    if (this.u32(buf, 0) === PCAPNG_SHB) this.sectionByteOrder(buf, 0)
    const total = this.u32(buf, 4)
    this.checkBlockLength(total, this.u32(buf, 0), this.fileOffset)
    return total
  }

  private sectionByteOrder(buf: Buffer, off: number): void {
    const bom = buf.readUInt32LE(off + 8)
    if (bom === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = true
    else if (bom === 0x4d3c2b1a) this.littleEndian = false
    else
      throw new PcapFormatError(
        `pcapng section header has a bad byte-order magic 0x${bom.toString(16)}`,
        this.fileOffset + off + 8,
      )
  }

  private checkBlockLength(total: number, type: number, at: number): void {
    if (total < 12 || total % 4 !== 0 || total > this.maxRecordLength + 64) {
      throw new PcapFormatError(`pcapng block of type 0x${type.toString(16)} has an impossible length ${total}`, at + 4)
    }
  }

  /** Call at end of input: throws if the file ended inside its header or a record. */
  finish(): void {
    if (this.failure) throw this.failure
    if (this.format === 'unknown')
      throw new PcapFormatError('no pcap or pcapng header: the input is empty or too short', 0)
    if (this.pending.length > 0) {
      throw new PcapFormatError(
        `the file ends inside a ${this.fileOffset === 0 ? 'file header' : 'record'} (${this.pending.length} octets left over)`,
        this.fileOffset,
      )
    }
  }

  private u32(buf: Buffer, at: number): number {
    return this.littleEndian ? buf.readUInt32LE(at) : buf.readUInt32BE(at)
  }

  private u16(buf: Buffer, at: number): number {
    return this.littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at)
  }

  private detect(buf: Buffer): void {
    const magic = buf.readUInt32LE(0)
    if (magic === PCAPNG_SHB) {
      this.format = 'pcapng'
      return
    }
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) this.littleEndian = true
    else if (magic === PCAP_MAGIC_US_SWAPPED || magic === PCAP_MAGIC_NS_SWAPPED) this.littleEndian = false
    else throw new PcapFormatError(`not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`, 0)
    this.format = 'pcap'
    this.nanosecond = magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED
    this.classicClock = new ClassicClock(this.nanosecond)
  }

  private parseClassic(buf: Buffer, out: PcapRecord[]): number {
    let off = 0
    if (this.fileOffset === 0) {
      if (buf.length < PCAP_FILE_HEADER) return 0
      this.snaplen = this.u32(buf, 16)
      // The high bits of the link-type word carry FCS information (pcap draft §4); the type is the low 16.
      this.linkType = this.u32(buf, 20) & 0xffff
      off = PCAP_FILE_HEADER
    }
    const n = buf.length
    const le = this.littleEndian
    while (off + PCAP_RECORD_HEADER <= n) {
      const capturedLength = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8)
      if (capturedLength > this.maxRecordLength) {
        throw new PcapFormatError(
          `record claims ${capturedLength} captured octets, more than the ${this.maxRecordLength} allowed`,
          this.fileOffset + off,
        )
      }
      const end = off + PCAP_RECORD_HEADER + capturedLength
      if (end > n) break
      const seconds = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off)
      const fraction = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4)
      const originalLength = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12)
      out.push(
        new PcapRecord(
          buf.subarray(off + PCAP_RECORD_HEADER, end),
          originalLength,
          this.linkType,
          0,
          seconds,
          fraction,
          this.classicClock,
        ),
      )
      off = end
    }
    return off
  }

  private parsePcapng(buf: Buffer, out: PcapRecord[]): number {
    let off = 0
    const n = buf.length
    while (off + 12 <= n) {
      const at = this.fileOffset + off
      const type = this.u32(buf, off)
      if (type === PCAPNG_SHB) {
        this.sectionByteOrder(buf, off)
      } else if (at === 0) {
        throw new PcapFormatError('pcapng file does not start with a section header block', 0)
      }
      const total = this.u32(buf, off + 4)
      this.checkBlockLength(total, type, at)
      if (off + total > n) break
      if (this.u32(buf, off + total - 4) !== total) {
        throw new PcapFormatError(
          `pcapng block of type 0x${type.toString(16)}: trailing length does not match ${total}`,
          at + total - 4,
        )
      }
      switch (type) {
        case PCAPNG_SHB:
          if (total < 28) throw new PcapFormatError('pcapng section header block too short', at)
          if (this.u16(buf, off + 12) !== 1)
            throw new PcapFormatError(`unsupported pcapng major version ${this.u16(buf, off + 12)}`, at + 12)
          this.interfaces = []
          break
        case PCAPNG_IDB:
          this.readInterface(buf, off, total, at)
          break
        case PCAPNG_EPB:
        case PCAPNG_OBSOLETE_PB:
          this.readPacketBlock(buf, off, total, at, type === PCAPNG_EPB, out)
          break
        case PCAPNG_SPB:
          this.readSimplePacket(buf, off, total, at, out)
          break
        default:
          break // name resolution, statistics, decryption secrets, custom blocks: not needed here
      }
      off += total
    }
    return off
  }

  private readInterface(buf: Buffer, off: number, total: number, at: number): void {
    if (total < 20) throw new PcapFormatError('pcapng interface description block too short', at)
    let resolution = 6
    let offsetSeconds = 0n
    const end = off + total - 4
    for (let p = off + 16; p + 4 <= end;) {
      const code = this.u16(buf, p)
      const len = this.u16(buf, p + 2)
      if (code === 0) break
      if (p + 4 + len > end)
        throw new PcapFormatError('pcapng interface option runs past its block', this.fileOffset + p)
      if (code === OPT_IF_TSRESOL && len >= 1) resolution = buf[p + 4]
      if (code === OPT_IF_TSOFFSET && len >= 8)
        offsetSeconds = this.littleEndian ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4)
      p += 4 + ((len + 3) & ~3)
    }
    this.interfaces.push({
      linkType: this.u16(buf, off + 8),
      snaplen: this.u32(buf, off + 12),
      clock: new PcapngClock(resolution, offsetSeconds),
    })
  }

  private iface(id: number, at: number): PcapngInterface {
    const iface = this.interfaces[id]
    if (!iface) throw new PcapFormatError(`packet refers to undefined pcapng interface ${id}`, at)
    return iface
  }

  private readPacketBlock(
    buf: Buffer,
    off: number,
    total: number,
    at: number,
    enhanced: boolean,
    out: PcapRecord[],
  ): void {
    if (total < 32) throw new PcapFormatError('pcapng packet block too short', at)
    const id = enhanced ? this.u32(buf, off + 8) : this.u16(buf, off + 8)
    const iface = this.iface(id, at + 8)
    const captured = this.u32(buf, off + 20)
    if (28 + captured > total - 4)
      throw new PcapFormatError(
        `pcapng packet block claims ${captured} captured octets, more than the block holds`,
        at + 20,
      )
    const data = buf.subarray(off + 28, off + 28 + captured)
    out.push(
      new PcapRecord(
        data,
        this.u32(buf, off + 24),
        iface.linkType,
        id,
        this.u32(buf, off + 12),
        this.u32(buf, off + 16),
        iface.clock,
      ),
    )
  }

  private readSimplePacket(buf: Buffer, off: number, total: number, at: number, out: PcapRecord[]): void {
    if (total < 16) throw new PcapFormatError('pcapng simple packet block too short', at)
    const iface = this.iface(0, at)
    const original = this.u32(buf, off + 8)
    let captured = Math.min(original, total - 16)
    if (iface.snaplen > 0) captured = Math.min(captured, iface.snaplen)
    out.push(
      new PcapRecord(buf.subarray(off + 12, off + 12 + captured), original, iface.linkType, 0, 0, 0, iface.clock),
    )
  }
}
