/**
 * The 802.1AB basic TLVs (types 1..8): Chassis ID, Port ID, TTL, the three strings, System Capabilities and
 * Management Address. Each decoder takes the information string [start, end) of one TLV; each encoder
 * writes the information string back.
 */
import {formatMac} from '../core/ethernet.js'
import type {DecodeContext} from './context.js'
import {
  bitNames,
  decodeOid,
  decodeText,
  lastTextEncoding,
  encodeOid,
  formatIpv4,
  formatIpv6,
  hex,
  isPrintableText,
  macOctets,
  parseHex,
  parseIpv4,
  parseIpv6,
} from './octets.js'
import {
  addressFamilyName,
  chassisIdSubtypeName,
  interfaceSubtypeName,
  portIdSubtypeName,
  SYSTEM_CAPABILITY_BITS,
} from './names.js'
import type {
  ChassisIdTlv,
  LldpId,
  LldpTlv,
  ManagementAddress,
  ManagementAddressTlv,
  NetworkAddress,
  PortIdTlv,
  SystemCapabilitiesTlv,
  TextTlv,
  TtlTlv,
} from './types.js'
import type {OctetWriter} from './writer.js'

const TLV_PORT_ID = 2
const TLV_TTL = 3
const TLV_SYSTEM_CAPABILITIES = 7
const TLV_MANAGEMENT_ADDRESS = 8

export const CHASSIS_SUBTYPE_MAC = 4
export const CHASSIS_SUBTYPE_NETWORK_ADDRESS = 5
export const PORT_SUBTYPE_MAC = 3
export const PORT_SUBTYPE_NETWORK_ADDRESS = 4
const PORT_SUBTYPE_AGENT_CIRCUIT_ID = 6

export const ADDRESS_FAMILY_IPV4 = 1
export const ADDRESS_FAMILY_IPV6 = 2
export const ADDRESS_FAMILY_802 = 6

/** The address length a family fixes (IANA address family numbers), or undefined when it does not fix one. */
export function networkAddressLength(family: number): number | undefined {
  return family === ADDRESS_FAMILY_IPV4
    ? 4
    : family === ADDRESS_FAMILY_IPV6
      ? 16
      : family === ADDRESS_FAMILY_802
        ? 6
        : undefined
}

/**
 * [familyAt, end): the family octet followed by the address. An address whose length does not fit its family
 * (or that is empty) is kept as hex octets and reported as 'network-address-length' when a context is given.
 */
function decodeNetworkAddress(
  buf: Buffer,
  familyAt: number,
  end: number,
  ctx?: DecodeContext,
  what = 'network address',
): NetworkAddress {
  const family = buf[familyAt]
  const start = familyAt + 1
  const n = end - start
  const familyName = addressFamilyName(family)
  const expected = networkAddressLength(family)
  let address: string
  if (family === ADDRESS_FAMILY_IPV4 && n === 4) address = formatIpv4(buf, start)
  else if (family === ADDRESS_FAMILY_IPV6 && n === 16) address = formatIpv6(buf, start)
  else if (family === ADDRESS_FAMILY_802 && n === 6) address = formatMac(buf, start)
  else {
    address = hex(buf, start, end)
    if (expected !== undefined || n === 0) {
      ctx?.report(
        'network-address-length',
        familyAt,
        `${what}: ${familyName} address of ${n} octets, expected ${expected ?? 'at least 1'}`,
      )
    }
  }
  return {family, familyName, address}
}

/** The address octets (without the family octet); the text form decides the layout, as decodeNetworkAddress chose it. */
export function networkAddressOctets(a: NetworkAddress): Buffer {
  if (a.family === ADDRESS_FAMILY_IPV4 && a.address.includes('.')) return parseIpv4(a.address)
  if (a.family === ADDRESS_FAMILY_IPV6 && a.address.includes(':')) return parseIpv6(a.address)
  if (a.family === ADDRESS_FAMILY_802 && a.address.includes(':')) return macOctets(a.address)
  return parseHex(a.address)
}

function decodeIdValue(buf: Buffer, start: number, end: number, isPort: boolean, ctx: DecodeContext): LldpId {
  const subtype = buf[start]
  const subtypeName = isPort ? portIdSubtypeName(subtype) : chassisIdSubtypeName(subtype)
  const v = start + 1
  const macSubtype = isPort ? PORT_SUBTYPE_MAC : CHASSIS_SUBTYPE_MAC
  const addressSubtype = isPort ? PORT_SUBTYPE_NETWORK_ADDRESS : CHASSIS_SUBTYPE_NETWORK_ADDRESS
  if (subtype === macSubtype) {
    if (end - v === 6) return {subtype, subtypeName, encoding: 'mac', value: formatMac(buf, v)}
    ctx.report('id-value-format', start, `${isPort ? 'Port' : 'Chassis'} ID MAC address has ${end - v} octets, not 6`)
  } else if (subtype === addressSubtype) {
    return {
      subtype,
      subtypeName,
      encoding: 'address',
      value: decodeNetworkAddress(buf, v, end, ctx, `${isPort ? 'Port' : 'Chassis'} ID`),
    }
  } else if (subtype === 0 || subtype > 7) {
    ctx.report('reserved-id-subtype', start, `${isPort ? 'Port' : 'Chassis'} ID subtype ${subtype} is reserved`)
  } else if (!(isPort && subtype === PORT_SUBTYPE_AGENT_CIRCUIT_ID) && isPrintableText(buf, v, end)) {
    return {subtype, subtypeName, encoding: 'text', value: decodeText(buf, v, end)}
  }
  return {subtype, subtypeName, encoding: 'hex', value: hex(buf, v, end)}
}

/** Chassis ID / Port ID: subtype + 1..255 octets (information string 2..256). */
export function decodeIdTlv(
  type: 1 | 2,
  buf: Buffer,
  tlvAt: number,
  start: number,
  end: number,
  ctx: DecodeContext,
): LldpTlv {
  const len = end - start
  const isPort = type === TLV_PORT_ID
  const rule = isPort ? 'port-id-length' : 'chassis-id-length'
  const name = isPort ? 'Port ID' : 'Chassis ID'
  if (len < 2) {
    return ctx.malformed(rule, tlvAt, type, len, buf.subarray(start, end), `${name} TLV length ${len} < 2`)
  }
  if (len > 256) ctx.report(rule, tlvAt, `${name} TLV length ${len} > 256`)
  const id = decodeIdValue(buf, start, end, isPort, ctx)
  return isPort
    ? ({kind: 'portId', type: 2, id} satisfies PortIdTlv)
    : ({kind: 'chassisId', type: 1, id} satisfies ChassisIdTlv)
}

export function encodeIdValue(w: OctetWriter, id: LldpId): void {
  w.u8(id.subtype, 'ID subtype')
  switch (id.encoding) {
    case 'mac':
      w.bytes(macOctets(id.value))
      break
    case 'text':
      w.text(id.value, 'utf8')
      break
    case 'hex':
      w.bytes(parseHex(id.value))
      break
    case 'address':
      w.u8(id.value.family, 'address family')
      w.bytes(networkAddressOctets(id.value))
      break
  }
}

export function decodeTtlTlv(buf: Buffer, tlvAt: number, start: number, end: number, ctx: DecodeContext): LldpTlv {
  const len = end - start
  if (len < 2)
    return ctx.malformed('ttl-length', tlvAt, TLV_TTL, len, buf.subarray(start, end), `TTL TLV length ${len} < 2`)
  let extra: Buffer | undefined
  if (len > 2) {
    ctx.report('ttl-length', tlvAt, `TTL TLV length ${len} > 2`)
    extra = buf.subarray(start + 2, end)
  }
  return {kind: 'ttl', type: 3, seconds: (buf[start] << 8) | buf[start + 1], extra} satisfies TtlTlv
}

const TEXT_KINDS = {4: 'portDescription', 5: 'systemName', 6: 'systemDescription'} as const

/** Port Description, System Name, System Description: 0..255 octets of text. */
export function decodeTextTlv(
  type: 4 | 5 | 6,
  buf: Buffer,
  tlvAt: number,
  start: number,
  end: number,
  ctx: DecodeContext,
): LldpTlv {
  if (end - start > 255) {
    return ctx.malformed(
      'tlv-length',
      tlvAt,
      type,
      end - start,
      buf.subarray(start, end),
      `${TEXT_KINDS[type]} TLV length ${end - start} > 255`,
    )
  }
  const value = decodeText(buf, start, end)
  return {kind: TEXT_KINDS[type], type, value, encoding: lastTextEncoding} as TextTlv<
    (typeof TEXT_KINDS)[typeof type],
    typeof type
  > as LldpTlv
}

const supportedCache = new Map<number, readonly string[]>()

export function capabilityNames(mask: number): readonly string[] {
  return bitNames(SYSTEM_CAPABILITY_BITS, supportedCache, mask)
}

export function decodeCapabilitiesTlv(
  buf: Buffer,
  tlvAt: number,
  start: number,
  end: number,
  ctx: DecodeContext,
): LldpTlv {
  if (end - start !== 4) {
    return ctx.malformed(
      'tlv-length',
      tlvAt,
      TLV_SYSTEM_CAPABILITIES,
      end - start,
      buf.subarray(start, end),
      `System Capabilities TLV length ${end - start} ≠ 4`,
    )
  }
  const supported = (buf[start] << 8) | buf[start + 1]
  const enabled = (buf[start + 2] << 8) | buf[start + 3]
  const unsupported = enabled & ~supported
  if (unsupported !== 0) {
    ctx.report(
      'capabilities-not-supported',
      tlvAt,
      `System Capabilities: enabled ${capabilityNames(unsupported).join(', ')} (0x${unsupported.toString(16).padStart(4, '0')}) not among the supported ones`,
    )
  }
  return {
    kind: 'systemCapabilities',
    type: 7,
    supported,
    enabled,
    supportedNames: capabilityNames(supported),
    enabledNames: capabilityNames(enabled),
  } satisfies SystemCapabilitiesTlv
}

/**
 * Management Address (802.1AB-2009; docs/wire-notes.md §Management Address TLV): address string length M (2..32),
 * subtype + address, interface numbering subtype, interface number, OID length, OID. The information string is
 * 9..167 octets.
 */
export function decodeManagementAddressTlv(
  buf: Buffer,
  tlvAt: number,
  start: number,
  end: number,
  ctx: DecodeContext,
): LldpTlv {
  const len = end - start
  const bad = (reason: string): LldpTlv =>
    ctx.malformed(
      'tlv-length',
      tlvAt,
      TLV_MANAGEMENT_ADDRESS,
      len,
      buf.subarray(start, end),
      `Management Address TLV: ${reason}`,
    )
  if (len < 9 || len > 167) return bad(`length ${len} outside 9..167`)
  const m = buf[start]
  if (m < 2 || m > 32) return bad(`address string length ${m} outside 2..32`)
  const addressEnd = start + 1 + m
  if (addressEnd + 6 > end) return bad(`address string length ${m} leaves no room for the interface fields`)
  const oidLength = buf[addressEnd + 5]
  const oidStart = addressEnd + 6
  if (oidStart + oidLength !== end) return bad(`OID length ${oidLength} does not match the TLV length`)
  const interfaceSubtype = buf[addressEnd]
  const oidText = decodeOid(buf, oidStart, end)
  return {
    kind: 'managementAddress',
    type: 8,
    address: decodeNetworkAddress(buf, start + 1, addressEnd, ctx, 'Management Address'),
    interfaceSubtype,
    interfaceSubtypeName: interfaceSubtypeName(interfaceSubtype),
    interfaceNumber: buf.readUInt32BE(addressEnd + 1),
    oid: oidText ?? hex(buf, oidStart, end),
    oidEncoding: oidText === undefined ? 'hex' : 'oid',
  } satisfies ManagementAddressTlv
}

export function encodeManagementAddress(w: OctetWriter, a: ManagementAddress): void {
  const address = networkAddressOctets(a.address)
  w.u8(address.length + 1, 'management address string length')
  w.u8(a.address.family, 'address family')
  w.bytes(address)
  w.u8(a.interfaceSubtype, 'interface numbering subtype')
  w.u32(a.interfaceNumber, 'interface number')
  const oid = a.oidEncoding === 'hex' ? parseHex(a.oid) : encodeOid(a.oid)
  w.u8(oid.length, 'OID length')
  w.bytes(oid)
}
