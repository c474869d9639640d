/**
 * IEEE 802.1 organizationally specific TLVs (OUI 00-80-C2): 802.1Q annex D (VLAN, link aggregation,
 * congestion notification, DCB ETS/PFC/application priority) and 802.1Qbg EVB/CDCP (evb.ts).
 * Decoders take the body after OUI+subtype and return a typed TLV, or a reason string when the layout is
 * wrong (the caller keeps the TLV as malformed).
 */
import {decodeText, lastTextEncoding} from './octets.js'
import {cdcpFromOctets, evbFromOctets, EVB_BODY_LENGTH, writeCdcpBody, writeEvbBody} from './evb.js'
import type {
  ApplicationPriorityEntry,
  ApplicationPriorityTlv,
  CongestionNotificationTlv,
  EtsConfigurationTlv,
  EtsRecommendationTlv,
  EtsTables,
  LinkAggregation,
  LinkAggregationTlv,
  ManagementVidTlv,
  OrgTlv,
  PfcConfigurationTlv,
  PortProtocolVlanIdTlv,
  PortVlanIdTlv,
  ProtocolIdentityTlv,
  VidUsageDigestTlv,
  VlanNameTlv,
} from './types.js'
import {bit, checkRange, type OctetWriter} from './writer.js'

export const OUI_8021 = '00-80-c2'

export const IEEE8021_SUBTYPES: Record<number, string> = {
  1: 'Port VLAN ID',
  2: 'Port and Protocol VLAN ID',
  3: 'VLAN Name',
  4: 'Protocol Identity',
  5: 'VID Usage Digest',
  6: 'Management VID',
  7: 'Link Aggregation',
  8: 'Congestion Notification',
  9: 'ETS Configuration',
  10: 'ETS Recommendation',
  11: 'PFC Configuration',
  12: 'Application Priority',
  13: 'EVB',
  14: 'CDCP',
  15: 'Port Extension',
  16: 'Application VLAN',
  17: 'LRP ECP Discovery',
  18: 'LRP TCP Discovery',
  19: 'Congestion Isolation',
  20: 'Topology Recognition',
}

const wrongLength = (name: string, n: number, expected: number | string): string =>
  `802.1 ${name} TLV body is ${n} octets, expected ${expected}`

/** 802.1 subtype 7 and 802.3 subtype 3 share this 5-octet layout. */
export function linkAggregationFromOctets(buf: Buffer, s: number): LinkAggregation {
  const status = buf[s]
  return {
    status,
    capable: (status & 0x01) !== 0,
    enabled: (status & 0x02) !== 0,
    portType: (status >>> 2) & 0x03,
    portId: buf.readUInt32BE(s + 1),
  }
}

export function writeLinkAggregation(w: OctetWriter, la: LinkAggregation): void {
  w.u8(la.status, 'link aggregation status')
  w.u32(la.portId, 'aggregated port ID')
}

function etsTables(buf: Buffer, s: number): EtsTables {
  const priorityAssignment: number[] = []
  for (let i = 0; i < 4; i++) priorityAssignment.push(buf[s + i] >>> 4, buf[s + i] & 0x0f)
  const tcBandwidth: number[] = []
  const tsaAssignment: number[] = []
  for (let i = 0; i < 8; i++) {
    tcBandwidth.push(buf[s + 4 + i])
    tsaAssignment.push(buf[s + 12 + i])
  }
  return {priorityAssignment, tcBandwidth, tsaAssignment}
}

function writeEtsTables(w: OctetWriter, t: EtsTables): void {
  if (t.priorityAssignment.length !== 8 || t.tcBandwidth.length !== 8 || t.tsaAssignment.length !== 8) {
    checkRange(Number.NaN, 8, 'ETS table length (8 entries each)')
  }
  for (let i = 0; i < 8; i += 2) {
    checkRange(t.priorityAssignment[i], 15, 'ETS priority assignment')
    checkRange(t.priorityAssignment[i + 1], 15, 'ETS priority assignment')
    w.u8((t.priorityAssignment[i] << 4) | t.priorityAssignment[i + 1])
  }
  for (const v of t.tcBandwidth) w.u8(v, 'ETS TC bandwidth')
  for (const v of t.tsaAssignment) w.u8(v, 'ETS TSA')
}

export function decodeIeee8021(subtype: number, buf: Buffer, s: number, e: number): OrgTlv | string | undefined {
  const n = e - s
  const oui = OUI_8021
  switch (subtype) {
    case 1:
      if (n !== 2) return wrongLength('Port VLAN ID', n, 2)
      return {kind: 'portVlanId', type: 127, oui, subtype, pvid: (buf[s] << 8) | buf[s + 1]} satisfies PortVlanIdTlv
    case 2: {
      if (n !== 3) return wrongLength('Port and Protocol VLAN ID', n, 3)
      const flags = buf[s]
      return {
        kind: 'portProtocolVlanId',
        type: 127,
        oui,
        subtype,
        flags,
        supported: (flags & 0x02) !== 0,
        enabled: (flags & 0x04) !== 0,
        ppvid: (buf[s + 1] << 8) | buf[s + 2],
      } satisfies PortProtocolVlanIdTlv
    }
    case 3: {
      if (n < 3) return wrongLength('VLAN Name', n, 'at least 3')
      const nameLength = buf[s + 2]
      if (n !== 3 + nameLength)
        return `802.1 VLAN Name length ${nameLength} does not match the TLV body (${n - 3} octets)`
      const name = decodeText(buf, s + 3, e)
      return {
        kind: 'vlanName',
        type: 127,
        oui,
        subtype,
        vid: (buf[s] << 8) | buf[s + 1],
        name,
        nameEncoding: lastTextEncoding,
      } satisfies VlanNameTlv
    }
    case 4: {
      if (n < 1 || n !== 1 + buf[s])
        return `802.1 Protocol Identity length octet does not match the TLV body (${n} octets)`
      return {
        kind: 'protocolIdentity',
        type: 127,
        oui,
        subtype,
        identity: buf.subarray(s + 1, e),
      } satisfies ProtocolIdentityTlv
    }
    case 5:
      if (n !== 4) return wrongLength('VID Usage Digest', n, 4)
      return {kind: 'vidUsageDigest', type: 127, oui, subtype, digest: buf.readUInt32BE(s)} satisfies VidUsageDigestTlv
    case 6:
      if (n !== 2) return wrongLength('Management VID', n, 2)
      return {
        kind: 'managementVid',
        type: 127,
        oui,
        subtype,
        vid: (buf[s] << 8) | buf[s + 1],
      } satisfies ManagementVidTlv
    case 7:
      if (n !== 5) return wrongLength('Link Aggregation', n, 5)
      return {
        kind: 'linkAggregation',
        type: 127,
        oui,
        subtype,
        ...linkAggregationFromOctets(buf, s),
      } satisfies LinkAggregationTlv
    case 8:
      if (n !== 2) return wrongLength('Congestion Notification', n, 2)
      return {
        kind: 'congestionNotification',
        type: 127,
        oui,
        subtype,
        cnpvIndicators: buf[s],
        readyIndicators: buf[s + 1],
      } satisfies CongestionNotificationTlv
    case 9: {
      if (n !== 21) return wrongLength('ETS Configuration', n, 21)
      const o0 = buf[s]
      return {
        kind: 'etsConfiguration',
        type: 127,
        oui,
        subtype,
        willing: (o0 & 0x80) !== 0,
        cbs: (o0 & 0x40) !== 0,
        reserved: (o0 >>> 3) & 0x07,
        maxTcs: o0 & 0x07,
        ...etsTables(buf, s + 1),
      } satisfies EtsConfigurationTlv
    }
    case 10:
      if (n !== 21) return wrongLength('ETS Recommendation', n, 21)
      return {
        kind: 'etsRecommendation',
        type: 127,
        oui,
        subtype,
        reserved: buf[s],
        ...etsTables(buf, s + 1),
      } satisfies EtsRecommendationTlv
    case 11: {
      if (n !== 2) return wrongLength('PFC Configuration', n, 2)
      const o0 = buf[s]
      return {
        kind: 'pfcConfiguration',
        type: 127,
        oui,
        subtype,
        willing: (o0 & 0x80) !== 0,
        mbc: (o0 & 0x40) !== 0,
        reserved: (o0 >>> 4) & 0x03,
        pfcCapability: o0 & 0x0f,
        pfcEnable: buf[s + 1],
      } satisfies PfcConfigurationTlv
    }
    case 12: {
      if (n < 1 || (n - 1) % 3 !== 0) return wrongLength('Application Priority', n, '1 + 3n')
      const entries: ApplicationPriorityEntry[] = []
      for (let p = s + 1; p < e; p += 3) {
        const o = buf[p]
        entries.push({
          priority: o >>> 5,
          reserved: (o >>> 3) & 0x03,
          selector: o & 0x07,
          protocolId: (buf[p + 1] << 8) | buf[p + 2],
        })
      }
      return {
        kind: 'applicationPriority',
        type: 127,
        oui,
        subtype,
        reserved: buf[s],
        entries,
      } satisfies ApplicationPriorityTlv
    }
    case 13:
      if (n !== EVB_BODY_LENGTH) return wrongLength('EVB', n, EVB_BODY_LENGTH)
      return {kind: 'evb', type: 127, oui, subtype, evb: evbFromOctets(buf, s)}
    case 14: {
      const cdcp = cdcpFromOctets(buf, s, e)
      if (typeof cdcp === 'string') return cdcp
      return {kind: 'cdcp', type: 127, oui, subtype, cdcp}
    }
    default:
      return undefined
  }
}

/** Writes the body (after OUI+subtype) of an 802.1 TLV; false if `tlv` is not one of ours. */
export function writeIeee8021Body(w: OctetWriter, tlv: OrgTlv): boolean {
  switch (tlv.kind) {
    case 'portVlanId':
      w.u16(tlv.pvid, 'PVID')
      return true
    case 'portProtocolVlanId':
      // The flags octet is authoritative; the booleans are derived from it, but honour edits to them.
      w.u8((tlv.flags & ~0x06) | bit(tlv.supported, 0x02) | bit(tlv.enabled, 0x04), 'PPVID flags')
      w.u16(tlv.ppvid, 'PPVID')
      return true
    case 'vlanName': {
      w.u16(tlv.vid, 'VLAN ID')
      const lengthAt = w.pos
      w.u8(0)
      const n = w.text(tlv.name, tlv.nameEncoding)
      checkRange(n, 255, 'VLAN name length')
      w.patchU8(lengthAt, n)
      return true
    }
    case 'protocolIdentity':
      w.u8(tlv.identity.length, 'protocol identity length')
      w.bytes(tlv.identity)
      return true
    case 'vidUsageDigest':
      w.u32(tlv.digest, 'VID usage digest')
      return true
    case 'managementVid':
      w.u16(tlv.vid, 'management VID')
      return true
    case 'linkAggregation':
      writeLinkAggregation(w, withDerivedStatus(tlv))
      return true
    case 'congestionNotification':
      w.u8(tlv.cnpvIndicators, 'CNPV indicators')
      w.u8(tlv.readyIndicators, 'ready indicators')
      return true
    case 'etsConfiguration':
      checkRange(tlv.reserved, 0x07, 'ETS reserved bits')
      checkRange(tlv.maxTcs, 0x07, 'ETS max TCs')
      w.u8(bit(tlv.willing, 0x80) | bit(tlv.cbs, 0x40) | (tlv.reserved << 3) | tlv.maxTcs)
      writeEtsTables(w, tlv)
      return true
    case 'etsRecommendation':
      w.u8(tlv.reserved, 'ETS recommendation reserved octet')
      writeEtsTables(w, tlv)
      return true
    case 'pfcConfiguration':
      checkRange(tlv.reserved, 0x03, 'PFC reserved bits')
      checkRange(tlv.pfcCapability, 0x0f, 'PFC capability')
      w.u8(bit(tlv.willing, 0x80) | bit(tlv.mbc, 0x40) | (tlv.reserved << 4) | tlv.pfcCapability)
      w.u8(tlv.pfcEnable, 'PFC enable')
      return true
    case 'applicationPriority':
      w.u8(tlv.reserved, 'application priority reserved octet')
      for (const entry of tlv.entries) {
        checkRange(entry.priority, 7, 'application priority')
        checkRange(entry.reserved, 3, 'application priority reserved bits')
        checkRange(entry.selector, 7, 'application selector')
        w.u8((entry.priority << 5) | (entry.reserved << 3) | entry.selector)
        w.u16(entry.protocolId, 'application protocol ID')
      }
      return true
    case 'evb':
      writeEvbBody(w, tlv.evb)
      return true
    case 'cdcp':
      writeCdcpBody(w, tlv.cdcp)
      return true
    default:
      return false
  }
}

/** The status octet is authoritative; fold in edits to the derived booleans/port type. */
export function withDerivedStatus(la: LinkAggregation): LinkAggregation {
  checkRange(la.portType, 3, 'link aggregation port type')
  const status = (la.status & ~0x0f) | bit(la.capable, 0x01) | bit(la.enabled, 0x02) | (la.portType << 2)
  return {...la, status}
}
