import type Database from 'better-sqlite3'

import {parseJsonColumn} from './json.js'

/** What happened and when: uplink changes, associations, failures. Bounded by pruning. */
export interface JournalEntry {
  id: number
  at: number
  kind: string
  subject: string | null
  detail: Record<string, unknown>
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
  private readonly pruneStmt: Database.Statement

  constructor(db: Database.Database) {
    this.addStmt = db.prepare('INSERT INTO event_journal (at, kind, subject, detail) VALUES (?, ?, ?, ?)')
    this.recentStmt = db.prepare('SELECT * FROM event_journal ORDER BY id DESC LIMIT ?')
    this.pruneStmt = db.prepare('DELETE FROM event_journal WHERE id <= (SELECT max(id) FROM event_journal) - ?')
  }

  add(kind: string, subject: string | null, detail: Record<string, unknown>, now: number): void {
    this.addStmt.run(Math.round(now), kind, subject, JSON.stringify(detail))
  }

  recent(limit = 50): JournalEntry[] {
    return this.recentStmt.all(limit).map((r) => ({...r, detail: parseJsonColumn<Record<string, unknown>>(r.detail, {})}))
  }

  /** Keep the newest `keep` entries. */
  prune(keep: number): void {
    this.pruneStmt.run(keep)
  }
}
