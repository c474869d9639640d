/**
 * IEEE 802.3 organizationally specific TLVs (OUI 00-12-0F), 802.3 clause 79: MAC/PHY configuration/status,
 * Power via MDI (base, 802.3at and 802.3bt lengths), the deprecated link aggregation TLV and maximum frame size.
 */
import {linkAggregationFromOctets, withDerivedStatus, writeLinkAggregation} from './ieee8021.js'
import type {
  Dot3LinkAggregationTlv,
  MacPhyTlv,
  MaxFrameSizeTlv,
  OrgTlv,
  PowerVia8023at,
  PowerVia8023bt,
  PowerViaMdiTlv,
} from './types.js'
import {bit, checkRange, type OctetWriter} from './writer.js'

export const OUI_8023 = '00-12-0f'

export const IEEE8023_SUBTYPES: Record<number, string> = {
  1: 'MAC/PHY Configuration/Status',
  2: 'Power via MDI',
  3: 'Link Aggregation (deprecated)',
  4: 'Maximum Frame Size',
  5: 'Energy-Efficient Ethernet',
  6: 'EEE Fast Wake',
  7: 'Additional Ethernet Capabilities',
  8: 'Power via MDI Measurements',
}

/** Power via MDI body lengths: base (802.3ab), with 802.3at fields, with 802.3bt fields. */
const POWER_BASE = 3
const POWER_8023AT = 8
const POWER_8023BT = 25

function powerAt(buf: Buffer, s: number): PowerVia8023at {
  const o = buf[s]
  return {
    typeSourcePriority: o,
    powerType: o >>> 6,
    powerSource: (o >>> 4) & 0x03,
    powerPriority: o & 0x03,
    pdRequestedPower: (buf[s + 1] << 8) | buf[s + 2],
    pseAllocatedPower: (buf[s + 3] << 8) | buf[s + 4],
  }
}

function powerBt(buf: Buffer, s: number): PowerVia8023bt {
  const status = (buf[s + 8] << 8) | buf[s + 9]
  const setup = buf[s + 10]
  return {
    pdRequestedPowerA: (buf[s] << 8) | buf[s + 1],
    pdRequestedPowerB: (buf[s + 2] << 8) | buf[s + 3],
    pseAllocatedPowerA: (buf[s + 4] << 8) | buf[s + 5],
    pseAllocatedPowerB: (buf[s + 6] << 8) | buf[s + 7],
    powerStatus: status,
    psePoweringStatus: status >>> 14,
    pdPoweredStatus: (status >>> 12) & 0x03,
    psePowerPairsExt: (status >>> 10) & 0x03,
    dualSignatureClassA: (status >>> 7) & 0x07,
    dualSignatureClassB: (status >>> 4) & 0x07,
    powerClassExt: status & 0x0f,
    systemSetup: setup,
    powerTypeExt: (setup >>> 1) & 0x07,
    pdLoad: (setup & 0x01) !== 0,
    pseMaxAvailablePower: (buf[s + 11] << 8) | buf[s + 12],
    autoclass: buf[s + 13],
    powerDown: (buf[s + 14] << 16) | (buf[s + 15] << 8) | buf[s + 16],
  }
}

export function decodeIeee8023(subtype: number, buf: Buffer, s: number, e: number): OrgTlv | string | undefined {
  const n = e - s
  const oui = OUI_8023
  switch (subtype) {
    case 1: {
      if (n !== 5) return `802.3 MAC/PHY TLV body is ${n} octets, expected 5`
      const autoneg = buf[s]
      return {
        kind: 'macPhy',
        type: 127,
        oui,
        subtype,
        autoneg,
        autonegSupported: (autoneg & 0x01) !== 0,
        autonegEnabled: (autoneg & 0x02) !== 0,
        pmdCapability: (buf[s + 1] << 8) | buf[s + 2],
        mauType: (buf[s + 3] << 8) | buf[s + 4],
      } satisfies MacPhyTlv
    }
    case 2: {
      if (n !== POWER_BASE && n !== POWER_8023AT && n !== POWER_8023BT) {
        return `802.3 Power via MDI TLV body is ${n} octets, expected 3, 8 (802.3at) or 25 (802.3bt)`
      }
      const support = buf[s]
      return {
        kind: 'powerViaMdi',
        type: 127,
        oui,
        subtype,
        mdiPowerSupport: support,
        portClass: (support & 0x01) !== 0 ? 'pse' : 'pd',
        mdiPowerSupported: (support & 0x02) !== 0,
        mdiPowerEnabled: (support & 0x04) !== 0,
        pairControlAbility: (support & 0x08) !== 0,
        psePowerPair: buf[s + 1],
        powerClass: buf[s + 2],
        dot3at: n >= POWER_8023AT ? powerAt(buf, s + 3) : undefined,
        dot3bt: n === POWER_8023BT ? powerBt(buf, s + 8) : undefined,
      } satisfies PowerViaMdiTlv
    }
    case 3:
      if (n !== 5) return `802.3 Link Aggregation TLV body is ${n} octets, expected 5`
      return {
        kind: 'dot3LinkAggregation',
        type: 127,
        oui,
        subtype,
        ...linkAggregationFromOctets(buf, s),
      } satisfies Dot3LinkAggregationTlv
    case 4:
      if (n !== 2) return `802.3 Maximum Frame Size TLV body is ${n} octets, expected 2`
      return {
        kind: 'maxFrameSize',
        type: 127,
        oui,
        subtype,
        maxFrameSize: (buf[s] << 8) | buf[s + 1],
      } satisfies MaxFrameSizeTlv
    default:
      return undefined
  }
}

export function writeIeee8023Body(w: OctetWriter, tlv: OrgTlv): boolean {
  switch (tlv.kind) {
    case 'macPhy':
      w.u8(
        (tlv.autoneg & ~0x03) | bit(tlv.autonegSupported, 0x01) | bit(tlv.autonegEnabled, 0x02),
        'auto-negotiation octet',
      )
      w.u16(tlv.pmdCapability, 'PMD capability')
      w.u16(tlv.mauType, 'MAU type')
      return true
    case 'powerViaMdi': {
      const support =
        (tlv.mdiPowerSupport & ~0x0f) |
        bit(tlv.portClass === 'pse', 0x01) |
        bit(tlv.mdiPowerSupported, 0x02) |
        bit(tlv.mdiPowerEnabled, 0x04) |
        bit(tlv.pairControlAbility, 0x08)
      w.u8(support, 'MDI power support')
      w.u8(tlv.psePowerPair, 'PSE power pair')
      w.u8(tlv.powerClass, 'power class')
      if (tlv.dot3at) writePowerAt(w, tlv.dot3at)
      if (tlv.dot3bt) {
        if (!tlv.dot3at) checkRange(Number.NaN, 0, '802.3bt power fields need the 802.3at fields')
        writePowerBt(w, tlv.dot3bt)
      }
      return true
    }
    case 'dot3LinkAggregation':
      writeLinkAggregation(w, withDerivedStatus(tlv))
      return true
    case 'maxFrameSize':
      w.u16(tlv.maxFrameSize, 'maximum frame size')
      return true
    default:
      return false
  }
}

function writePowerAt(w: OctetWriter, p: PowerVia8023at): void {
  checkRange(p.powerType, 3, 'power type')
  checkRange(p.powerSource, 3, 'power source')
  checkRange(p.powerPriority, 3, 'power priority')
  w.u8((p.typeSourcePriority & 0x0c) | (p.powerType << 6) | (p.powerSource << 4) | p.powerPriority)
  w.u16(p.pdRequestedPower, 'PD requested power')
  w.u16(p.pseAllocatedPower, 'PSE allocated power')
}

function writePowerBt(w: OctetWriter, p: PowerVia8023bt): void {
  w.u16(p.pdRequestedPowerA, 'PD requested power A')
  w.u16(p.pdRequestedPowerB, 'PD requested power B')
  w.u16(p.pseAllocatedPowerA, 'PSE allocated power A')
  w.u16(p.pseAllocatedPowerB, 'PSE allocated power B')
  checkRange(p.psePoweringStatus, 3, 'PSE powering status')
  checkRange(p.pdPoweredStatus, 3, 'PD powered status')
  checkRange(p.psePowerPairsExt, 3, 'PSE power pairs ext')
  checkRange(p.dualSignatureClassA, 7, 'dual-signature class A')
  checkRange(p.dualSignatureClassB, 7, 'dual-signature class B')
  checkRange(p.powerClassExt, 15, 'power class ext')
  w.u16(
    (p.psePoweringStatus << 14) |
      (p.pdPoweredStatus << 12) |
      (p.psePowerPairsExt << 10) |
      (p.dualSignatureClassA << 7) |
      (p.dualSignatureClassB << 4) |
      p.powerClassExt,
  )
  checkRange(p.powerTypeExt, 7, 'power type ext')
  w.u8((p.systemSetup & 0xf0) | (p.powerTypeExt << 1) | bit(p.pdLoad, 0x01), 'system setup')
  w.u16(p.pseMaxAvailablePower, 'PSE maximum available power')
  w.u8(p.autoclass, 'autoclass')
  w.u24(p.powerDown, 'power down')
}
