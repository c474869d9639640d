/**
 * Issue 10 item 1: refused database writes. The database really refuses them: `PRAGMA max_page_count`
 * at the current size makes SQLite answer SQLITE_FULL ("database or disk is full") exactly as on a full
 * disk, and `PRAGMA query_only` gives SQLITE_READONLY as on a read-only file system.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {VdpAgentError} from '../../src/errors.js'
import {Store, StoreOpenError} from '../../src/store/store.js'
import {WriteBacklog, type WriteHealthChange, storageFailureCode} from '../../src/store/write-backlog.js'
import {ManualClock} from '../../src/core/clock.js'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'vdp-store-')), 'vdp-agent.db')
const port = (i: number) => ({
  portUuid: `00000000-1111-2222-3333-${String(i).padStart(12, '0')}`,
  mac: '52:54:00:aa:bb:01',
  netUuid: 'net-1',
  segmentationId: 20000 + i,
})
const bigDetail = {pad: 'x'.repeat(20_000)}

/** Freeze the file at its current size: any write that needs a new page fails with SQLITE_FULL. */
function fillUp(store: Store): void {
  // No free pages left over by the migrations (a table rebuilt by one leaves some): every write must grow the file.
  store.db.exec('VACUUM')
  store.db.pragma('wal_checkpoint(TRUNCATE)')
  const pages = store.db.pragma('page_count', {simple: true}) as number
  store.db.pragma(`max_page_count = ${pages}`)
}
function freeUp(store: Store): void {
  store.db.pragma('max_page_count = 1073741823')
}

function openWatched(path = tempDb()) {
  const store = Store.open(path)
  const clock = new ManualClock(0)
  const changes: WriteHealthChange[] = []
  store.writes.configure({clock, retryMs: 5000, listener: (c) => changes.push(c)})
  return {store, clock, changes}
}

describe('refused database writes (full disk)', () => {
  it('a background write the disk refuses is kept, reported once, retried, and committed in order', () => {
    const {store, clock, changes} = openWatched()
    store.record('setup', () => store.vsis.requestUp(port(1), 1))
    fillUp(store)
    // Before the fix this threw "database or disk is full" out of the LLDP/result paths and killed the daemon.
    expect(store.persist('journal a', () => store.journal.add('a', null, bigDetail, 2))).toBe(false)
    expect(store.persist('journal b', () => store.journal.add('b', null, {}, 3))).toBe(false)
    expect(
      store.persist('vsi update', () => store.vsis.update(port(1).portUuid, {state: 'associated', vdpVlan: 100}, 4)),
    ).toBe(false)
    expect(changes.map((c) => c.type)).toEqual(['failing'])
    expect(changes[0]).toMatchObject({sqliteCode: 'SQLITE_FULL', error: 'database or disk is full', what: 'journal a'})
    expect((changes[0] as {advice: string}).advice).toMatch(/free space on the file system holding /)
    const h = store.health()
    expect(h).toMatchObject({
      writable: false,
      pending: 3,
      sqliteCode: 'SQLITE_FULL',
      lastError: 'database or disk is full',
    })
    expect(h.failingSince).toEqual(expect.any(Number))
    // The last good state is what the database still holds.
    expect(store.vsis.get(port(1).portUuid)).toMatchObject({state: 'pending', vdpVlan: null})

    clock.advance(5000) // a retry, still full
    expect(store.health().pending).toBe(3)
    expect(changes.map((c) => c.type)).toEqual(['failing'])

    freeUp(store)
    clock.advance(5000)
    expect(store.health()).toMatchObject({writable: true, pending: 0, failingSince: null})
    expect(changes.at(-1)).toMatchObject({type: 'recovered', flushed: 3})
    expect(store.journal.recent(10).map((e) => e.kind)).toEqual(['b', 'a']) // newest first: committed in order
    expect(store.vsis.get(port(1).portUuid)).toMatchObject({state: 'associated', vdpVlan: 100})
    store.close()
  })

  it('a write waiting behind the backlog waits too: nothing overtakes an older write', () => {
    const {store, clock} = openWatched()
    fillUp(store)
    store.persist('journal a', () => store.journal.add('a', null, bigDetail, 1))
    freeUp(store) // space again, but the next write must not jump the queue
    expect(store.persist('journal b', () => store.journal.add('b', null, {}, 2))).toBe(false)
    expect(store.journal.recent(10)).toEqual([])
    clock.advance(5000)
    expect(store.journal.recent(10).map((e) => e.kind)).toEqual(['b', 'a'])
    store.close()
  })

  it('a coalescing key keeps one pending write per key, the newest', () => {
    const {store, clock} = openWatched()
    fillUp(store)
    store.persist('journal big', () => store.journal.add('big', null, bigDetail, 1))
    for (let i = 0; i < 1000; i++)
      store.persist('uplink', () => store.journal.add(`uplink-${i}`, null, {}, 2 + i), 'uplink')
    expect(store.health().pending).toBe(2)
    freeUp(store)
    clock.advance(5000)
    expect(store.journal.recent(10).map((e) => e.kind)).toEqual(['uplink-999', 'big'])
    store.close()
  })

  it('a strict write (a client recording desired state) fails with a typed error naming the file and what to do', () => {
    const {store, clock} = openWatched()
    fillUp(store)
    store.persist('journal big', () => store.journal.add('big', null, bigDetail, 1))
    let err: unknown
    try {
      store.record('VM port x up', () => store.vsis.requestUp(port(2), 1))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(VdpAgentError)
    expect((err as VdpAgentError).code).toBe('STORE_WRITE_FAILED')
    expect((err as VdpAgentError).message).toMatch(
      new RegExp(
        `cannot record VM port x up: writes to the database ${store.path} are failing \\(database or disk is full\\); free space on`,
      ),
    )
    expect((err as VdpAgentError).details).toMatchObject({path: store.path, sqliteCode: 'SQLITE_FULL', pending: 1})
    expect(store.vsis.get(port(2).portUuid)).toBeUndefined()
    freeUp(store)
    // Once the disk has room, the strict write commits the backlog first, then itself.
    expect(store.record('VM port x up', () => store.vsis.requestUp(port(2), 2))).toMatchObject({
      portUuid: port(2).portUuid,
    })
    expect(store.health()).toMatchObject({writable: true, pending: 0})
    expect(store.journal.recent(10).map((e) => e.kind)).toEqual(['big'])
    clock.advance(60_000) // no retry timer left behind doing anything
    store.close()
  })

  it('a read-only database is a storage failure too (SQLITE_READONLY), with its own advice', () => {
    const {store, clock, changes} = openWatched()
    store.db.pragma('query_only = 1')
    expect(store.persist('journal', () => store.journal.add('a', null, {}, 1))).toBe(false)
    expect(changes[0]).toMatchObject({type: 'failing', sqliteCode: expect.stringMatching(/^SQLITE_READONLY/)})
    expect((changes[0] as {advice: string}).advice).toMatch(/read-only/)
    store.db.pragma('query_only = 0')
    clock.advance(5000)
    expect(store.health().writable).toBe(true)
    store.close()
  })

  it('a programming error is not mistaken for a storage failure', () => {
    const {store} = openWatched()
    expect(() => store.persist('bad', () => store.db.prepare('INSERT INTO no_such_table VALUES (1)').run())).toThrow(
      /no such table/,
    )
    expect(store.health().writable).toBe(true)
    expect(storageFailureCode(new Error('x'))).toBeUndefined()
    store.close()
  })
})

describe('an injected failing store (EIO underneath)', () => {
  it('SQLITE_IOERR is kept and retried like a full disk; the advice points at the disk', () => {
    const committed: string[] = []
    let failing = true
    const ioError = Object.assign(new Error('disk I/O error'), {code: 'SQLITE_IOERR_WRITE'})
    const transaction = <T>(fn: () => T): T => {
      if (failing) throw ioError
      return fn()
    }
    const backlog = new WriteBacklog(transaction, '/var/lib/vdp-agent/vdp-agent.db', '/var/lib/vdp-agent')
    const clock = new ManualClock(0)
    const changes: WriteHealthChange[] = []
    backlog.configure({clock, retryMs: 1000, listener: (c) => changes.push(c)})
    expect(backlog.persist('a', () => committed.push('a'))).toBe(false)
    expect(backlog.persist('b', () => committed.push('b'))).toBe(false)
    expect(changes[0]).toMatchObject({type: 'failing', sqliteCode: 'SQLITE_IOERR_WRITE', error: 'disk I/O error'})
    expect((changes[0] as {advice: string}).advice).toMatch(
      /kernel log \(dmesg\) for I\/O errors on the device holding \/var\/lib\/vdp-agent/,
    )
    expect(() => backlog.strict('VM port up', () => 1)).toThrow(
      /cannot record VM port up: writes to the database \/var\/lib\/vdp-agent\/vdp-agent\.db are failing \(disk I\/O error\)/,
    )
    clock.advance(10_000)
    expect(committed).toEqual([])
    failing = false
    clock.advance(1000)
    expect(committed).toEqual(['a', 'b'])
    expect(changes.at(-1)).toMatchObject({type: 'recovered', flushed: 2})
  })
})

describe('opening the database', () => {
  it('a corrupt file is named, with what to do, as STORE_CORRUPT', () => {
    const path = tempDb()
    writeFileSync(path, Buffer.alloc(8192, 0x5a))
    let err: unknown
    try {
      Store.open(path)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(StoreOpenError)
    expect((err as VdpAgentError).code).toBe('STORE_CORRUPT')
    expect((err as Error).message).toContain(`database ${path} is corrupt (file is not a database)`)
    expect((err as Error).message).toMatch(/move the file aside/)
  })
})
