/** One captured packet. The timestamp is kept in its file units and turned into nanoseconds on demand. */

/** Converts a file's two timestamp words to nanoseconds since the epoch. */
export interface TimestampClock {
  toNs(high: number, low: number): bigint
}

/** Classic pcap: seconds + microseconds (or nanoseconds). */
export class ClassicClock implements TimestampClock {
  private readonly fractionNs: bigint
  constructor(nanosecond: boolean) {
    this.fractionNs = nanosecond ? 1n : 1000n
  }
  toNs(seconds: number, fraction: number): bigint {
    return BigInt(seconds) * 1_000_000_000n + BigInt(fraction) * this.fractionNs
  }
}

/** pcapng: a 64-bit tick count in units of 10^-k or 2^-k seconds (if_tsresol), plus if_tsoffset seconds. */
export class PcapngClock implements TimestampClock {
  constructor(
    private readonly resolution: number,
    private readonly offsetSeconds: bigint,
  ) {}
  toNs(high: number, low: number): bigint {
    const ticks = (BigInt(high) << 32n) | BigInt(low)
    const offset = this.offsetSeconds * 1_000_000_000n
    if (this.resolution & 0x80) return offset + ((ticks * 1_000_000_000n) >> BigInt(this.resolution & 0x7f))
    const k = this.resolution
    return offset + (k <= 9 ? ticks * 10n ** BigInt(9 - k) : ticks / 10n ** BigInt(k - 9))
  }
}

export class PcapRecord {
  constructor(
    /** The captured octets (a view into the parser's input chunk; copy it to keep it). */
    readonly data: Buffer,
    /** Length on the wire; larger than data.length when the capture was cut by the snaplen. */
    readonly originalLength: number,
    /** LINKTYPE_* value (1 = Ethernet). */
    readonly linkType: number,
    /** pcapng interface index (0 for classic pcap). */
    readonly interfaceId: number,
    private readonly tsHigh: number,
    private readonly tsLow: number,
    private readonly clock: TimestampClock,
  ) {}

  get timestampNs(): bigint {
    return this.clock.toNs(this.tsHigh, this.tsLow)
  }
}
