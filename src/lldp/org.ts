/**
 * Organizationally specific TLVs (type 127): OUI + subtype dispatch to the 802.1, 802.3, LLDP-MED and IANA
 * codecs. Unknown OUIs/subtypes are kept as octets; known ones with a bad layout become MalformedTlv.
 */
import type {DecodeContext} from './context.js'
import {decodeText, hexByte, lastTextEncoding} from './octets.js'
import {decodeIeee8021, OUI_8021, writeIeee8021Body} from './ieee8021.js'
import {decodeIeee8023, OUI_8023, writeIeee8023Body} from './ieee8023.js'
import {decodeMed, OUI_MED, writeMedBody} from './med.js'
import type {LldpTlv, MudUrlTlv, OrgTlv} from './types.js'
import {LldpEncodeError} from './errors.js'
import {type OctetWriter} from './writer.js'

const OUI_IANA = '00-00-5e'
const IANA_SUBTYPE_MUD_URL = 1

function ouiString(value: number): string {
  switch (value) {
    case 0x0080c2:
      return OUI_8021
    case 0x00120f:
      return OUI_8023
    case 0x0012bb:
      return OUI_MED
    case 0x00005e:
      return OUI_IANA
    default:
      return hexByte(value >>> 16) + '-' + hexByte(value >>> 8) + '-' + hexByte(value)
  }
}

function parseOui(oui: string): number {
  const m = /^([0-9a-fA-F]{2})[-:]?([0-9a-fA-F]{2})[-:]?([0-9a-fA-F]{2})$/.exec(oui)
  if (!m) return -1
  return (parseInt(m[1], 16) << 16) | (parseInt(m[2], 16) << 8) | parseInt(m[3], 16)
}

function decodeIana(subtype: number, buf: Buffer, s: number, e: number): OrgTlv | undefined {
  if (subtype !== IANA_SUBTYPE_MUD_URL) return undefined
  const url = decodeText(buf, s, e)
  return {kind: 'mudUrl', type: 127, oui: OUI_IANA, subtype, url, encoding: lastTextEncoding} satisfies MudUrlTlv
}

export function decodeOrgTlv(buf: Buffer, tlvAt: number, start: number, end: number, ctx: DecodeContext): LldpTlv {
  const n = end - start
  if (n < 4) {
    return ctx.malformed(
      'org-tlv-length',
      tlvAt,
      127,
      n,
      buf.subarray(start, end),
      `organizationally specific TLV length ${n} < 4`,
    )
  }
  const oui = (buf[start] << 16) | (buf[start + 1] << 8) | buf[start + 2]
  const subtype = buf[start + 3]
  const body = start + 4
  let decoded: OrgTlv | string | undefined
  switch (oui) {
    case 0x0080c2:
      decoded = decodeIeee8021(subtype, buf, body, end)
      break
    case 0x00120f:
      decoded = decodeIeee8023(subtype, buf, body, end)
      break
    case 0x0012bb:
      decoded = decodeMed(subtype, buf, body, end)
      break
    case 0x00005e:
      decoded = decodeIana(subtype, buf, body, end)
      break
  }
  if (decoded === undefined)
    return {kind: 'orgSpecific', type: 127, oui: ouiString(oui), subtype, data: buf.subarray(body, end)}
  if (typeof decoded === 'string')
    return ctx.malformed('org-tlv-malformed', tlvAt, 127, n, buf.subarray(start, end), decoded)
  return decoded
}

/** Writes OUI, subtype and body of an org TLV. */
export function writeOrgInfo(w: OctetWriter, tlv: OrgTlv): void {
  const oui = parseOui(tlv.oui)
  if (oui < 0) throw new LldpEncodeError(`not an OUI: ${JSON.stringify(tlv.oui)}`)
  w.u24(oui)
  w.u8(tlv.subtype, 'org subtype')
  if (tlv.kind === 'orgSpecific') {
    w.bytes(tlv.data)
    return
  }
  if (tlv.kind === 'mudUrl') {
    w.text(tlv.url, tlv.encoding)
    return
  }
  if (writeIeee8021Body(w, tlv) || writeIeee8023Body(w, tlv) || writeMedBody(w, tlv)) return
  throw new LldpEncodeError(`no encoder for org TLV kind ${(tlv as OrgTlv).kind}`)
}
