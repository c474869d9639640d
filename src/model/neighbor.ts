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
  mgmtAddresses: unknown[]
  capabilities: unknown
  /** The neighbour's EVB TLV, decoded; null when it sends none. */
  evb: unknown
  firstSeen: number
  lastSeen: number
}
