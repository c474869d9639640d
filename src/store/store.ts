import {dirname, join} from 'node:path'

import Database from 'better-sqlite3'

import {ensureDirectory, writeProblem} from '../config/ensure-dir.js'
import {VdpAgentError} from '../errors.js'
import {JournalRepo} from './journal-repo.js'
import {LATEST_SCHEMA_VERSION, migrate, schemaVersion} from './migrations.js'
import {NeighborRepo} from './neighbor-repo.js'
import {OutboxRepo} from './outbox-repo.js'
import {UplinkRepo} from './uplink-repo.js'
import {VsiRepo} from './vsi-repo.js'
import {type StoreHealth, WriteBacklog, storageFailureCode} from './write-backlog.js'

const DATABASE_FILE = 'vdp-agent.db'

/**
 * The daemon's exit code for a corrupt database (65, EX_DATAERR of sysexits.h): a restart cannot repair it,
 * so the systemd unit lists it in RestartPreventExitStatus instead of restarting every few seconds.
 */
export const EXIT_STORE_CORRUPT = 65

export function databasePath(stateDir: string): string {
  return join(stateDir, DATABASE_FILE)
}

export interface OpenOptions {
  /** The CLI opens read-only: it never blocks or races the daemon, the single writer. */
  readonly?: boolean
}

/**
 * The daemon's persistent state. WAL mode lets the CLI read a consistent snapshot while the daemon
 * writes; each processing result is committed in one transaction before it is acknowledged.
 */
export class Store {
  readonly uplink: UplinkRepo
  readonly neighbors: NeighborRepo
  readonly vsis: VsiRepo
  readonly outbox: OutboxRepo
  readonly journal: JournalRepo
  /** Background writes the storage refused, kept in order and retried (src/store/write-backlog.ts). */
  readonly writes: WriteBacklog

  private constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    this.writes = new WriteBacklog((fn) => this.transaction(fn), path, dirname(path))
    this.uplink = new UplinkRepo(db)
    this.neighbors = new NeighborRepo(db)
    this.vsis = new VsiRepo(db)
    this.outbox = new OutboxRepo(db)
    this.journal = new JournalRepo(db)
  }

  static open(path: string, opts: OpenOptions = {}): Store {
    let db: Database.Database
    try {
      if (opts.readonly) {
        db = new Database(path, {readonly: true, fileMustExist: true})
      } else {
        ensureDirectory(dirname(path), 0o750, '[general] state_dir')
        db = new Database(path)
      }
    } catch (err) {
      if (err instanceof VdpAgentError) throw err
      throw openError(path, err, opts)
    }
    try {
      db.pragma('busy_timeout = 5000')
      if (opts.readonly) {
        const version = schemaVersion(db)
        if (version !== LATEST_SCHEMA_VERSION) {
          throw new VdpAgentError(
            'STORE_VERSION',
            `database ${path} has schema version ${version}, this vdp-agent reads ${LATEST_SCHEMA_VERSION}; start the daemon once to migrate it`,
            {path, version},
          )
        }
      } else {
        db.pragma('journal_mode = WAL')
        // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts the file.
        db.pragma('synchronous = NORMAL')
        db.pragma('foreign_keys = ON')
        migrate(db)
      }
      return new Store(db, path)
    } catch (err) {
      db.close()
      if (err instanceof VdpAgentError) throw err
      throw openError(path, err, opts)
    }
  }

  /** Run `fn` in one transaction: everything it writes lands together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  /**
   * A background write in one transaction (a result, the uplink record, neighbours): when the storage
   * refuses it (full disk, I/O error, read-only), it is kept in memory and retried, never thrown. `key`
   * coalesces superseded pending writes. Returns whether it was committed now.
   */
  persist(what: string, fn: () => void, key?: string): boolean {
    return this.writes.persist(what, fn, key)
  }

  /**
   * A write the caller must know happened (a client's desired state), in one transaction, after every kept
   * background write. Throws StoreWriteError (code STORE_WRITE_FAILED) when the storage refuses it.
   */
  record<T>(what: string, fn: () => T): T {
    return this.writes.strict(what, fn)
  }

  health(): StoreHealth {
    return this.writes.health()
  }

  close(): void {
    this.writes.close()
    if (this.db.open) this.db.close()
  }
}

/** The database cannot be opened or is unusable: corrupt, on a read-only file system, unreadable. */
export class StoreOpenError extends VdpAgentError {}

/**
 * An open failure that says which file, what is wrong and what to do. A corrupt file gets code
 * STORE_CORRUPT (the daemon exits with EXIT_STORE_CORRUPT: restarting cannot repair it).
 */
function openError(path: string, err: unknown, opts: OpenOptions): VdpAgentError {
  const message = (err as Error).message
  let code = storageFailureCode(err) ?? (err as {code?: string}).code ?? ''
  // "unable to open database file": say why when the directory is the reason (read-only, permission).
  if (code === 'SQLITE_CANTOPEN' && !opts.readonly) code = writeProblem(dirname(path)) ?? code
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StoreOpenError(
      'STORE_CORRUPT',
      `database ${path} is corrupt (${message}): stop the daemon, move the file aside (with its -wal and -shm files) and start again; the daemon then starts empty, re-learns neighbours and the uplink, and the VM ports must be sent again (the controller's bulk, or vdp-agent vm bulk)`,
      {path, sqliteCode: code},
    )
  }
  if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) {
    return new StoreOpenError(
      'STORE_READONLY',
      `database ${path} is on a read-only file system (${message}): make ${dirname(path)} writable ([general] state_dir)`,
      {path, sqliteCode: code},
    )
  }
  if (code.startsWith('SQLITE_FULL')) {
    return new StoreOpenError(
      'STORE_OPEN',
      `cannot open database ${path}: ${message}; free space on the file system holding ${dirname(path)}`,
      {path, sqliteCode: code},
    )
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new StoreOpenError(
      'STORE_OPEN',
      `database ${path}: permission denied (${message}): run as the user owning ${dirname(path)}, or fix its owner and mode`,
      {path},
    )
  }
  const hint = opts.readonly
    ? ''
    : `; check that ${dirname(path)} ([general] state_dir) exists or can be created and is writable`
  return new StoreOpenError('STORE_OPEN', `cannot open database ${path}: ${message}${hint}`, {
    path,
    sqliteCode: code || null,
  })
}
