import {mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'

import Database from 'better-sqlite3'

import {VdpAgentError} from '../errors.js'
import {JournalRepo} from './journal-repo.js'
import {LATEST_SCHEMA_VERSION, migrate, schemaVersion} from './migrations.js'
import {NeighborRepo} from './neighbor-repo.js'
import {OutboxRepo} from './outbox-repo.js'
import {UplinkRepo} from './uplink-repo.js'
import {VsiRepo} from './vsi-repo.js'

export const DATABASE_FILE = 'vdp-agent.db'

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

  private constructor(readonly db: Database.Database, readonly path: string) {
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
        mkdirSync(dirname(path), {recursive: true, mode: 0o750})
        db = new Database(path)
      }
    } catch (err) {
      throw new VdpAgentError('STORE_OPEN', `cannot open database ${path}: ${(err as Error).message}`, {path})
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
      throw err
    }
  }

  /** Run `fn` in one transaction: everything it writes lands together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
