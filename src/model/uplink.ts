/** The uplink to the ToR switch as the agent records and reports it. */
import type {EvbNegotiated} from './evb.js'

/** How the uplink was chosen: the override file, the config's static ifname, or LLDP discovery of the bridge. */
export type UplinkSource = 'override' | 'config' | 'lldp'
export type UplinkLinkState = 'none' | 'up' | 'down'

export interface UplinkRecord {
  /** The uplink in use: the bond when the detected port is a bond slave. */
  ifname: string | null
  source: UplinkSource | null
  state: UplinkLinkState
  /** The port the EVB neighbour was heard on (differs from ifname for bond slaves). */
  detectedOn: string | null
  bondMembers: string[]
  reason: string | null
  /** Epoch milliseconds (docs/architecture.md, Time). */
  changedAt: number
  updatedAt: number
  /** The EVB values negotiated with the bridge on this uplink (ECP/VDP run with them); null before. */
  evb?: EvbNegotiated | null
}
