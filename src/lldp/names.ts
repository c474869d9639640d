/** Names for numeric LLDP fields, used by the decoder (subtype names) and the formatter. */

const TLV_TYPE_NAMES: Record<number, string> = {
  0: 'End',
  1: 'Chassis ID',
  2: 'Port ID',
  3: 'Time to Live',
  4: 'Port Description',
  5: 'System Name',
  6: 'System Description',
  7: 'System Capabilities',
  8: 'Management Address',
  127: 'Organization specific',
}

export function tlvTypeName(type: number): string {
  return TLV_TYPE_NAMES[type] ?? `Reserved type ${type}`
}

// 802.1AB-2009 Tables 8-2 / 8-3; docs/wire-notes.md §LLDP ID subtypes
const CHASSIS_ID_SUBTYPES = [
  'reserved',
  'chassis component',
  'interface alias',
  'port component',
  'MAC address',
  'network address',
  'interface name',
  'local',
]
const PORT_ID_SUBTYPES = [
  'reserved',
  'interface alias',
  'port component',
  'MAC address',
  'network address',
  'interface name',
  'agent circuit ID',
  'local',
]

export function chassisIdSubtypeName(subtype: number): string {
  return CHASSIS_ID_SUBTYPES[subtype] ?? 'reserved'
}

export function portIdSubtypeName(subtype: number): string {
  return PORT_ID_SUBTYPES[subtype] ?? 'reserved'
}

/** IANA Address Family Numbers (the values LLDP uses). */
const ADDRESS_FAMILIES: Record<number, string> = {
  0: 'other',
  1: 'IPv4',
  2: 'IPv6',
  3: 'NSAP',
  4: 'HDLC',
  5: 'BBN 1822',
  6: 'IEEE 802',
  7: 'E.163',
  8: 'E.164',
  9: 'F.69',
  10: 'X.121',
  11: 'IPX',
  12: 'AppleTalk',
  13: 'DECnet IV',
  14: 'Banyan Vines',
  15: 'E.164 with NSAP',
  16: 'DNS',
}

export function addressFamilyName(family: number): string {
  return ADDRESS_FAMILIES[family] ?? `family ${family}`
}

// 802.1AB-2009 system capabilities; docs/wire-notes.md §System capabilities
export const SYSTEM_CAPABILITY_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x0001, 'Other'],
  [0x0002, 'Repeater'],
  [0x0004, 'Bridge'],
  [0x0008, 'WLAN AP'],
  [0x0010, 'Router'],
  [0x0020, 'Telephone'],
  [0x0040, 'DOCSIS'],
  [0x0080, 'Station Only'],
  [0x0100, 'C-VLAN'],
  [0x0200, 'S-VLAN'],
  [0x0400, 'TPMR'],
]

const INTERFACE_SUBTYPES = ['unknown', 'unknown', 'ifIndex', 'system port number']

export function interfaceSubtypeName(subtype: number): string {
  return INTERFACE_SUBTYPES[subtype] ?? `subtype ${subtype}`
}

const OUI_NAMES: Record<string, string> = {
  '00-80-c2': 'IEEE 802.1',
  '00-12-0f': 'IEEE 802.3',
  '00-12-bb': 'TIA LLDP-MED',
  '00-00-5e': 'IANA',
  '00-1b-3f': 'IEEE 802.1Qbg draft',
  '00-00-0c': 'Cisco',
  '00-01-42': 'Cisco',
  '00-1b-21': 'Intel DCBX',
  '00-04-0d': 'Avaya',
}

export function ouiName(oui: string): string {
  return OUI_NAMES[oui] ?? 'unknown OUI'
}

export const EVB_MODES = ['none', 'bridge', 'station', 'reserved'] as const

/** ifMauAutoNegCapAdvertisedBits as carried in the MAC/PHY TLV (most significant bit = bit 0). */
export const PMD_CAPABILITY_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x8000, 'other'],
  [0x4000, '10BASE-T hdx'],
  [0x2000, '10BASE-T fdx'],
  [0x1000, '100BASE-T4'],
  [0x0800, '100BASE-TX hdx'],
  [0x0400, '100BASE-TX fdx'],
  [0x0200, '100BASE-T2 hdx'],
  [0x0100, '100BASE-T2 fdx'],
  [0x0080, 'PAUSE'],
  [0x0040, 'asymmetric PAUSE'],
  [0x0020, 'symmetric PAUSE'],
  [0x0010, 'asymmetric and symmetric PAUSE'],
  [0x0008, '1000BASE-X hdx'],
  [0x0004, '1000BASE-X fdx'],
  [0x0002, '1000BASE-T hdx'],
  [0x0001, '1000BASE-T fdx'],
]

/** dot3MauType (RFC 4836 / IANA-MAU-MIB) by index. */
const MAU_TYPES = [
  'other',
  'AUI',
  '10Base5',
  'FOIRL',
  '10Base2',
  '10BaseT',
  '10BaseFP',
  '10BaseFB',
  '10BaseFL',
  '10Broad36',
  '10BaseTHD',
  '10BaseTFD',
  '10BaseFLHD',
  '10BaseFLFD',
  '100BaseT4',
  '100BaseTXHD',
  '100BaseTXFD',
  '100BaseFXHD',
  '100BaseFXFD',
  '100BaseT2HD',
  '100BaseT2FD',
  '1000BaseXHD',
  '1000BaseXFD',
  '1000BaseLXHD',
  '1000BaseLXFD',
  '1000BaseSXHD',
  '1000BaseSXFD',
  '1000BaseCXHD',
  '1000BaseCXFD',
  '1000BaseTHD',
  '1000BaseTFD',
  '10GigBaseX',
  '10GigBaseLX4',
  '10GigBaseR',
  '10GigBaseER',
  '10GigBaseLR',
  '10GigBaseSR',
  '10GigBaseW',
  '10GigBaseEW',
  '10GigBaseLW',
  '10GigBaseSW',
  '10GigBaseCX4',
  '2BaseTL',
  '10PassTS',
  '100BaseBX10D',
  '100BaseBX10U',
  '100BaseLX10',
  '1000BaseBX10D',
  '1000BaseBX10U',
  '1000BaseLX10',
  '1000BasePX10D',
  '1000BasePX10U',
  '1000BasePX20D',
  '1000BasePX20U',
  '10GbaseT',
  '10GbaseLRM',
  '1000baseKX',
  '10GbaseKX4',
  '10GbaseKR',
]

export function mauTypeName(mauType: number): string {
  return MAU_TYPES[mauType] ?? 'unknown'
}

export const MDI_POWER_CLASS_NAMES = ['unknown', 'class 0', 'class 1', 'class 2', 'class 3', 'class 4']

export const MED_CAPABILITY_BITS: ReadonlyArray<readonly [number, string]> = [
  [0x0001, 'LLDP-MED capabilities'],
  [0x0002, 'network policy'],
  [0x0004, 'location identification'],
  [0x0008, 'extended power via MDI-PSE'],
  [0x0010, 'extended power via MDI-PD'],
  [0x0020, 'inventory'],
]

const MED_DEVICE_TYPES = [
  'not defined',
  'endpoint class I',
  'endpoint class II',
  'endpoint class III',
  'network connectivity',
]

export function medDeviceTypeName(deviceType: number): string {
  return MED_DEVICE_TYPES[deviceType] ?? `reserved (${deviceType})`
}

const MED_APPLICATION_TYPES = [
  'reserved',
  'voice',
  'voice signaling',
  'guest voice',
  'guest voice signaling',
  'softphone voice',
  'video conferencing',
  'streaming video',
  'video signaling',
]

export function medApplicationTypeName(applicationType: number): string {
  return MED_APPLICATION_TYPES[applicationType] ?? `reserved (${applicationType})`
}

/** RFC 4776 / RFC 5139 civic address CA types. */
const CIVIC_CA_TYPES: Record<number, string> = {
  0: 'language',
  1: 'national subdivision',
  2: 'county',
  3: 'city',
  4: 'city division',
  5: 'neighborhood',
  6: 'street',
  16: 'leading street direction',
  17: 'trailing street suffix',
  18: 'street suffix',
  19: 'house number',
  20: 'house number suffix',
  21: 'landmark',
  22: 'additional location',
  23: 'name',
  24: 'postal code',
  25: 'building',
  26: 'unit',
  27: 'floor',
  28: 'room',
  29: 'place type',
  30: 'postal community',
  31: 'post office box',
  32: 'additional code',
  33: 'seat',
  34: 'primary road',
  35: 'road section',
  36: 'road branch',
  37: 'road sub-branch',
  38: 'road pre-modifier',
  39: 'road post-modifier',
  128: 'script',
}

export function civicCaTypeName(caType: number): string {
  return CIVIC_CA_TYPES[caType] ?? `CA type ${caType}`
}

export const MED_INVENTORY_FIELDS = [
  'hardwareRevision',
  'firmwareRevision',
  'softwareRevision',
  'serialNumber',
  'manufacturerName',
  'modelName',
  'assetId',
] as const
