/**
 * 802.1Qbg-2012 EVB (00-80-C2 / 0x0D) and CDCP (00-80-C2 / 0x0E) TLVs, docs/wire-notes.md §EVB TLV and §CDCP TLV.
 * The body decoders read the octets after OUI+subtype; decodeEvbTlv/encodeEvbTlv work on the whole
 * 9-octet information string, which is what the VDP station negotiates with.
 */
import {LldpDecodeError} from './errors.js'
import {EVB_MODES} from './names.js'
import type {CdcpChannel, CdcpTlv, EvbTlv} from './types.js'
import {bit, checkRange, OctetWriter} from './writer.js'

const OUI_IEEE_8021 = 0x0080c2
const SUBTYPE_EVB = 0x0d
/** OUI (3) + subtype (1) + 5 octets. */
export const EVB_INFO_LENGTH = 9
export const EVB_BODY_LENGTH = 5

const RRSTAT = [0, 1, 2, 3] as const

/** The five EVB octets at `at` (after OUI and subtype). The caller guarantees they are there. */
export function evbFromOctets(buf: Uint8Array, at: number): EvbTlv {
  const bridge = buf[at]
  const station = buf[at + 1]
  const rRte = buf[at + 2]
  const modeRwd = buf[at + 3]
  const rka = buf[at + 4]
  const evb: EvbTlv = {
    bgid: (bridge & 0x04) !== 0,
    rrcap: (bridge & 0x02) !== 0,
    rrctr: (bridge & 0x01) !== 0,
    sgid: (station & 0x08) !== 0,
    rrreq: (station & 0x04) !== 0,
    rrstat: RRSTAT[station & 0x03],
    retries: rRte >>> 5,
    rte: rRte & 0x1f,
    mode: EVB_MODES[modeRwd >>> 6],
    rolRwd: (modeRwd & 0x20) !== 0,
    rwd: modeRwd & 0x1f,
    rolRka: (rka & 0x20) !== 0,
    rka: rka & 0x1f,
  }
  const reservedBridge = bridge >>> 3
  const reservedStation = station >>> 4
  const reservedRka = rka >>> 6
  if ((reservedBridge | reservedStation | reservedRka) !== 0) {
    evb.reserved = {bridgeStatus: reservedBridge, stationStatus: reservedStation, rka: reservedRka}
  }
  return evb
}

export function writeEvbBody(w: OctetWriter, evb: EvbTlv): void {
  const reserved = evb.reserved ?? {bridgeStatus: 0, stationStatus: 0, rka: 0}
  checkRange(reserved.bridgeStatus, 0x1f, 'EVB reserved bridge status bits')
  checkRange(reserved.stationStatus, 0x0f, 'EVB reserved station status bits')
  checkRange(reserved.rka, 0x03, 'EVB reserved RKA bits')
  checkRange(evb.rrstat, 3, 'EVB RRSTAT')
  checkRange(evb.retries, 7, 'EVB R (retries)')
  checkRange(evb.rte, 31, 'EVB RTE')
  checkRange(evb.rwd, 31, 'EVB RWD')
  checkRange(evb.rka, 31, 'EVB RKA')
  const mode = EVB_MODES.indexOf(evb.mode)
  if (mode < 0) checkRange(Number.NaN, 3, 'EVB mode')
  w.u8((reserved.bridgeStatus << 3) | bit(evb.bgid, 0x04) | bit(evb.rrcap, 0x02) | bit(evb.rrctr, 0x01))
  w.u8((reserved.stationStatus << 4) | bit(evb.sgid, 0x08) | bit(evb.rrreq, 0x04) | evb.rrstat)
  w.u8((evb.retries << 5) | evb.rte)
  w.u8((mode << 6) | bit(evb.rolRwd, 0x20) | evb.rwd)
  w.u8((reserved.rka << 6) | bit(evb.rolRka, 0x20) | evb.rka)
}

/** Decode the 9-octet EVB information string (00 80 C2 0D + 5 octets). Throws LldpDecodeError if it is not one. */
export function decodeEvbTlv(info: Uint8Array): EvbTlv {
  if (info.length !== EVB_INFO_LENGTH) {
    throw new LldpDecodeError(
      'org-tlv-malformed',
      0,
      `EVB TLV information string must be ${EVB_INFO_LENGTH} octets, got ${info.length}`,
    )
  }
  if (((info[0] << 16) | (info[1] << 8) | info[2]) !== OUI_IEEE_8021 || info[3] !== SUBTYPE_EVB) {
    throw new LldpDecodeError('org-tlv-malformed', 0, 'not an EVB TLV: OUI/subtype is not 00-80-C2/0x0D')
  }
  return evbFromOctets(info, 4)
}

/** The 9-octet EVB information string for `evb` (wrap it in a type-127 TLV header to send it). */
export function encodeEvbTlv(evb: EvbTlv): Buffer {
  const w = new OctetWriter(EVB_INFO_LENGTH)
  w.u24(OUI_IEEE_8021)
  w.u8(SUBTYPE_EVB)
  writeEvbBody(w, evb)
  return w.toBuffer()
}

/** CDCP body [at, end): 4 octets then 3 per S-channel. Returns a reason string when the layout is wrong. */
export function cdcpFromOctets(buf: Uint8Array, at: number, end: number): CdcpTlv | string {
  const n = end - at
  if (n < 4 || (n - 4) % 3 !== 0) return `CDCP TLV body of ${n} octets is not 4 + 3n`
  const o0 = buf[at]
  const channels: CdcpChannel[] = []
  for (let p = at + 4; p < end; p += 3) {
    channels.push({scid: (buf[p] << 4) | (buf[p + 1] >>> 4), svid: ((buf[p + 1] & 0x0f) << 8) | buf[p + 2]})
  }
  const cdcp: CdcpTlv = {
    role: (o0 >>> 7) as 0 | 1,
    scomp: (o0 & 0x08) !== 0,
    channelCapacity: ((buf[at + 2] & 0x0f) << 8) | buf[at + 3],
    channels,
  }
  const afterRole = (o0 >>> 4) & 0x07
  const beforeChannelCapacity = ((o0 & 0x07) << 12) | (buf[at + 1] << 4) | (buf[at + 2] >>> 4)
  if ((afterRole | beforeChannelCapacity) !== 0) cdcp.reserved = {afterRole, beforeChannelCapacity}
  return cdcp
}

export function writeCdcpBody(w: OctetWriter, cdcp: CdcpTlv): void {
  const afterRole = cdcp.reserved?.afterRole ?? 0
  const before = cdcp.reserved?.beforeChannelCapacity ?? 0
  checkRange(cdcp.role, 1, 'CDCP role')
  checkRange(afterRole, 0x07, 'CDCP reserved bits after role')
  checkRange(before, 0x7fff, 'CDCP reserved bits before ChnCap')
  checkRange(cdcp.channelCapacity, 0xfff, 'CDCP channel capacity')
  w.u8((cdcp.role << 7) | (afterRole << 4) | bit(cdcp.scomp, 0x08) | (before >>> 12))
  w.u8((before >>> 4) & 0xff)
  w.u8(((before & 0x0f) << 4) | (cdcp.channelCapacity >>> 8))
  w.u8(cdcp.channelCapacity & 0xff)
  for (const ch of cdcp.channels) {
    checkRange(ch.scid, 0xfff, 'CDCP SCID')
    checkRange(ch.svid, 0xfff, 'CDCP SVID')
    w.u24((ch.scid << 12) | ch.svid)
  }
}
