/**
 * TIA LLDP-MED TLVs (OUI 00-12-BB, ANSI/TIA-1057): capabilities, network policy, location identification
 * (coordinate LCI per RFC 3825, civic address per RFC 4776, ECS ELIN), extended power via MDI and the
 * seven inventory strings.
 */
import {bitNames, decodeText, lastTextEncoding} from './octets.js'
import {MED_CAPABILITY_BITS, MED_INVENTORY_FIELDS} from './names.js'
import type {
  CivicAddressElement,
  MedCapabilitiesTlv,
  MedExtendedPowerTlv,
  MedInventoryTlv,
  MedLocation,
  MedLocationTlv,
  MedNetworkPolicyTlv,
  OrgTlv,
} from './types.js'
import {bit, checkRange, type OctetWriter} from './writer.js'

export const OUI_MED = '00-12-bb'

export const MED_SUBTYPES: Record<number, string> = {
  1: 'LLDP-MED Capabilities',
  2: 'Network Policy',
  3: 'Location Identification',
  4: 'Extended Power-via-MDI',
  5: 'Inventory - Hardware Revision',
  6: 'Inventory - Firmware Revision',
  7: 'Inventory - Software Revision',
  8: 'Inventory - Serial Number',
  9: 'Inventory - Manufacturer Name',
  10: 'Inventory - Model Name',
  11: 'Inventory - Asset ID',
}

const LOCATION_COORDINATE = 1
const LOCATION_CIVIC = 2
const LOCATION_ELIN = 3
const COORDINATE_LCI_LENGTH = 16

const capabilityCache = new Map<number, readonly string[]>()

function medCapabilityNames(mask: number): readonly string[] {
  return bitNames(MED_CAPABILITY_BITS, capabilityCache, mask)
}

/** Reads big-endian bit fields of up to 34 bits (RFC 3825 latitude/longitude) from a fixed octet range. */
class BitReader {
  private bitPos = 0
  constructor(
    private readonly buf: Buffer,
    private readonly start: number,
  ) {}
  read(bits: number): number {
    let v = 0
    for (let i = 0; i < bits; i++, this.bitPos++) {
      const octet = this.buf[this.start + (this.bitPos >>> 3)]
      v = v * 2 + ((octet >>> (7 - (this.bitPos & 7))) & 1)
    }
    return v
  }
}

function signed(value: number, bits: number): number {
  return value >= 2 ** (bits - 1) ? value - 2 ** bits : value
}

function decodeCoordinate(buf: Buffer, s: number): MedLocation {
  const r = new BitReader(buf, s)
  const latitudeResolution = r.read(6)
  const latitudeRaw = r.read(34)
  const longitudeResolution = r.read(6)
  const longitudeRaw = r.read(34)
  const altitudeType = r.read(4)
  const altitudeResolution = r.read(6)
  const altitudeRaw = r.read(30)
  const datum = r.read(8)
  return {
    format: 'coordinate',
    latitudeResolution,
    latitudeRaw,
    longitudeResolution,
    longitudeRaw,
    altitudeType,
    altitudeResolution,
    altitudeRaw,
    datum,
    // 9.25 and 22.8 two's-complement fixed point (RFC 3825 §2.1).
    latitude: signed(latitudeRaw, 34) / 2 ** 25,
    longitude: signed(longitudeRaw, 34) / 2 ** 25,
    altitude: signed(altitudeRaw, 30) / 2 ** 8,
  }
}

function writeCoordinate(w: OctetWriter, loc: Extract<MedLocation, {format: 'coordinate'}>): void {
  const fields: Array<[number, number, string]> = [
    [loc.latitudeResolution, 6, 'latitude resolution'],
    [loc.latitudeRaw, 34, 'latitude'],
    [loc.longitudeResolution, 6, 'longitude resolution'],
    [loc.longitudeRaw, 34, 'longitude'],
    [loc.altitudeType, 4, 'altitude type'],
    [loc.altitudeResolution, 6, 'altitude resolution'],
    [loc.altitudeRaw, 30, 'altitude'],
    [loc.datum, 8, 'datum'],
  ]
  const bits: number[] = []
  for (const [value, width, name] of fields) {
    checkRange(value, 2 ** width - 1, `coordinate LCI ${name}`)
    for (let i = width - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2)
  }
  for (let i = 0; i < COORDINATE_LCI_LENGTH; i++) {
    let octet = 0
    for (let j = 0; j < 8; j++) octet = (octet << 1) | bits[i * 8 + j]
    w.u8(octet)
  }
}

/** Civic address LCI (RFC 4776 §3.1): LCI length, what, country code (2), then CA type/length/value elements. */
function decodeCivic(buf: Buffer, s: number, e: number): MedLocation | string {
  if (e - s < 1) return 'civic location has no LCI length octet'
  const lciLength = buf[s]
  const lciEnd = s + 1 + lciLength
  if (lciLength < 3) return `civic location LCI length ${lciLength} < 3 (what + country code)`
  if (lciEnd > e) return `civic location LCI length ${lciLength} runs past the TLV`
  const elements: CivicAddressElement[] = []
  let p = s + 4
  while (p < lciEnd) {
    if (p + 2 > lciEnd) return 'civic address element header runs past the LCI'
    const caLength = buf[p + 1]
    if (p + 2 + caLength > lciEnd) return `civic address element (CA type ${buf[p]}) runs past the LCI`
    const value = decodeText(buf, p + 2, p + 2 + caLength)
    elements.push({caType: buf[p], value, encoding: lastTextEncoding})
    p += 2 + caLength
  }
  return {
    format: 'civic',
    what: buf[s + 1],
    countryCode: buf.toString('latin1', s + 2, s + 4),
    elements,
    trailing: lciEnd < e ? buf.subarray(lciEnd, e) : undefined,
  }
}

function writeCivic(w: OctetWriter, loc: Extract<MedLocation, {format: 'civic'}>): void {
  const lengthAt = w.pos
  w.u8(0)
  const start = w.pos
  w.u8(loc.what, 'civic what')
  if (Buffer.byteLength(loc.countryCode, 'latin1') !== 2) checkRange(Number.NaN, 2, 'civic country code length')
  w.text(loc.countryCode, 'latin1')
  for (const el of loc.elements) {
    w.u8(el.caType, 'CA type')
    const at = w.pos
    w.u8(0)
    const n = w.text(el.value, el.encoding)
    checkRange(n, 255, 'CA value length')
    w.patchU8(at, n)
  }
  const lciLength = w.pos - start
  checkRange(lciLength, 255, 'civic LCI length')
  w.patchU8(lengthAt, lciLength)
  if (loc.trailing) w.bytes(loc.trailing)
}

export function decodeMed(subtype: number, buf: Buffer, s: number, e: number): OrgTlv | string | undefined {
  const n = e - s
  const oui = OUI_MED
  switch (subtype) {
    case 1: {
      if (n !== 3) return `LLDP-MED Capabilities TLV body is ${n} octets, expected 3`
      const capabilities = (buf[s] << 8) | buf[s + 1]
      return {
        kind: 'medCapabilities',
        type: 127,
        oui,
        subtype,
        capabilities,
        capabilityNames: medCapabilityNames(capabilities),
        deviceType: buf[s + 2],
      } satisfies MedCapabilitiesTlv
    }
    case 2: {
      if (n !== 4) return `LLDP-MED Network Policy TLV body is ${n} octets, expected 4`
      const v = (buf[s + 1] << 16) | (buf[s + 2] << 8) | buf[s + 3]
      return {
        kind: 'medNetworkPolicy',
        type: 127,
        oui,
        subtype,
        applicationType: buf[s],
        unknownPolicy: (v & 0x800000) !== 0,
        tagged: (v & 0x400000) !== 0,
        reserved: (v >>> 21) & 1,
        vlanId: (v >>> 9) & 0xfff,
        l2Priority: (v >>> 6) & 0x07,
        dscp: v & 0x3f,
      } satisfies MedNetworkPolicyTlv
    }
    case 3: {
      if (n < 1) return 'LLDP-MED Location TLV has no location data format octet'
      const dataFormat = buf[s]
      let location: MedLocation | string
      if (dataFormat === LOCATION_COORDINATE) {
        if (n !== 1 + COORDINATE_LCI_LENGTH) return `LLDP-MED coordinate LCI is ${n - 1} octets, expected 16`
        location = decodeCoordinate(buf, s + 1)
      } else if (dataFormat === LOCATION_CIVIC) {
        location = decodeCivic(buf, s + 1, e)
      } else if (dataFormat === LOCATION_ELIN) {
        const elin = decodeText(buf, s + 1, e)
        location = {format: 'elin', elin, encoding: lastTextEncoding}
      } else {
        return undefined // reserved data format: keep the octets as an unknown org TLV
      }
      if (typeof location === 'string') return `LLDP-MED Location: ${location}`
      return {kind: 'medLocation', type: 127, oui, subtype, dataFormat, location} satisfies MedLocationTlv
    }
    case 4: {
      if (n !== 3) return `LLDP-MED Extended Power-via-MDI TLV body is ${n} octets, expected 3`
      const o = buf[s]
      return {
        kind: 'medExtendedPower',
        type: 127,
        oui,
        subtype,
        typeSourcePriority: o,
        powerType: o >>> 6,
        powerSource: (o >>> 4) & 0x03,
        powerPriority: o & 0x0f,
        powerValue: (buf[s + 1] << 8) | buf[s + 2],
      } satisfies MedExtendedPowerTlv
    }
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11: {
      const value = decodeText(buf, s, e)
      return {
        kind: 'medInventory',
        type: 127,
        oui,
        subtype,
        field: MED_INVENTORY_FIELDS[subtype - 5],
        value,
        encoding: lastTextEncoding,
      } satisfies MedInventoryTlv
    }
    default:
      return undefined
  }
}

export function writeMedBody(w: OctetWriter, tlv: OrgTlv): boolean {
  switch (tlv.kind) {
    case 'medCapabilities':
      w.u16(tlv.capabilities, 'LLDP-MED capabilities')
      w.u8(tlv.deviceType, 'LLDP-MED device type')
      return true
    case 'medNetworkPolicy':
      checkRange(tlv.reserved, 1, 'network policy reserved bit')
      checkRange(tlv.vlanId, 0xfff, 'network policy VLAN ID')
      checkRange(tlv.l2Priority, 7, 'network policy L2 priority')
      checkRange(tlv.dscp, 63, 'network policy DSCP')
      w.u8(tlv.applicationType, 'application type')
      w.u24(
        bit(tlv.unknownPolicy, 0x800000) |
          bit(tlv.tagged, 0x400000) |
          (tlv.reserved << 21) |
          (tlv.vlanId << 9) |
          (tlv.l2Priority << 6) |
          tlv.dscp,
      )
      return true
    case 'medLocation':
      w.u8(tlv.dataFormat, 'location data format')
      if (tlv.location.format === 'coordinate') writeCoordinate(w, tlv.location)
      else if (tlv.location.format === 'civic') writeCivic(w, tlv.location)
      else w.text(tlv.location.elin, tlv.location.encoding)
      return true
    case 'medExtendedPower':
      checkRange(tlv.powerType, 3, 'extended power type')
      checkRange(tlv.powerSource, 3, 'extended power source')
      checkRange(tlv.powerPriority, 15, 'extended power priority')
      w.u8((tlv.powerType << 6) | (tlv.powerSource << 4) | tlv.powerPriority)
      w.u16(tlv.powerValue, 'extended power value')
      return true
    case 'medInventory':
      w.text(tlv.value, tlv.encoding)
      return true
    default:
      return false
  }
}
