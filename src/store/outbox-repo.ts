import type Database from 'better-sqlite3'

import type {JsonValue} from './json.js'

/** A message for the controller, kept until delivered (at least once; receivers are idempotent). */
export interface OutboxMessage {
  id: number
  method: string
  payload: JsonValue
  createdAt: number
  attempts: number
  lastError: string | null
}

interface Row {
  id: number
  method: string
  payload: string
  created_at: number
  attempts: number
  last_error: string | null
}

export class OutboxRepo {
  private readonly addStmt: Database.Statement
  private readonly pendingStmt: Database.Statement<[number], Row>
  private readonly deliveredStmt: Database.Statement
  private readonly failedStmt: Database.Statement
  private readonly countStmt: Database.Statement<[], {n: number}>
  private readonly oldestStmt: Database.Statement<[], {at: number | null}>
  private readonly pruneStmt: Database.Statement

  constructor(db: Database.Database) {
    this.addStmt = db.prepare('INSERT INTO outbox (method, payload, created_at) VALUES (?, ?, ?)')
    this.pendingStmt = db.prepare('SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?')
    this.deliveredStmt = db.prepare('UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?')
    this.failedStmt = db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?')
    this.countStmt = db.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL')
    this.oldestStmt = db.prepare('SELECT min(created_at) AS at FROM outbox WHERE delivered_at IS NULL')
    this.pruneStmt = db.prepare('DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?')
  }

  add(method: string, payload: JsonValue, now: number): number {
    return Number(this.addStmt.run(method, JSON.stringify(payload), Math.round(now)).lastInsertRowid)
  }

  pending(limit = 100): OutboxMessage[] {
    return this.pendingStmt.all(limit).map((r) => ({
      id: r.id,
      method: r.method,
      payload: JSON.parse(r.payload) as JsonValue,
      createdAt: r.created_at,
      attempts: r.attempts,
      lastError: r.last_error,
    }))
  }

  markDelivered(id: number, now: number): void {
    this.deliveredStmt.run(Math.round(now), id)
  }

  markFailed(id: number, error: string): void {
    this.failedStmt.run(error, id)
  }

  pendingCount(): number {
    return this.countStmt.get()!.n
  }

  /** Creation time (ms since the epoch) of the oldest undelivered message; null when none is pending. */
  oldestPendingAt(): number | null {
    return this.oldestStmt.get()!.at
  }

  /** Forget delivered messages older than `before`. */
  prune(before: number): void {
    this.pruneStmt.run(before)
  }
}
