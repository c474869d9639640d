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
