import type Database from 'better-sqlite3'

import type {EvbNegotiated} from '../model/evb.js'
import type {UplinkLinkState, UplinkRecord, UplinkSource} from '../model/uplink.js'
import {parseJsonColumn} from './json.js'

interface Row {
  ifname: string | null
  source: UplinkSource | null
  state: UplinkLinkState
  detected_on: string | null
  bond_members: string
  reason: string | null
  changed_at: number
  updated_at: number
  evb: string | null
}

export class UplinkRepo {
  private readonly getStmt: Database.Statement<[], Row>
  private readonly putStmt: Database.Statement

  constructor(db: Database.Database) {
    this.getStmt = db.prepare('SELECT * FROM uplink_state WHERE id = 1')
    this.putStmt = db.prepare(`
      INSERT INTO uplink_state (id, ifname, source, state, detected_on, bond_members, reason, changed_at, updated_at, evb)
      VALUES (1, @ifname, @source, @state, @detectedOn, @bondMembers, @reason, @changedAt, @updatedAt, @evb)
      ON CONFLICT (id) DO UPDATE SET ifname = excluded.ifname, source = excluded.source, state = excluded.state,
        detected_on = excluded.detected_on, bond_members = excluded.bond_members, reason = excluded.reason,
        changed_at = excluded.changed_at, updated_at = excluded.updated_at, evb = excluded.evb`)
  }

  get(): UplinkRecord | undefined {
    const row = this.getStmt.get()
    if (!row) return undefined
    return {
      ifname: row.ifname,
      source: row.source,
      state: row.state,
      detectedOn: row.detected_on,
      bondMembers: parseJsonColumn<string[]>(row.bond_members, []),
      reason: row.reason,
      changedAt: row.changed_at,
      updatedAt: row.updated_at,
      evb: parseJsonColumn<EvbNegotiated | null>(row.evb, null),
    }
  }

  put(rec: UplinkRecord): void {
    // Clocks may give fractional milliseconds; the columns hold whole ones.
    this.putStmt.run({
      ...rec,
      changedAt: Math.round(rec.changedAt),
      updatedAt: Math.round(rec.updatedAt),
      bondMembers: JSON.stringify(rec.bondMembers),
      evb: rec.evb ? JSON.stringify(rec.evb) : null,
    })
  }
}
