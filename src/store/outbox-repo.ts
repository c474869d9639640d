import type Database from 'better-sqlite3'

import type {JsonValue} from './json.js'

/** A message for the controller, kept until delivered (at least once; receivers are idempotent). */
export interface OutboxMessage {
  id: number
  method: string
  payload: JsonValue
  /** What the message is about (`port:<uuid>`, `uplink`, `topo:<ifname>`); null: never collapsed. */
  subject: string | null
  createdAt: number
  attempts: number
  lastError: string | null
}

interface Row {
  id: number
  method: string
  payload: string
  subject: string | null
  created_at: number
  attempts: number
  last_error: string | null
}

/**
 * The subject of an agent -> server message: only the newest message of a subject has to reach the server
 * (the newest result of a port, the newest uplink, the newest topology of an interface), and a subject's
 * messages are delivered in order.
 */
function outboxSubject(method: string, payload: unknown): string | null {
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>
  switch (method) {
    case 'update_vm_result':
      return typeof p.port_uuid === 'string' ? `port:${p.port_uuid}` : null
    case 'save_uplink':
    case 'request_uplink_info':
      return method === 'save_uplink' ? 'uplink' : 'uplink-info'
    case 'save_topo_disc_params':
      return typeof p.protocol_interface === 'string' ? `topo:${p.protocol_interface}` : null
    default:
      return null
  }
}

const fromRow = (r: Row): OutboxMessage => ({
  id: r.id,
  method: r.method,
  payload: JSON.parse(r.payload) as JsonValue,
  subject: r.subject,
  createdAt: r.created_at,
  attempts: r.attempts,
  lastError: r.last_error,
})

const PENDING = 'delivered_at IS NULL AND superseded_by IS NULL'

export class OutboxRepo {
  private readonly addStmt: Database.Statement
  private readonly supersedeStmt: Database.Statement
  private readonly pendingStmt: Database.Statement<[number, number], Row>
  private readonly deliveredStmt: Database.Statement
  private readonly failedStmt: Database.Statement
  private readonly countStmt: Database.Statement<[], {n: number; oldest: number | null}>
  private readonly pruneStmt: Database.Statement
  /** Called after each add (the sender wakes up; the write's transaction has committed by the next tick). */
  onAdded?: () => void

  constructor(db: Database.Database) {
    this.addStmt = db.prepare('INSERT INTO outbox (method, payload, subject, created_at) VALUES (?, ?, ?, ?)')
    this.supersedeStmt = db.prepare(`UPDATE outbox SET superseded_by = ? WHERE subject = ? AND id < ? AND ${PENDING}`)
    this.pendingStmt = db.prepare(
      `SELECT id, method, payload, subject, created_at, attempts, last_error FROM outbox WHERE ${PENDING} AND id > ? ORDER BY id LIMIT ?`,
    )
    this.deliveredStmt = db.prepare('UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?')
    this.failedStmt = db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?')
    this.countStmt = db.prepare(`SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE ${PENDING}`)
    this.pruneStmt = db.prepare(
      'DELETE FROM outbox WHERE (delivered_at IS NOT NULL AND delivered_at < ?) OR (superseded_by IS NOT NULL AND created_at < ?)',
    )
  }

  /** Queue a message; older undelivered messages of the same subject are superseded (not sent any more). */
  add(method: string, payload: JsonValue, now: number): number {
    const subject = outboxSubject(method, payload)
    const id = Number(this.addStmt.run(method, JSON.stringify(payload), subject, Math.round(now)).lastInsertRowid)
    if (subject !== null) this.supersedeStmt.run(id, subject, id)
    if (this.onAdded) setImmediate(this.onAdded)
    return id
  }

  /** Undelivered, not superseded messages in order, after id `afterId`. */
  pending(limit = 100, afterId = 0): OutboxMessage[] {
    return this.pendingStmt.all(afterId, limit).map(fromRow)
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

  /** Depth and the creation time of the oldest undelivered message (ms since the epoch), for status. */
  depth(): {pending: number; oldestAt: number | null} {
    const r = this.countStmt.get()!
    return {pending: r.n, oldestAt: r.oldest}
  }

  /** Forget delivered and superseded messages older than `before`. */
  prune(before: number): void {
    this.pruneStmt.run(before, before)
  }
}
