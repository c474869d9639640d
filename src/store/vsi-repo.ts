import type Database from 'better-sqlite3'

import type {VmPort, VsiDesired, VsiRecord, VsiState} from '../model/vsi.js'

export type VsiUpdate = Partial<
  Pick<VsiRecord, 'state' | 'uplink' | 'localVlan' | 'vdpVlan' | 'failReason' | 'attempts' | 'nextRetryAt'>
>

interface Row {
  port_uuid: string
  mac: string
  net_uuid: string
  segmentation_id: number
  vm_name: string | null
  vm_uuid: string | null
  ipv4: string | null
  requested_vlan: number | null
  desired: VsiDesired
  state: VsiState
  uplink: string | null
  local_vlan: number | null
  vdp_vlan: number | null
  fail_reason: string | null
  attempts: number
  next_retry_at: number | null
  created_at: number
  updated_at: number
}

const fromRow = (r: Row): VsiRecord => ({
  portUuid: r.port_uuid,
  mac: r.mac,
  netUuid: r.net_uuid,
  segmentationId: r.segmentation_id,
  vmName: r.vm_name,
  vmUuid: r.vm_uuid,
  ipv4: r.ipv4,
  vlan: r.requested_vlan,
  desired: r.desired,
  state: r.state,
  uplink: r.uplink,
  localVlan: r.local_vlan,
  vdpVlan: r.vdp_vlan,
  failReason: r.fail_reason,
  attempts: r.attempts,
  nextRetryAt: r.next_retry_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

const COLUMNS: Record<keyof VsiUpdate, string> = {
  state: 'state',
  uplink: 'uplink',
  localVlan: 'local_vlan',
  vdpVlan: 'vdp_vlan',
  failReason: 'fail_reason',
  attempts: 'attempts',
  nextRetryAt: 'next_retry_at',
}

export class VsiRepo {
  private readonly upsertUpStmt: Database.Statement
  private readonly markDownStmt: Database.Statement
  private readonly getStmt: Database.Statement<[string], Row>
  private readonly listStmt: Database.Statement<[], Row>
  private readonly deleteStmt: Database.Statement
  private readonly countsStmt: Database.Statement<[], {state: VsiState; n: number}>
  private readonly getManyStmt: Database.Statement<[string], Row>
  private readonly markManyStmt: Database.Statement
  private readonly updateStmts = new Map<string, Database.Statement>()

  constructor(private readonly db: Database.Database) {
    // A repeated "up" with unchanged parameters keeps an association as it is; anything else re-drives it.
    this.upsertUpStmt = db.prepare(`
      INSERT INTO vsi (port_uuid, mac, net_uuid, segmentation_id, vm_name, vm_uuid, ipv4, requested_vlan, desired, state,
                       attempts, created_at, updated_at)
      VALUES (@portUuid, @mac, @netUuid, @segmentationId, @vmName, @vmUuid, @ipv4, @vlan, 'up', 'pending', 0, @now, @now)
      ON CONFLICT (port_uuid) DO UPDATE SET
        state = CASE WHEN vsi.state = 'associated' AND vsi.desired = 'up' AND vsi.mac = excluded.mac
                       AND vsi.net_uuid = excluded.net_uuid AND vsi.segmentation_id = excluded.segmentation_id
                       AND vsi.requested_vlan IS excluded.requested_vlan
                     THEN vsi.state ELSE 'pending' END,
        requested_vlan = excluded.requested_vlan,
        mac = excluded.mac, net_uuid = excluded.net_uuid, segmentation_id = excluded.segmentation_id,
        vm_name = excluded.vm_name, vm_uuid = excluded.vm_uuid, ipv4 = excluded.ipv4, desired = 'up',
        attempts = 0, next_retry_at = NULL, updated_at = excluded.updated_at`)
    this.markDownStmt = db.prepare(
      `UPDATE vsi SET desired = 'down', state = 'pending', attempts = 0, next_retry_at = NULL, updated_at = ? WHERE port_uuid = ?`,
    )
    this.getStmt = db.prepare('SELECT * FROM vsi WHERE port_uuid = ?')
    this.listStmt = db.prepare('SELECT * FROM vsi ORDER BY created_at, port_uuid')
    this.deleteStmt = db.prepare('DELETE FROM vsi WHERE port_uuid = ?')
    this.countsStmt = db.prepare('SELECT state, count(*) AS n FROM vsi GROUP BY state')
    // Many ports in one statement: a bulk of thousands costs one step, not thousands.
    this.getManyStmt = db.prepare('SELECT * FROM vsi WHERE port_uuid IN (SELECT value FROM json_each(?))')
    this.markManyStmt = db.prepare(
      'UPDATE vsi SET state = @state, uplink = @uplink, updated_at = @now WHERE port_uuid IN (SELECT value FROM json_each(@ports))',
    )
  }

  /** Record that a port should be associated. Returns the stored record. */
  requestUp(port: VmPort, now: number): VsiRecord {
    this.upsertUpStmt.run({vmName: null, vmUuid: null, ipv4: null, vlan: null, ...port, now: Math.round(now)})
    return this.get(port.portUuid)!
  }

  /** Record that a port should be deassociated; undefined when the port is unknown. */
  requestDown(portUuid: string, now: number): VsiRecord | undefined {
    this.markDownStmt.run(Math.round(now), portUuid)
    return this.get(portUuid)
  }

  update(portUuid: string, change: VsiUpdate, now: number): void {
    const keys = (Object.keys(change) as (keyof VsiUpdate)[]).filter((k) => change[k] !== undefined)
    const sqlKey = keys.join(',')
    let stmt = this.updateStmts.get(sqlKey)
    if (!stmt) {
      const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`).concat('updated_at = @now')
      stmt = this.db.prepare(`UPDATE vsi SET ${sets.join(', ')} WHERE port_uuid = @portUuid`)
      this.updateStmts.set(sqlKey, stmt)
    }
    stmt.run({
      ...change,
      ...(change.nextRetryAt != null ? {nextRetryAt: Math.round(change.nextRetryAt)} : {}),
      portUuid,
      now: Math.round(now),
    })
  }

  delete(portUuid: string): void {
    this.deleteStmt.run(portUuid)
  }

  get(portUuid: string): VsiRecord | undefined {
    const row = this.getStmt.get(portUuid)
    return row ? fromRow(row) : undefined
  }

  getMany(portUuids: readonly string[]): Map<string, VsiRecord> {
    return new Map(this.getManyStmt.all(JSON.stringify(portUuids)).map((r) => [r.port_uuid, fromRow(r)]))
  }

  /** Set the state (and uplink) of many ports at once. */
  markMany(portUuids: readonly string[], state: VsiState, uplink: string | null, now: number): void {
    this.markManyStmt.run({state, uplink, now: Math.round(now), ports: JSON.stringify(portUuids)})
  }

  list(): VsiRecord[] {
    return this.listStmt.all().map(fromRow)
  }

  countsByState(): Partial<Record<VsiState, number>> {
    const out: Partial<Record<VsiState, number>> = {}
    for (const {state, n} of this.countsStmt.all()) out[state] = n
    return out
  }
}
