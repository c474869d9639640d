/**
 * The typed model of a decoded LLDP frame. Every TLV keeps enough to be re-encoded byte for byte:
 * reserved bits, raw flag octets, text encodings, and, for TLVs we do not understand or that fail
 * validation, the raw information octets.
 *
 * Binary fields are Buffers that are views into the decoded input (no copies); copy them if you keep them
 * after the input buffer is reused.
 */
import type {VlanTag} from '../core/ethernet.js'
import type {LldpRule, LldpRuleAction} from './rules.js'

/** How a string TLV's octets were read: UTF-8 when valid, Latin-1 otherwise (docs/lldp.md). */
export type TextEncoding = 'utf8' | 'latin1'

/** 'aa:bb:cc:dd:ee:ff', lower case. */
export type MacAddress = string

/** An address with its IANA address family number (1 IPv4, 2 IPv6, 6 IEEE 802 MAC, ...). */
export interface NetworkAddress {
  family: number
  familyName: string
  /**
   * Dotted quad for IPv4 (4 octets), RFC 5952 text for IPv6 (16 octets), 'aa:bb:..' for family 6 (6 octets);
   * any other family or length: the octets in hex, no separators.
   */
  address: string
}

/** A Chassis ID or Port ID value; `encoding` says how `value` maps back to octets. */
export type LldpId =
  | {subtype: number; subtypeName: string; encoding: 'mac'; value: MacAddress}
  | {subtype: number; subtypeName: string; encoding: 'text'; value: string}
  | {subtype: number; subtypeName: string; encoding: 'hex'; value: string}
  | {subtype: number; subtypeName: string; encoding: 'address'; value: NetworkAddress}

export interface LldpWarning {
  rule: LldpRule
  action: LldpRuleAction
  /** Byte offset in the decoded input (the whole frame for decodeLldpFrame). */
  offset: number
  message: string
}

// ---- basic TLVs (802.1AB §8.5) ----

interface EndTlv {
  kind: 'end'
  type: 0
}

export interface ChassisIdTlv {
  kind: 'chassisId'
  type: 1
  id: LldpId
}

export interface PortIdTlv {
  kind: 'portId'
  type: 2
  id: LldpId
}

export interface TtlTlv {
  kind: 'ttl'
  type: 3
  seconds: number
  /** Octets after the 2-octet TTL (only in lenient decodes of an over-long TLV). */
  extra: Buffer | undefined
}

export interface TextTlv<K extends string, T extends number> {
  kind: K
  type: T
  /** The exact string, NUL terminators included; see `encoding`. */
  value: string
  encoding: TextEncoding
}

type PortDescriptionTlv = TextTlv<'portDescription', 4>
type SystemNameTlv = TextTlv<'systemName', 5>
type SystemDescriptionTlv = TextTlv<'systemDescription', 6>

export interface SystemCapabilities {
  supported: number
  enabled: number
  supportedNames: readonly string[]
  enabledNames: readonly string[]
}

export interface SystemCapabilitiesTlv extends SystemCapabilities {
  kind: 'systemCapabilities'
  type: 7
}

export interface ManagementAddress {
  address: NetworkAddress
  /** 1 unknown, 2 ifIndex, 3 system port number. */
  interfaceSubtype: number
  interfaceSubtypeName: string
  interfaceNumber: number
  /** Dotted OID ('' when absent) when oidEncoding is 'oid'; hex octets when the BER is not canonical. */
  oid: string
  oidEncoding: 'oid' | 'hex'
}

export interface ManagementAddressTlv extends ManagementAddress {
  kind: 'managementAddress'
  type: 8
}

/** TLV types 9..126: reserved in 802.1AB, kept as octets. */
interface UnrecognizedTlv {
  kind: 'unrecognized'
  type: number
  data: Buffer
}

/** A TLV that failed validation (lenient mode): kept raw, excluded from the convenience fields. */
export interface MalformedTlv {
  kind: 'malformed'
  type: number
  /** The length in the TLV header; larger than data.length when the TLV was cut off. */
  declaredLength: number
  data: Buffer
  rule: LldpRule
  reason: string
}

// ---- organizationally specific TLVs (type 127) ----

interface OrgTlvBase {
  type: 127
  /** 'xx-xx-xx', lower case. */
  oui: string
  subtype: number
}

/** Any OUI/subtype we do not decode: kept as octets after the OUI and subtype. */
interface OrgSpecificTlv extends OrgTlvBase {
  kind: 'orgSpecific'
  data: Buffer
}

// IEEE 802.1 (00-80-C2)

export interface PortVlanIdTlv extends OrgTlvBase {
  kind: 'portVlanId'
  pvid: number
}

export interface PortProtocolVlanIdTlv extends OrgTlvBase {
  kind: 'portProtocolVlanId'
  /** The raw flags octet; bit 1 supported, bit 2 enabled. */
  flags: number
  supported: boolean
  enabled: boolean
  ppvid: number
}

export interface VlanNameTlv extends OrgTlvBase {
  kind: 'vlanName'
  vid: number
  name: string
  nameEncoding: TextEncoding
}

export interface ProtocolIdentityTlv extends OrgTlvBase {
  kind: 'protocolIdentity'
  identity: Buffer
}

export interface VidUsageDigestTlv extends OrgTlvBase {
  kind: 'vidUsageDigest'
  digest: number
}

export interface ManagementVidTlv extends OrgTlvBase {
  kind: 'managementVid'
  vid: number
}

/** 802.1 (subtype 7) and the deprecated 802.3 (subtype 3) link aggregation TLVs share this layout. */
export interface LinkAggregation {
  /** Raw status octet: bit 0 capable, bit 1 enabled, bits 2-3 port type (802.1AX-2014). */
  status: number
  capable: boolean
  enabled: boolean
  portType: number
  portId: number
}

export interface LinkAggregationTlv extends OrgTlvBase, LinkAggregation {
  kind: 'linkAggregation'
}

export interface CongestionNotificationTlv extends OrgTlvBase {
  kind: 'congestionNotification'
  /** Bit n set: priority n is a congestion-notification priority value (CNPV). */
  cnpvIndicators: number
  /** Bit n set: priority n is ready. */
  readyIndicators: number
}

export interface EtsTables {
  /** Traffic class of each priority 0..7 (4 bits each). */
  priorityAssignment: number[]
  /** Bandwidth percent of each traffic class 0..7. */
  tcBandwidth: number[]
  /** Transmission selection algorithm of each traffic class 0..7 (0 strict, 1 CBS, 2 ETS, 255 vendor). */
  tsaAssignment: number[]
}

export interface EtsConfigurationTlv extends OrgTlvBase, EtsTables {
  kind: 'etsConfiguration'
  willing: boolean
  cbs: boolean
  /** Bits 5..3 of the first octet. */
  reserved: number
  /** Max traffic classes, as sent (3 bits; 0 means 8). */
  maxTcs: number
}

export interface EtsRecommendationTlv extends OrgTlvBase, EtsTables {
  kind: 'etsRecommendation'
  reserved: number
}

export interface PfcConfigurationTlv extends OrgTlvBase {
  kind: 'pfcConfiguration'
  willing: boolean
  mbc: boolean
  reserved: number
  pfcCapability: number
  /** Bit n set: PFC enabled on priority n. */
  pfcEnable: number
}

export interface ApplicationPriorityEntry {
  priority: number
  reserved: number
  /** 1 EtherType, 2 TCP/SCTP port, 3 UDP/DCCP port, 4 TCP/SCTP/UDP/DCCP port, 5 DSCP. */
  selector: number
  protocolId: number
}

export interface ApplicationPriorityTlv extends OrgTlvBase {
  kind: 'applicationPriority'
  reserved: number
  entries: ApplicationPriorityEntry[]
}

/** 802.1Qbg-2012 EVB TLV (docs/wire-notes.md §EVB TLV). Booleans are the single-bit flags. */
export interface EvbTlv {
  bgid: boolean
  rrcap: boolean
  rrctr: boolean
  sgid: boolean
  rrreq: boolean
  /** 0 RR not enabled, 1 enabled, 2 reserved, 3 unknown (no bridge TLV seen yet). */
  rrstat: 0 | 1 | 2 | 3
  /** ECP maximum retries R (0..7). */
  retries: number
  /** ECP retransmission timer exponent (10 µs × 2^RTE). */
  rte: number
  mode: 'none' | 'bridge' | 'station' | 'reserved'
  rolRwd: boolean
  rwd: number
  rolRka: boolean
  rka: number
  /** Reserved bits, present only when some are set: bridge octet bits 7..3, station octet bits 7..4, RKA octet bits 7..6. */
  reserved?: {bridgeStatus: number; stationStatus: number; rka: number}
}

interface EvbOrgTlv extends OrgTlvBase {
  kind: 'evb'
  evb: EvbTlv
}

export interface CdcpChannel {
  scid: number
  svid: number
}

/** 802.1Qbg-2012 CDCP TLV (docs/wire-notes.md §CDCP TLV). */
export interface CdcpTlv {
  /** Role bit as sent; 802.1Qbg names the roles, our sources do not (docs/wire-notes.md §CDCP TLV). */
  role: 0 | 1
  scomp: boolean
  /** Channel capacity (12 bits). */
  channelCapacity: number
  channels: CdcpChannel[]
  /** Reserved bits, present only when some are set: bits 6..4 of octet 0, and the 15 bits between SComp and ChnCap. */
  reserved?: {afterRole: number; beforeChannelCapacity: number}
}

interface CdcpOrgTlv extends OrgTlvBase {
  kind: 'cdcp'
  cdcp: CdcpTlv
}

// IEEE 802.3 (00-12-0F)

export interface MacPhyTlv extends OrgTlvBase {
  kind: 'macPhy'
  /** Raw auto-negotiation octet: bit 0 supported, bit 1 enabled. */
  autoneg: number
  autonegSupported: boolean
  autonegEnabled: boolean
  /** PMD auto-negotiation advertised capability (ifMauAutoNegCapAdvertisedBits). */
  pmdCapability: number
  /** Operational MAU type (dot3MauType index, RFC 4836). */
  mauType: number
}

export interface PowerVia8023at {
  /** Raw octet: bits 7..6 power type, 5..4 source, 3..0 priority. */
  typeSourcePriority: number
  /** 0 Type 2 PSE, 1 Type 2 PD, 2 Type 1 PSE, 3 Type 1 PD. */
  powerType: number
  powerSource: number
  /** 0 unknown, 1 critical, 2 high, 3 low. */
  powerPriority: number
  /** PD requested power, 0.1 W units. */
  pdRequestedPower: number
  /** PSE allocated power, 0.1 W units. */
  pseAllocatedPower: number
}

export interface PowerVia8023bt {
  /** Dual-signature requested/allocated power, 0.1 W units. */
  pdRequestedPowerA: number
  pdRequestedPowerB: number
  pseAllocatedPowerA: number
  pseAllocatedPowerB: number
  /** Raw power status word; the fields below are its bit fields. */
  powerStatus: number
  psePoweringStatus: number
  pdPoweredStatus: number
  psePowerPairsExt: number
  dualSignatureClassA: number
  dualSignatureClassB: number
  powerClassExt: number
  /** Raw system setup octet: bits 3..1 power type ext, bit 0 PD load. */
  systemSetup: number
  powerTypeExt: number
  pdLoad: boolean
  /** PSE maximum available power, 0.1 W units. */
  pseMaxAvailablePower: number
  /** Raw autoclass octet: bit 2 PSE autoclass support, bit 1 completed, bit 0 request. */
  autoclass: number
  /** 24-bit power-down word: bits 23..18 request, 17..0 time (s). */
  powerDown: number
}

export interface PowerViaMdiTlv extends OrgTlvBase {
  kind: 'powerViaMdi'
  /** Raw MDI power support octet: bit 0 port class PSE, 1 supported, 2 enabled, 3 pairs controllable. */
  mdiPowerSupport: number
  portClass: 'pse' | 'pd'
  mdiPowerSupported: boolean
  mdiPowerEnabled: boolean
  pairControlAbility: boolean
  /** 1 signal pairs, 2 spare pairs. */
  psePowerPair: number
  /** As sent: 1..5 for class 0..4. */
  powerClass: number
  dot3at: PowerVia8023at | undefined
  dot3bt: PowerVia8023bt | undefined
}

export interface Dot3LinkAggregationTlv extends OrgTlvBase, LinkAggregation {
  kind: 'dot3LinkAggregation'
}

export interface MaxFrameSizeTlv extends OrgTlvBase {
  kind: 'maxFrameSize'
  maxFrameSize: number
}

// TIA LLDP-MED (00-12-BB), ANSI/TIA-1057

export interface MedCapabilitiesTlv extends OrgTlvBase {
  kind: 'medCapabilities'
  capabilities: number
  capabilityNames: readonly string[]
  /** 0 not defined, 1..3 endpoint class I..III, 4 network connectivity. */
  deviceType: number
}

export interface MedNetworkPolicyTlv extends OrgTlvBase {
  kind: 'medNetworkPolicy'
  applicationType: number
  unknownPolicy: boolean
  tagged: boolean
  /** The reserved X bit. */
  reserved: number
  vlanId: number
  l2Priority: number
  dscp: number
}

export interface CivicAddressElement {
  caType: number
  value: string
  encoding: TextEncoding
}

export type MedLocation =
  | {
      format: 'coordinate'
      /** RFC 3825 fields as sent (fixed point); latitude/longitude/altitude are the derived numbers. */
      latitudeResolution: number
      latitudeRaw: number
      longitudeResolution: number
      longitudeRaw: number
      altitudeType: number
      altitudeResolution: number
      altitudeRaw: number
      datum: number
      latitude: number
      longitude: number
      altitude: number
    }
  | {
      format: 'civic'
      /** 0 DHCP server, 1 network element, 2 client. */
      what: number
      countryCode: string
      elements: CivicAddressElement[]
      /** Octets after the LCI (some switches pad the TLV); kept for the round trip. */
      trailing: Buffer | undefined
    }
  | {format: 'elin'; elin: string; encoding: TextEncoding}

export interface MedLocationTlv extends OrgTlvBase {
  kind: 'medLocation'
  /** 1 coordinate LCI, 2 civic address LCI, 3 ECS ELIN. */
  dataFormat: number
  location: MedLocation
}

export interface MedExtendedPowerTlv extends OrgTlvBase {
  kind: 'medExtendedPower'
  /** Raw octet: bits 7..6 power type, 5..4 source, 3..0 priority. */
  typeSourcePriority: number
  powerType: number
  powerSource: number
  powerPriority: number
  /** 0.1 W units. */
  powerValue: number
}

type MedInventoryField =
  | 'hardwareRevision'
  | 'firmwareRevision'
  | 'softwareRevision'
  | 'serialNumber'
  | 'manufacturerName'
  | 'modelName'
  | 'assetId'

export interface MedInventoryTlv extends OrgTlvBase {
  kind: 'medInventory'
  field: MedInventoryField
  value: string
  encoding: TextEncoding
}

// IANA (00-00-5E)

export interface MudUrlTlv extends OrgTlvBase {
  kind: 'mudUrl'
  url: string
  encoding: TextEncoding
}

export type OrgTlv =
  | OrgSpecificTlv
  | PortVlanIdTlv
  | PortProtocolVlanIdTlv
  | VlanNameTlv
  | ProtocolIdentityTlv
  | VidUsageDigestTlv
  | ManagementVidTlv
  | LinkAggregationTlv
  | CongestionNotificationTlv
  | EtsConfigurationTlv
  | EtsRecommendationTlv
  | PfcConfigurationTlv
  | ApplicationPriorityTlv
  | EvbOrgTlv
  | CdcpOrgTlv
  | MacPhyTlv
  | PowerViaMdiTlv
  | Dot3LinkAggregationTlv
  | MaxFrameSizeTlv
  | MedCapabilitiesTlv
  | MedNetworkPolicyTlv
  | MedLocationTlv
  | MedExtendedPowerTlv
  | MedInventoryTlv
  | MudUrlTlv

export type LldpTlv =
  | EndTlv
  | ChassisIdTlv
  | PortIdTlv
  | TtlTlv
  | PortDescriptionTlv
  | SystemNameTlv
  | SystemDescriptionTlv
  | SystemCapabilitiesTlv
  | ManagementAddressTlv
  | UnrecognizedTlv
  | MalformedTlv
  | OrgTlv

/** A decoded LLDPDU with the fields the daemon needs lifted out of the TLV list. */
export interface Lldpdu {
  tlvs: LldpTlv[]
  /** Octets after the End TLV (Ethernet padding, a captured FCS, junk), kept for byte-exact re-encoding. */
  trailer: Buffer
  chassisId: LldpId
  portId: LldpId
  ttl: number
  /** TTL 0: the sender is going away; delete its MSAP now. */
  isShutdown: boolean
  /** Display strings: the first TLV of each type, up to its first NUL (as every LLDP receiver shows them). */
  portDescription: string | undefined
  systemName: string | undefined
  systemDescription: string | undefined
  capabilities: SystemCapabilities | undefined
  /** Read-only: frames without any share one empty array. */
  managementAddresses: readonly ManagementAddress[]
  /** The first well-formed EVB TLV. */
  evb: EvbTlv | undefined
  /** Rule violations (lenient mode) and notes (both modes). Read-only: frames without any share one empty array. */
  warnings: readonly LldpWarning[]
  /** True when a warning says 802.1AB would discard the whole LLDPDU (only possible in lenient mode). */
  discardRequired: boolean
}

export interface LldpFrame extends Lldpdu {
  dst: MacAddress
  src: MacAddress
  /** Outermost first; empty when untagged (read-only: untagged frames share one empty array). */
  vlanTags: readonly VlanTag[]
}

export interface DecodeOptions {
  /** Throw LldpDecodeError on the first 802.1AB violation instead of collecting warnings. */
  strict?: boolean
}
