import {VdpAgentError, errorMessage} from '../errors.js'
import type {Clock, TimerHandle} from '../core/clock.js'

/**
 * SQLite result codes that mean "the storage refused the write", not "the write was wrong": a full disk
 * (SQLITE_FULL), an I/O error (SQLITE_IOERR_*, EIO underneath), a read-only file system or database
 * (SQLITE_READONLY_*), a file that cannot be (re)opened, a lock held too long. Retrying later can succeed.
 * (Result codes: https://www.sqlite.org/rescode.html.)
 */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL|CORRUPT|NOTADB)/

/** The SQLite code when `err` is a storage failure (see STORAGE_CODES), else undefined. */
export function storageFailureCode(err: unknown): string | undefined {
  const code = (err as {code?: unknown} | null)?.code
  return typeof code === 'string' && STORAGE_CODES.test(code) ? code : undefined
}

/** What an operator should do about a failing write, by SQLite code. */
function storageAdvice(code: string, dir: string): string {
  if (code.startsWith('SQLITE_FULL')) return `free space on the file system holding ${dir}`
  if (code.startsWith('SQLITE_READONLY'))
    return `the file system holding ${dir} is read-only (remounted after an error?): make it writable`
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return `another process holds a write lock on the database in ${dir}`
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))
    return `the database in ${dir} is damaged: stop the daemon and move the file aside`
  return `check the disk and the kernel log (dmesg) for I/O errors on the device holding ${dir}`
}

/**
 * A write the database refused. `code` STORE_WRITE_FAILED; details hold the database path, the SQLite code
 * and the number of writes waiting. Raised to callers that need the write to have happened (a client
 * recording desired state); background writes are kept and retried instead.
 */
export class StoreWriteError extends VdpAgentError {
  constructor(path: string, what: string, cause: string, sqliteCode: string, pending: number, dir: string) {
    super(
      'STORE_WRITE_FAILED',
      `cannot record ${what}: writes to the database ${path} are failing (${cause}); ${storageAdvice(sqliteCode, dir)}, then try again`,
      {path, sqliteCode, pending},
    )
  }
}

export interface StoreHealth {
  /** True when the last write (or retry) succeeded and nothing waits. */
  writable: boolean
  /** ms since the epoch of the first failure of the current outage; null when writable. */
  failingSince: number | null
  lastError: string | null
  sqliteCode: string | null
  /** Writes kept in memory, to be committed in order when the database takes writes again. */
  pending: number
}

export type WriteHealthChange =
  | {type: 'failing'; error: string; sqliteCode: string; what: string; advice: string}
  | {type: 'recovered'; flushed: number; failedForMs: number}
  | {type: 'still-failing'; error: string; pending: number; failedForMs: number}
  | {type: 'dropped'; what: string; error: string}

interface PendingWrite {
  what: string
  fn: () => void
}

/**
 * The store's writes when the storage may fail. A background write (neighbour, uplink record, VDP result,
 * journal, outbox) the database refuses is kept in memory in order, with a coalescing key when a later write
 * supersedes it (the uplink record, the neighbour table), and retried on a timer; nothing later overtakes it,
 * so the database goes through the same sequence of states, just later. A strict write (a client's desired
 * state) first needs the backlog committed and fails with StoreWriteError when it cannot be, so the client
 * knows its request was not recorded. The daemon never dies of a refused write.
 */
export class WriteBacklog {
  private readonly pending = new Map<string, PendingWrite>()
  private nextId = 0
  private failure?: {since: number; error: string; code: string}
  private timer?: TimerHandle
  private lastNotice = 0
  private clock?: Clock
  private retryMs = 5000
  private listener: (change: WriteHealthChange) => void = () => {}

  constructor(
    private readonly transaction: <T>(fn: () => T) => T,
    private readonly path: string,
    private readonly dir: string,
  ) {}

  /** Retries run on `clock` every `retryMs`; `listener` hears of failures and recovery (the daemon logs them). */
  configure(opts: {clock: Clock; retryMs?: number; listener: (change: WriteHealthChange) => void}): void {
    this.clock = opts.clock
    this.retryMs = opts.retryMs ?? this.retryMs
    this.listener = opts.listener
  }

  health(): StoreHealth {
    return {
      writable: !this.failure && this.pending.size === 0,
      failingSince: this.failure?.since ?? null,
      lastError: this.failure?.error ?? null,
      sqliteCode: this.failure?.code ?? null,
      pending: this.pending.size,
    }
  }

  /**
   * A background write: committed now, or kept and retried. `key` coalesces: a pending write with the same
   * key is replaced by this one (which must then describe the whole state it covers). Returns whether it
   * was committed now. Errors that are not storage failures (a bug, a constraint) are thrown as before.
   */
  persist(what: string, fn: () => void, key?: string): boolean {
    if (this.pending.size === 0) {
      try {
        this.transaction(fn)
        this.succeeded(0)
        return true
      } catch (err) {
        if (!storageFailureCode(err)) throw err
        this.failed(err, what)
      }
    }
    const k = key ?? `#${this.nextId++}`
    this.pending.delete(k) // re-inserted at the end: it is now the newest write
    this.pending.set(k, {what, fn})
    this.armRetry()
    return false
  }

  /** A write the caller needs done now: the backlog first, then `fn`; StoreWriteError when refused. */
  strict<T>(what: string, fn: () => T): T {
    if (this.pending.size > 0 && !this.flush()) throw this.error(what)
    let result: T
    try {
      result = this.transaction(fn)
    } catch (err) {
      if (!storageFailureCode(err)) throw err
      this.failed(err, what)
      throw this.error(what)
    }
    this.succeeded(0)
    return result
  }

  /** Commit the kept writes in order; stops at the first refusal. Returns true when none is left. */
  flush(): boolean {
    const count = this.pending.size
    for (const [key, write] of this.pending) {
      try {
        this.transaction(write.fn)
      } catch (err) {
        if (storageFailureCode(err)) {
          this.failed(err, write.what)
          return false
        }
        // Not the storage: retrying cannot help, and it must not block the writes behind it.
        this.listener({type: 'dropped', what: write.what, error: errorMessage(err)})
      }
      this.pending.delete(key)
    }
    this.succeeded(count)
    return true
  }

  private succeeded(flushed: number): void {
    if (!this.failure || this.pending.size > 0) return
    const failedForMs = Date.now() - this.failure.since
    this.failure = undefined
    this.listener({type: 'recovered', flushed, failedForMs})
  }

  /** Stop retrying (the daemon is stopping); one last flush attempt. */
  close(): boolean {
    if (this.timer) this.clock?.clearTimer(this.timer)
    this.timer = undefined
    return this.pending.size === 0 || this.flush()
  }

  private failed(err: unknown, what: string): void {
    const code = storageFailureCode(err) ?? 'SQLITE_ERROR'
    const error = errorMessage(err)
    if (!this.failure) {
      this.failure = {since: Date.now(), error, code}
      this.lastNotice = Date.now()
      this.listener({type: 'failing', error, sqliteCode: code, what, advice: storageAdvice(code, this.dir)})
      return
    }
    this.failure.error = error
    this.failure.code = code
    // While the outage lasts, a reminder a minute, not one line per refused write.
    if (Date.now() - this.lastNotice >= 60_000) {
      this.lastNotice = Date.now()
      this.listener({
        type: 'still-failing',
        error,
        pending: this.pending.size,
        failedForMs: Date.now() - this.failure.since,
      })
    }
  }

  private armRetry(): void {
    if (this.timer || !this.clock) return
    const clock = this.clock
    this.timer = clock.setTimer(this.retryMs, () => {
      this.timer = undefined
      if (!this.flush()) this.armRetry()
    })
  }

  private error(what: string): StoreWriteError {
    return new StoreWriteError(
      this.path,
      what,
      this.failure?.error ?? 'unknown error',
      this.failure?.code ?? 'SQLITE_ERROR',
      this.pending.size,
      this.dir,
    )
  }
}
