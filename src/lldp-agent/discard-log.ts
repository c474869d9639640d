import type {Logger} from '../log/logger.js'

/** One log line per interface and rule at most this often; the ones in between are counted. */
const DISCARD_LOG_INTERVAL_MS = 60_000

/**
 * Rate-limited logging of discarded LLDPDUs: the first discard of a rule on an interface is logged at once
 * (warn), later ones at most once per DISCARD_LOG_INTERVAL_MS with the number suppressed since, so a flood
 * of bad frames cannot flood the journal. Pure apart from the logger: the caller passes the time.
 */
export class DiscardLog {
  private readonly last = new Map<string, {at: number; suppressed: number}>()

  constructor(private readonly log: Logger) {}

  /** `level` debug for drops that are no fault (our own frame looped back by a hairpinning bridge). */
  note(
    now: number,
    ifname: string,
    rule: string,
    details: Record<string, unknown>,
    level: 'warn' | 'debug' = 'warn',
  ): void {
    const key = `${ifname}\u0000${rule}`
    const entry = this.last.get(key)
    if (entry && now - entry.at < DISCARD_LOG_INTERVAL_MS) {
      entry.suppressed++
      return
    }
    const suppressed = entry?.suppressed ?? 0
    this.last.set(key, {at: now, suppressed: 0})
    this.log[level]({ifname, rule, ...details, ...(suppressed > 0 ? {suppressed} : {})}, 'LLDPDU discarded')
  }

  /** The interface went away: forget its entries (bounded by interfaces × rules). */
  forget(ifname: string): void {
    for (const key of this.last.keys()) if (key.startsWith(`${ifname}\u0000`)) this.last.delete(key)
  }
}
