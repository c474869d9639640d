/**
 * Builds the LLDPDUs the agent transmits: validated against the 802.1AB transmit limits (ID and string
 * lengths, one LLDPDU per frame), End TLV appended, zero-padded to the 60-octet Ethernet minimum.
 */
import {ETHERNET_MIN_FRAME_LENGTH, isMacText, type VlanTag} from '../core/ethernet.js'
import {
  ADDRESS_FAMILY_802,
  ADDRESS_FAMILY_IPV4,
  ADDRESS_FAMILY_IPV6,
  CHASSIS_SUBTYPE_MAC,
  CHASSIS_SUBTYPE_NETWORK_ADDRESS,
  capabilityNames,
  networkAddressOctets,
  PORT_SUBTYPE_MAC,
  PORT_SUBTYPE_NETWORK_ADDRESS,
} from './basic.js'
import {encodeLldpFrame} from './encode.js'
import {LldpEncodeError} from './errors.js'
import {OUI_8021} from './ieee8021.js'
import {
  addressFamilyName,
  chassisIdSubtypeName,
  interfaceSubtypeName,
  portIdSubtypeName,
  SYSTEM_CAPABILITY_BITS,
} from './names.js'
import {encodeOid} from './octets.js'
import type {
  EvbTlv,
  LldpId,
  LldpTlv,
  MacAddress,
  ManagementAddressTlv,
  NetworkAddress,
  SystemCapabilitiesTlv,
} from './types.js'

/** An ID as the caller knows it; the encoding is inferred from the subtype when not given. */
type LldpIdInput = LldpId | {subtype: number; value: string | NetworkAddress; encoding?: undefined}

interface ManagementAddressInput {
  /** An IPv4/IPv6/MAC text address, or a NetworkAddress for other families. */
  address: string | NetworkAddress
  /** Default 2 (ifIndex) when interfaceNumber is given, else 1 (unknown). */
  interfaceSubtype?: number
  interfaceNumber?: number
  /** Dotted OID, default none. */
  oid?: string
}

export interface BuildLldpFrameOptions {
  dst: MacAddress
  src: MacAddress
  vlanTags?: VlanTag[]
  chassisId: LldpIdInput
  portId: LldpIdInput
  ttl: number
  portDescription?: string
  systemName?: string
  systemDescription?: string
  /** Bit masks, or capability names as in names.ts ('Bridge', 'Station Only', ...). */
  capabilities?: {supported: number | readonly string[]; enabled: number | readonly string[]}
  managementAddresses?: ManagementAddressInput[]
  evb?: EvbTlv
  /** Appended after the TLVs above, before End. */
  extraTlvs?: LldpTlv[]
}

const MAX_LLDPDU_LENGTH = 1500

export function buildLldpFrame(opts: BuildLldpFrameOptions): Buffer {
  const tlvs: LldpTlv[] = [
    {kind: 'chassisId', type: 1, id: toId(opts.chassisId, false)},
    {kind: 'portId', type: 2, id: toId(opts.portId, true)},
    {kind: 'ttl', type: 3, seconds: checked(opts.ttl, 0xffff, 'TTL'), extra: undefined},
  ]
  if (opts.portDescription !== undefined)
    tlvs.push({
      kind: 'portDescription',
      type: 4,
      value: text(opts.portDescription, 'port description'),
      encoding: 'utf8',
    })
  if (opts.systemName !== undefined)
    tlvs.push({kind: 'systemName', type: 5, value: text(opts.systemName, 'system name'), encoding: 'utf8'})
  if (opts.systemDescription !== undefined)
    tlvs.push({
      kind: 'systemDescription',
      type: 6,
      value: text(opts.systemDescription, 'system description'),
      encoding: 'utf8',
    })
  if (opts.capabilities) tlvs.push(capabilitiesTlv(opts.capabilities.supported, opts.capabilities.enabled))
  for (const m of opts.managementAddresses ?? []) tlvs.push(managementAddressTlv(m))
  if (opts.evb) tlvs.push({kind: 'evb', type: 127, oui: OUI_8021, subtype: 0x0d, evb: opts.evb})
  if (opts.extraTlvs) tlvs.push(...opts.extraTlvs)
  tlvs.push({kind: 'end', type: 0})

  const headerLength = 14 + 4 * (opts.vlanTags?.length ?? 0)
  const unpadded = encodeLldpFrame({dst: opts.dst, src: opts.src, vlanTags: opts.vlanTags, tlvs})
  if (unpadded.length - headerLength > MAX_LLDPDU_LENGTH) {
    throw new LldpEncodeError(
      `LLDPDU of ${unpadded.length - headerLength} octets does not fit one frame (max ${MAX_LLDPDU_LENGTH})`,
    )
  }
  if (unpadded.length >= ETHERNET_MIN_FRAME_LENGTH) return unpadded
  const padded = Buffer.alloc(ETHERNET_MIN_FRAME_LENGTH)
  unpadded.copy(padded)
  return padded
}

function checked(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new LldpEncodeError(`${field} must be an integer 0..${max}, got ${String(value)}`)
  return value
}

function text(value: string, field: string): string {
  if (Buffer.byteLength(value, 'utf8') > 255) throw new LldpEncodeError(`${field} is longer than 255 octets`)
  return value
}

function addressFromText(address: string): NetworkAddress {
  const family = isMacText(address, {hyphens: true})
    ? ADDRESS_FAMILY_802
    : address.includes(':')
      ? ADDRESS_FAMILY_IPV6
      : ADDRESS_FAMILY_IPV4
  const value: NetworkAddress = {
    family,
    familyName: addressFamilyName(family),
    address: family === ADDRESS_FAMILY_802 ? address.toLowerCase() : address,
  }
  networkAddressOctets(value) // validates
  return value
}

function toId(input: LldpIdInput, isPort: boolean): LldpId {
  checked(input.subtype, 255, isPort ? 'Port ID subtype' : 'Chassis ID subtype')
  const subtypeName = isPort ? portIdSubtypeName(input.subtype) : chassisIdSubtypeName(input.subtype)
  let id: LldpId
  if (input.encoding !== undefined) {
    id = {...input, subtypeName} as LldpId
  } else if (input.subtype === (isPort ? PORT_SUBTYPE_MAC : CHASSIS_SUBTYPE_MAC)) {
    if (typeof input.value !== 'string' || !isMacText(input.value, {hyphens: true}))
      throw new LldpEncodeError(`${isPort ? 'Port' : 'Chassis'} ID subtype ${input.subtype} needs a MAC address`)
    id = {subtype: input.subtype, subtypeName, encoding: 'mac', value: input.value.toLowerCase()}
  } else if (input.subtype === (isPort ? PORT_SUBTYPE_NETWORK_ADDRESS : CHASSIS_SUBTYPE_NETWORK_ADDRESS)) {
    id = {
      subtype: input.subtype,
      subtypeName,
      encoding: 'address',
      value: typeof input.value === 'string' ? addressFromText(input.value) : input.value,
    }
  } else {
    if (typeof input.value !== 'string')
      throw new LldpEncodeError(`${isPort ? 'Port' : 'Chassis'} ID subtype ${input.subtype} takes a string`)
    id = {subtype: input.subtype, subtypeName, encoding: 'text', value: input.value}
  }
  const octets = idValueLength(id)
  if (octets < 1 || octets > 255)
    throw new LldpEncodeError(`${isPort ? 'Port' : 'Chassis'} ID value must be 1..255 octets, got ${octets}`)
  return id
}

function idValueLength(id: LldpId): number {
  switch (id.encoding) {
    case 'mac':
      return 6
    case 'text':
      return Buffer.byteLength(id.value, 'utf8')
    case 'hex':
      return id.value.replace(/[:\s-]/g, '').length / 2
    case 'address':
      return 1 + networkAddressOctets(id.value).length
  }
}

function capabilityMask(value: number | readonly string[]): number {
  if (typeof value === 'number') return checked(value, 0xffff, 'capabilities')
  let mask = 0
  for (const name of value) {
    const entry = SYSTEM_CAPABILITY_BITS.find(([, n]) => n.toLowerCase() === name.toLowerCase())
    if (!entry) throw new LldpEncodeError(`unknown system capability ${JSON.stringify(name)}`)
    mask |= entry[0]
  }
  return mask
}

function capabilitiesTlv(
  supportedIn: number | readonly string[],
  enabledIn: number | readonly string[],
): SystemCapabilitiesTlv {
  const supported = capabilityMask(supportedIn)
  const enabled = capabilityMask(enabledIn)
  return {
    kind: 'systemCapabilities',
    type: 7,
    supported,
    enabled,
    supportedNames: capabilityNames(supported),
    enabledNames: capabilityNames(enabled),
  }
}

function managementAddressTlv(m: ManagementAddressInput): ManagementAddressTlv {
  const address = typeof m.address === 'string' ? addressFromText(m.address) : m.address
  const octets = networkAddressOctets(address).length
  if (octets < 1 || octets > 31) throw new LldpEncodeError(`management address must be 1..31 octets, got ${octets}`)
  const interfaceSubtype = checked(
    m.interfaceSubtype ?? (m.interfaceNumber === undefined ? 1 : 2),
    255,
    'interface numbering subtype',
  )
  const oid = m.oid ?? ''
  if (encodeOid(oid).length > 128) throw new LldpEncodeError('management address OID is longer than 128 octets')
  return {
    kind: 'managementAddress',
    type: 8,
    address,
    interfaceSubtype,
    interfaceSubtypeName: interfaceSubtypeName(interfaceSubtype),
    interfaceNumber: checked(m.interfaceNumber ?? 0, 0xffffffff, 'interface number'),
    oid,
    oidEncoding: 'oid',
  }
}
