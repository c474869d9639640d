import type Database from 'better-sqlite3'

import {VdpAgentError} from '../errors.js'
import {type JsonValue, parseJsonColumn} from './json.js'

/** What happened and when: uplink changes, associations, failures. Bounded by pruning. */
export interface JournalEntry {
  id: number
  at: number
  kind: string
  subject: string | null
  detail: JournalDetail
}

/** What a journal entry records besides its kind and subject: key=value pairs (`vdp-agent journal` prints them so). */
export type JournalDetail = Record<string, JsonValue>

/** What `vdp-agent journal` asks for: entries at or after `since` (epoch ms), the newest `limit` of them. */
export interface JournalQuery {
  since?: number
  limit: number
}

/** The most entries one query returns (the table itself keeps JOURNAL_KEEP, see the daemon). */
export const MAX_JOURNAL_QUERY = 10_000

/** Validates the `journal` control method's params: `{since?: epoch ms, limit?: 1..10000}` (default 50). */
export function parseJournalQuery(params: unknown): JournalQuery {
  const p = (params ?? {}) as Record<string, unknown>
  if (typeof p !== 'object' || Array.isArray(p))
    throw new VdpAgentError('BAD_ARGUMENT', 'journal params must be an object {since?, limit?}')
  const unknown = Object.keys(p).filter((k) => k !== 'since' && k !== 'limit')
  if (unknown.length > 0) throw new VdpAgentError('BAD_ARGUMENT', `journal: unknown parameter ${unknown[0]}`)
  const {since, limit = 50} = p
  if (since !== undefined && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) {
    throw new VdpAgentError('BAD_ARGUMENT', 'journal: since must be a time in epoch milliseconds')
  }
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_JOURNAL_QUERY) {
    throw new VdpAgentError('BAD_ARGUMENT', `journal: limit must be an integer from 1 to ${MAX_JOURNAL_QUERY}`)
  }
  return since === undefined ? {limit} : {since, limit}
}

interface Row {
  id: number
  at: number
  kind: string
  subject: string | null
  detail: string
}

export class JournalRepo {
  private readonly addStmt: Database.Statement
  private readonly recentStmt: Database.Statement<[number], Row>
  private readonly sinceStmt: Database.Statement<[number, number], Row>
  private readonly pruneStmt: Database.Statement

  constructor(db: Database.Database) {
    this.addStmt = db.prepare('INSERT INTO event_journal (at, kind, subject, detail) VALUES (?, ?, ?, ?)')
    this.recentStmt = db.prepare('SELECT * FROM event_journal ORDER BY id DESC LIMIT ?')
    this.sinceStmt = db.prepare('SELECT * FROM event_journal WHERE at >= ? ORDER BY id DESC LIMIT ?')
    this.pruneStmt = db.prepare('DELETE FROM event_journal WHERE id <= (SELECT max(id) FROM event_journal) - ?')
  }

  add(kind: string, subject: string | null, detail: JournalDetail, now: number): void {
    this.addStmt.run(Math.round(now), kind, subject, JSON.stringify(detail))
  }

  recent(limit = 50): JournalEntry[] {
    return this.recentStmt.all(limit).map((r) => ({...r, detail: parseJsonColumn<JournalDetail>(r.detail, {})}))
  }

  /** The newest `limit` entries at or after `since`, oldest first (the order a reader follows a story in). */
  list({since = 0, limit}: JournalQuery): JournalEntry[] {
    return this.sinceStmt
      .all(since, limit)
      .reverse()
      .map((r) => ({...r, detail: parseJsonColumn<JournalDetail>(r.detail, {})}))
  }

  /** Keep the newest `keep` entries. */
  prune(keep: number): void {
    this.pruneStmt.run(keep)
  }
}
