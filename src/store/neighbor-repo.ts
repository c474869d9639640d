import type Database from 'better-sqlite3'

import type {EvbTlv} from '../lldp/types.js'
import type {NeighborCapabilities, NeighborMgmtAddress, NeighborRecord} from '../model/neighbor.js'
import {parseJsonColumn} from './json.js'

interface Row {
  ifname: string
  dest_address: string
  chassis_id: string
  port_id: string
  chassis_subtype: number
  port_subtype: number
  src_mac: string
  ttl: number
  expires_at: number
  system_name: string | null
  system_description: string | null
  port_description: string | null
  mgmt_addresses: string
  capabilities: string | null
  evb: string | null
  first_seen: number
  last_seen: number
}

const fromRow = (r: Row): NeighborRecord => ({
  ifname: r.ifname,
  destAddress: r.dest_address,
  chassisId: r.chassis_id,
  portId: r.port_id,
  chassisSubtype: r.chassis_subtype,
  portSubtype: r.port_subtype,
  srcMac: r.src_mac,
  ttl: r.ttl,
  expiresAt: r.expires_at,
  systemName: r.system_name,
  systemDescription: r.system_description,
  portDescription: r.port_description,
  mgmtAddresses: parseJsonColumn<NeighborMgmtAddress[]>(r.mgmt_addresses, []),
  capabilities: parseJsonColumn<NeighborCapabilities | null>(r.capabilities, null),
  evb: parseJsonColumn<EvbTlv | null>(r.evb, null),
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
})

export class NeighborRepo {
  private readonly upsertStmt: Database.Statement
  private readonly deleteStmt: Database.Statement
  private readonly deleteIfStmt: Database.Statement
  private readonly listStmt: Database.Statement<[], Row>
  private readonly countStmt: Database.Statement<[], {n: number}>

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO lldp_neighbors (ifname, dest_address, chassis_id, port_id, chassis_subtype, port_subtype, src_mac, ttl, expires_at,
        system_name, system_description, port_description, mgmt_addresses, capabilities, evb, first_seen, last_seen)
      VALUES (@ifname, @destAddress, @chassisId, @portId, @chassisSubtype, @portSubtype, @srcMac, @ttl, @expiresAt, @systemName,
        @systemDescription, @portDescription, @mgmtAddresses, @capabilities, @evb, @firstSeen, @lastSeen)
      ON CONFLICT (ifname, dest_address, chassis_id, port_id) DO UPDATE SET chassis_subtype = excluded.chassis_subtype,
        port_subtype = excluded.port_subtype, src_mac = excluded.src_mac, ttl = excluded.ttl,
        expires_at = excluded.expires_at, system_name = excluded.system_name,
        system_description = excluded.system_description, port_description = excluded.port_description,
        mgmt_addresses = excluded.mgmt_addresses, capabilities = excluded.capabilities, evb = excluded.evb,
        last_seen = excluded.last_seen`)
    this.deleteStmt = db.prepare(
      'DELETE FROM lldp_neighbors WHERE ifname = ? AND dest_address = ? AND chassis_id = ? AND port_id = ?',
    )
    this.deleteIfStmt = db.prepare('DELETE FROM lldp_neighbors WHERE ifname = ?')
    this.listStmt = db.prepare('SELECT * FROM lldp_neighbors ORDER BY ifname, dest_address, chassis_id, port_id')
    this.countStmt = db.prepare('SELECT count(*) AS n FROM lldp_neighbors')
  }

  upsert(n: NeighborRecord): void {
    this.upsertStmt.run({
      ...n,
      expiresAt: Math.round(n.expiresAt),
      firstSeen: Math.round(n.firstSeen),
      lastSeen: Math.round(n.lastSeen),
      mgmtAddresses: JSON.stringify(n.mgmtAddresses),
      capabilities: n.capabilities === null ? null : JSON.stringify(n.capabilities),
      evb: n.evb === null ? null : JSON.stringify(n.evb),
    })
  }

  delete(n: Pick<NeighborRecord, 'ifname' | 'destAddress' | 'chassisId' | 'portId'>): void {
    this.deleteStmt.run(n.ifname, n.destAddress, n.chassisId, n.portId)
  }

  deleteInterface(ifname: string): void {
    this.deleteIfStmt.run(ifname)
  }

  list(): NeighborRecord[] {
    return this.listStmt.all().map(fromRow)
  }

  count(): number {
    return this.countStmt.get()!.n
  }
}
