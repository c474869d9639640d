/** A VM port (VSI) and its association with the switch, as the agent keeps it. */

/**
 * pending: wants work (waiting for its turn, for the uplink or for a retry); associating/deassociating:
 * a VDP exchange is under way; associated: the switch accepted it (vdp_vlan holds its VLAN); failed: the
 * retry budget is spent (kept, reported, retried on the next uplink up or VM event).
 */
export type VsiState = 'pending' | 'associating' | 'associated' | 'deassociating' | 'failed'
export type VsiDesired = 'up' | 'down'

/** What the controller (or the CLI) tells us about a VM port. */
export interface VmPort {
  portUuid: string
  mac: string
  netUuid: string
  segmentationId: number
  vmName?: string | null
  vmUuid?: string | null
  ipv4?: string | null
  /** Ask the switch for this VLAN; null: VID 0, the switch assigns one. */
  vlan?: number | null
}

/**
 * A VM port as the VDP session needs it: the port, and what a switch last held of it. A restarted agent asks
 * for the VLAN the switch gave (a strict switch ignores a request that differs from what it holds: docs/vdp.md).
 */
export interface VdpPort extends VmPort {
  /** The VLAN the switch gave it last; null: none known. */
  vdpVlan: number | null
  /** The uplink it was last sent to a switch on; null: never sent. */
  uplink: string | null
}

/** The VDP view of a recorded port (its desired state, attempts and times stay with the record). */
export function vdpPortOf(rec: VsiRecord): VdpPort {
  const {portUuid, mac, netUuid, segmentationId, vmName, vmUuid, ipv4, vlan, vdpVlan, uplink} = rec
  return {portUuid, mac, netUuid, segmentationId, vmName, vmUuid, ipv4, vlan, vdpVlan, uplink}
}

export interface VsiRecord extends Required<VmPort> {
  desired: VsiDesired
  state: VsiState
  uplink: string | null
  localVlan: number | null
  vdpVlan: number | null
  failReason: string | null
  attempts: number
  nextRetryAt: number | null
  /** Epoch milliseconds from the agent's clock (docs/architecture.md, one time base). */
  createdAt: number
  updatedAt: number
}
