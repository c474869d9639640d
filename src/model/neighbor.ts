/** An LLDP neighbour as the agent records and shows it. */
import type {EvbTlv} from '../lldp/types.js'

/** A management address (802.1AB 8.5.9) as recorded: the family's name, the address as text, the interface numbering. */
export interface NeighborMgmtAddress {
  family: string
  address: string
  ifSubtype: number
  ifNumber: number
}

/** The system capabilities (802.1AB 8.5.8) by name: what the neighbour supports and what it has enabled. */
export interface NeighborCapabilities {
  supported: readonly string[]
  enabled: readonly string[]
}

/**
 * One LLDP neighbour (an MSAP: chassis ID + port ID) heard on one local interface by one LLDP agent: 802.1AB
 * keeps a remote database per agent, named by the destination group address its LLDPDUs were sent to
 * (01:80:c2:00:00:0e nearest bridge, :03 nearest non-TPMR bridge, :00 nearest customer bridge).
 */
export interface NeighborRecord {
  ifname: string
  /** The LLDP agent: the group address the neighbour's LLDPDUs were sent to. */
  destAddress: string
  chassisId: string
  portId: string
  chassisSubtype: number
  portSubtype: number
  srcMac: string
  ttl: number
  expiresAt: number
  systemName: string | null
  systemDescription: string | null
  portDescription: string | null
  mgmtAddresses: NeighborMgmtAddress[]
  capabilities: NeighborCapabilities | null
  /** The neighbour's EVB TLV, decoded; null when it sends none. */
  evb: EvbTlv | null
  firstSeen: number
  lastSeen: number
}
