export interface TxTimers {
  /** msgTxInterval, ms. */
  intervalMs: number
  /** txFastInit: LLDPDUs sent at the fast interval after a start or a change. */
  fastCount: number
  /** msgFastTx, ms. */
  fastIntervalMs: number
  /** txCreditMax: burst limit (802.1AB default 5), refilled one per second. */
  creditMax?: number
}

/**
 * When to send the next LLDPDU on one port (802.1AB-2009 §9.2.8, event driven): every msgTxInterval,
 * `fastCount` times at msgFastTx after a start or a local change, an immediate send on a change, and a
 * txCredit bucket so a burst of changes cannot flood the link.
 */
export class TxSchedule {
  private due: number
  private fastRemaining: number
  private credit: number
  private creditAt: number

  constructor(
    private timers: TxTimers,
    now: number,
  ) {
    this.fastRemaining = timers.fastCount
    this.credit = timers.creditMax ?? 5
    this.creditAt = now
    this.due = now
  }

  /** When the next LLDPDU is due (it may be now or in the past). */
  nextDue(): number {
    return this.due
  }

  /** May an LLDPDU go out now? Consumes one credit when it may. */
  takeSlot(now: number): boolean {
    this.refill(now)
    if (now < this.due || this.credit < 1) {
      if (this.credit < 1) this.due = Math.max(this.due, this.creditAt + 1000)
      return false
    }
    this.credit -= 1
    if (this.fastRemaining > 0) this.fastRemaining -= 1
    this.due = now + (this.fastRemaining > 0 ? this.timers.fastIntervalMs : this.timers.intervalMs)
    return true
  }

  /** somethingChangedLocal / a new neighbour: send soon, then fast for a while. */
  changed(now: number): void {
    this.fastRemaining = this.timers.fastCount
    this.due = Math.min(this.due, now)
  }

  setTimers(timers: TxTimers, now: number): void {
    this.timers = timers
    this.due = Math.min(this.due, now + timers.intervalMs)
  }

  private refill(now: number): void {
    const max = this.timers.creditMax ?? 5
    const seconds = Math.floor((now - this.creditAt) / 1000)
    if (seconds > 0) {
      this.credit = Math.min(max, this.credit + seconds)
      this.creditAt += seconds * 1000
    }
  }
}

/** The advertised TTL: msgTxInterval × msgTxHold + 1 s, capped at 65535 (802.1AB-2009 §9.2.5.22). */
export function advertisedTtl(intervalSeconds: number, hold: number): number {
  return Math.min(65535, intervalSeconds * hold + 1)
}
