import {VdpAgentError} from '../errors.js'
import type {JournalEntry} from '../store/journal-repo.js'

const UNIT_MS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/**
 * `--since` as journalctl and lldpcli users expect it: a duration back from `now` (`90s`, `10m`, `2h`, `7d`)
 * or an ISO 8601 time (`2026-11-30T16:00:00Z`). Returns epoch milliseconds; throws BAD_ARGUMENT (exit 2).
 */
export function parseSince(text: string, now: number): number {
  const duration = /^(\d{1,9})([smhd])$/.exec(text.trim())
  if (duration) return Math.max(0, now - Number(duration[1]) * UNIT_MS[duration[2]])
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text.trim())) {
    const at = Date.parse(text.trim())
    if (Number.isFinite(at)) return at
  }
  throw new VdpAgentError(
    'BAD_ARGUMENT',
    `--since ${JSON.stringify(text)}: expected a duration such as 90s, 10m, 2h or 7d, or an ISO 8601 time such as 2026-11-30T16:00:00Z`,
  )
}

/** One journal entry as a line: `2026-11-30 16:50:01.123  vsi-associated  <port>  vlan=3617 uplink=eth1` (UTC). */
export function journalLine(e: JournalEntry): string {
  const time = new Date(e.at).toISOString().replace('T', ' ').replace('Z', '')
  const detail = Object.entries(e.detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' && v !== '' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ')
  return `${time}  ${e.kind}  ${e.subject ?? '-'}${detail ? `  ${detail}` : ''}`
}
