import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'

import {LATEST_SCHEMA_VERSION, migrate, migrations, schemaVersion} from '../../src/store/migrations.js'
import type {NeighborRecord} from '../../src/model/neighbor.js'
import {Store} from '../../src/store/store.js'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'vdp-store-')), 'vdp-agent.db')

const port = {
  portUuid: '00000000-1111-2222-3333-444455556666',
  mac: '52:54:00:aa:bb:01',
  netUuid: 'net-1',
  segmentationId: 20000,
}

describe('store migrations', () => {
  it('migrates an empty database to the latest version', () => {
    const db = new Database(':memory:')
    expect(schemaVersion(db)).toBe(0)
    expect(migrate(db)).toEqual(migrations.map((m) => m.version))
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION)
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all()
    expect(tables).toEqual(['event_journal', 'lldp_neighbors', 'outbox', 'uplink_state', 'vsi'])
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('uplink_state')).toContain('evb')
  })

  // Every shipped version must upgrade to the latest, keeping what it holds.
  for (const m of migrations) {
    it(`migrates from version ${m.version} to ${LATEST_SCHEMA_VERSION}, keeping the data`, () => {
      const path = tempDb()
      const old = new Database(path)
      migrate(old, m.version)
      expect(schemaVersion(old)).toBe(m.version)
      old.prepare("INSERT INTO event_journal (at, kind, subject, detail) VALUES (1, 'probe', 'x', '{}')").run()
      old
        .prepare(
          "INSERT INTO uplink_state (id, ifname, source, state, changed_at, updated_at) VALUES (1, 'eth5', 'config', 'up', 7, 8)",
        )
        .run()
      // Neighbour rows: before version 4 they had no LLDP agent; one with an EVB TLV came from the nearest customer bridge agent.
      const agentColumn = m.version >= 4 ? ', dest_address' : ''
      const insertNeighbor =
        old.prepare(`INSERT INTO lldp_neighbors (ifname${agentColumn}, chassis_id, port_id, chassis_subtype, port_subtype, src_mac, ttl, expires_at, evb, first_seen, last_seen)
        VALUES ('eth5'${m.version >= 4 ? ', ?' : ''}, 'tor1', ?, 7, 5, '02:00:00:00:02:01', 120, 120000, ?, 1, 1)`)
      if (m.version >= 4) {
        insertNeighbor.run('01:80:c2:00:00:0e', 'plain', null)
        insertNeighbor.run('01:80:c2:00:00:00', 'evb', '{"mode":"bridge"}')
      } else {
        insertNeighbor.run('plain', null)
        insertNeighbor.run('evb', '{"mode":"bridge"}')
      }
      old.close()
      const store = Store.open(path)
      expect(schemaVersion(store.db)).toBe(LATEST_SCHEMA_VERSION)
      expect(store.journal.recent(10).map((e) => e.kind)).toEqual(['probe'])
      expect(store.uplink.get()).toMatchObject({ifname: 'eth5', source: 'config', state: 'up', changedAt: 7, evb: null})
      expect(store.neighbors.list().map((n) => [n.portId, n.destAddress, n.evb])).toEqual([
        ['evb', '01:80:c2:00:00:00', {mode: 'bridge'}],
        ['plain', '01:80:c2:00:00:0e', null],
      ])
      store.close()
    })
  }

  it('refuses a database from a newer vdp-agent with a clear error', () => {
    const path = tempDb()
    const db = new Database(path)
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`)
    db.close()
    expect(() => Store.open(path)).toThrow(expect.objectContaining({code: 'STORE_TOO_NEW'}))
  })

  it('uses WAL', () => {
    const store = Store.open(tempDb())
    expect(store.db.pragma('journal_mode', {simple: true})).toBe('wal')
    store.close()
  })
})

describe('store: reading while the daemon writes', () => {
  it('a read-only reader sees the last committed state during an open write transaction, without blocking', () => {
    const path = tempDb()
    const writer = Store.open(path)
    writer.vsis.requestUp(port, 1000)
    const reader = Store.open(path, {readonly: true})
    writer.db.exec('BEGIN IMMEDIATE')
    writer.vsis.update(port.portUuid, {state: 'associated', vdpVlan: 3003}, 2000)
    // Uncommitted: the reader must not see it; a blocked reader would throw SQLITE_BUSY here instead.
    expect(reader.vsis.get(port.portUuid)?.state).toBe('pending')
    writer.db.exec('COMMIT')
    expect(reader.vsis.get(port.portUuid)).toMatchObject({state: 'associated', vdpVlan: 3003})
    expect(() => reader.db.exec("INSERT INTO event_journal (at, kind) VALUES (1, 'x')")).toThrow(/readonly/)
    reader.close()
    writer.close()
  })

  it('a read-only open of a database that does not exist fails with a typed error', () => {
    expect(() => Store.open(join(tmpdir(), 'missing-vdp-agent-db', 'x.db'), {readonly: true})).toThrow(
      expect.objectContaining({code: 'STORE_OPEN'}),
    )
  })
})

describe('store repositories', () => {
  it('VSI lifecycle: up, result, repeated up keeps an association, down, delete', () => {
    const store = Store.open(tempDb())
    const rec = store.vsis.requestUp({...port, vmName: 'vm-a'}, 10)
    expect(rec).toMatchObject({desired: 'up', state: 'pending', attempts: 0, vmName: 'vm-a', vdpVlan: null, vlan: null})
    store.vsis.update(port.portUuid, {state: 'associated', vdpVlan: 3003, uplink: 'eth5'}, 20)
    expect(store.vsis.requestUp(port, 30)).toMatchObject({state: 'associated', vdpVlan: 3003})
    expect(store.vsis.requestUp({...port, segmentationId: 20001}, 40)).toMatchObject({
      state: 'pending',
      segmentationId: 20001,
    })
    store.vsis.update(port.portUuid, {state: 'associated'}, 41)
    expect(store.vsis.requestUp({...port, segmentationId: 20001, vlan: 100}, 42)).toMatchObject({
      state: 'pending',
      vlan: 100,
    })
    expect(store.vsis.requestDown(port.portUuid, 50)).toMatchObject({desired: 'down', state: 'pending'})
    expect(store.vsis.requestDown('unknown', 50)).toBeUndefined()
    expect(store.vsis.countsByState()).toEqual({pending: 1})
    store.vsis.delete(port.portUuid)
    expect(store.vsis.list()).toEqual([])
    store.close()
  })

  it('uplink state round-trips, neighbours upsert and expire, outbox delivers once', () => {
    const store = Store.open(tempDb())
    expect(store.uplink.get()).toBeUndefined()
    const up = {
      ifname: 'bond0',
      source: 'lldp' as const,
      state: 'up' as const,
      detectedOn: 'eth1',
      bondMembers: ['eth1', 'eth2'],
      reason: 'EVB bridge on eth1',
      changedAt: 5,
      updatedAt: 6,
    }
    store.uplink.put(up)
    expect(store.uplink.get()).toEqual({...up, evb: null})
    const evb = {retries: 3, rte: 14, rwd: 20, rka: 20, groupIds: true, reflectiveRelay: false}
    store.uplink.put({...up, evb})
    expect(store.uplink.get()?.evb).toEqual(evb)

    const n = {
      ifname: 'eth1',
      destAddress: '01:80:c2:00:00:00',
      chassisId: '02:00:00:00:02:01',
      portId: 'Ethernet1/7',
      chassisSubtype: 4,
      portSubtype: 7,
      srcMac: '02:00:00:00:02:01',
      ttl: 120,
      expiresAt: 120_000,
      systemName: 'tor1',
      systemDescription: null,
      portDescription: null,
      mgmtAddresses: [{family: 'ipv4', address: '192.0.2.254', ifSubtype: 2, ifNumber: 7}],
      capabilities: null,
      evb: {
        bgid: false,
        rrcap: true,
        rrctr: true,
        sgid: false,
        rrreq: false,
        rrstat: 1,
        retries: 3,
        rte: 14,
        mode: 'bridge',
        rolRwd: false,
        rwd: 20,
        rolRka: false,
        rka: 20,
      },
      firstSeen: 1,
      lastSeen: 1,
    } satisfies NeighborRecord
    store.neighbors.upsert(n)
    store.neighbors.upsert({...n, ttl: 4, lastSeen: 2, firstSeen: 99})
    expect(store.neighbors.list()).toEqual([{...n, ttl: 4, lastSeen: 2}])
    // the same MSAP on another LLDP agent is another row
    store.neighbors.upsert({...n, destAddress: '01:80:c2:00:00:0e', evb: null})
    expect(store.neighbors.count()).toBe(2)
    store.neighbors.delete(n)
    expect(store.neighbors.list().map((x) => x.destAddress)).toEqual(['01:80:c2:00:00:0e'])
    store.neighbors.delete({...n, destAddress: '01:80:c2:00:00:0e'})
    expect(store.neighbors.count()).toBe(0)

    const id = store.outbox.add('update_vm_result', {port_uuid: 'p', result: 'SUCCESS'}, 1)
    store.outbox.markFailed(id, 'broker down')
    expect(store.outbox.pending()).toMatchObject([
      {id, attempts: 1, lastError: 'broker down', payload: {result: 'SUCCESS'}},
    ])
    store.outbox.markDelivered(id, 2)
    expect(store.outbox.pendingCount()).toBe(0)
    store.close()
  })

  it('the journal keeps the newest entries when pruned', () => {
    const store = Store.open(tempDb())
    for (let i = 0; i < 10; i++) store.journal.add('e', String(i), {i}, i)
    store.journal.prune(3)
    expect(store.journal.recent(100).map((e) => e.subject)).toEqual(['9', '8', '7'])
    store.close()
  })

  it('fractional clock readings are stored as whole milliseconds', () => {
    const store = Store.open(tempDb())
    store.uplink.put({
      ifname: 'eth1',
      source: 'lldp',
      state: 'up',
      detectedOn: 'eth1',
      bondMembers: [],
      reason: null,
      changedAt: 1000.6,
      updatedAt: 1000.2,
    })
    expect(store.uplink.get()).toMatchObject({changedAt: 1001, updatedAt: 1000})
    store.vsis.requestUp(port, 5.5)
    store.vsis.update(port.portUuid, {nextRetryAt: 9.7}, 6.4)
    expect(store.vsis.get(port.portUuid)).toMatchObject({createdAt: 6, nextRetryAt: 10, updatedAt: 6})
    store.close()
  })

  it('a transaction lands whole or not at all', () => {
    const store = Store.open(tempDb())
    expect(() =>
      store.transaction(() => {
        store.vsis.requestUp(port, 1)
        throw new Error('crash mid-way')
      }),
    ).toThrow('crash mid-way')
    expect(store.vsis.list()).toEqual([])
    store.close()
  })
})
