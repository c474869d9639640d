import type Database from 'better-sqlite3'

import {VdpAgentError} from '../errors.js'

/**
 * Schema history. Each entry moves the database from version i to i+1 (PRAGMA user_version) inside one
 * transaction. Never edit a shipped migration: add the next one.
 */
export interface Migration {
  version: number
  description: string
  up(db: Database.Database): void
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'uplink state, LLDP neighbours, VSI associations, outbox, event journal',
    up(db) {
      db.exec(`
        CREATE TABLE uplink_state (
          id            INTEGER PRIMARY KEY CHECK (id = 1),
          ifname        TEXT,
          source        TEXT CHECK (source IN ('override', 'config', 'lldp')),
          state         TEXT NOT NULL CHECK (state IN ('none', 'up', 'down')),
          detected_on   TEXT,
          bond_members  TEXT NOT NULL DEFAULT '[]',
          reason        TEXT,
          changed_at    INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE lldp_neighbors (
          ifname             TEXT NOT NULL,
          chassis_id         TEXT NOT NULL,
          port_id            TEXT NOT NULL,
          chassis_subtype    INTEGER NOT NULL,
          port_subtype       INTEGER NOT NULL,
          src_mac            TEXT NOT NULL,
          ttl                INTEGER NOT NULL,
          expires_at         INTEGER NOT NULL,
          system_name        TEXT,
          system_description TEXT,
          port_description   TEXT,
          mgmt_addresses     TEXT NOT NULL DEFAULT '[]',
          capabilities       TEXT,
          evb                TEXT,
          first_seen         INTEGER NOT NULL,
          last_seen          INTEGER NOT NULL,
          PRIMARY KEY (ifname, chassis_id, port_id)
        ) STRICT;

        CREATE TABLE vsi (
          port_uuid        TEXT PRIMARY KEY,
          mac              TEXT NOT NULL,
          net_uuid         TEXT NOT NULL,
          segmentation_id  INTEGER NOT NULL,
          vm_name          TEXT,
          vm_uuid          TEXT,
          ipv4             TEXT,
          desired          TEXT NOT NULL CHECK (desired IN ('up', 'down')),
          state            TEXT NOT NULL,
          uplink           TEXT,
          local_vlan       INTEGER,
          vdp_vlan         INTEGER,
          fail_reason      TEXT,
          attempts         INTEGER NOT NULL DEFAULT 0,
          next_retry_at    INTEGER,
          created_at       INTEGER NOT NULL,
          updated_at       INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX vsi_state ON vsi (state);
        CREATE INDEX vsi_net ON vsi (net_uuid);

        CREATE TABLE outbox (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          method        TEXT NOT NULL,
          payload       TEXT NOT NULL,
          created_at    INTEGER NOT NULL,
          attempts      INTEGER NOT NULL DEFAULT 0,
          last_error    TEXT,
          delivered_at  INTEGER
        ) STRICT;
        CREATE INDEX outbox_pending ON outbox (delivered_at, id);

        CREATE TABLE event_journal (
          id       INTEGER PRIMARY KEY AUTOINCREMENT,
          at       INTEGER NOT NULL,
          kind     TEXT NOT NULL,
          subject  TEXT,
          detail   TEXT NOT NULL DEFAULT '{}'
        ) STRICT;
      `)
    },
  },
  {
    version: 2,
    description: 'negotiated EVB values (R, RTE, RWD, RKA) kept with the uplink',
    up(db) {
      db.exec('ALTER TABLE uplink_state ADD COLUMN evb TEXT')
    },
  },
  {
    version: 3,
    description: 'a VLAN a VM port may request instead of letting the switch assign one',
    up(db) {
      db.exec('ALTER TABLE vsi ADD COLUMN requested_vlan INTEGER')
    },
  },
  {
    version: 4,
    description: 'LLDP neighbours kept per LLDP agent (destination group address), as 802.1AB keeps them',
    up(db) {
      // The primary key changes, so the table is rebuilt. Rows from before had no agent: one with an EVB TLV
      // came from the nearest-customer-bridge agent (the only one EVB uses), the others are taken as
      // nearest-bridge LLDP (01:80:c2:00:00:0e).
      db.exec(`
        CREATE TABLE lldp_neighbors_v4 (
          ifname             TEXT NOT NULL,
          dest_address       TEXT NOT NULL,
          chassis_id         TEXT NOT NULL,
          port_id            TEXT NOT NULL,
          chassis_subtype    INTEGER NOT NULL,
          port_subtype       INTEGER NOT NULL,
          src_mac            TEXT NOT NULL,
          ttl                INTEGER NOT NULL,
          expires_at         INTEGER NOT NULL,
          system_name        TEXT,
          system_description TEXT,
          port_description   TEXT,
          mgmt_addresses     TEXT NOT NULL DEFAULT '[]',
          capabilities       TEXT,
          evb                TEXT,
          first_seen         INTEGER NOT NULL,
          last_seen          INTEGER NOT NULL,
          PRIMARY KEY (ifname, dest_address, chassis_id, port_id)
        ) STRICT;
        INSERT INTO lldp_neighbors_v4
          SELECT ifname, CASE WHEN evb IS NULL THEN '01:80:c2:00:00:0e' ELSE '01:80:c2:00:00:00' END, chassis_id, port_id,
            chassis_subtype, port_subtype, src_mac, ttl, expires_at, system_name, system_description, port_description,
            mgmt_addresses, capabilities, evb, first_seen, last_seen
          FROM lldp_neighbors;
        DROP TABLE lldp_neighbors;
        ALTER TABLE lldp_neighbors_v4 RENAME TO lldp_neighbors;
      `)
    },
  },
  {
    version: 5,
    description:
      'outbox subjects (a port, the uplink, an interface): in order per subject, superseded messages collapse',
    up(db) {
      db.exec(`
        ALTER TABLE outbox ADD COLUMN subject TEXT;
        ALTER TABLE outbox ADD COLUMN superseded_by INTEGER;
        CREATE INDEX outbox_subject_pending ON outbox (subject) WHERE delivered_at IS NULL AND superseded_by IS NULL;
      `)
    },
  },
]

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1].version

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', {simple: true}) as number
}

/** Bring the database up to `target` (the latest by default). Returns the versions applied. */
export function migrate(db: Database.Database, target = LATEST_SCHEMA_VERSION): number[] {
  const current = schemaVersion(db)
  if (current > LATEST_SCHEMA_VERSION) {
    throw new VdpAgentError(
      'STORE_TOO_NEW',
      `database schema version ${current} is newer than this vdp-agent understands (${LATEST_SCHEMA_VERSION}); upgrade vdp-agent or restore a backup`,
      {current, latest: LATEST_SCHEMA_VERSION},
    )
  }
  const applied: number[] = []
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    })()
    applied.push(m.version)
  }
  return applied
}
