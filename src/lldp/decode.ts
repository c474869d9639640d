/**
 * The LLDPDU decoder: walks the TLV chain once, applies the 802.1AB receive rules (rules.ts) and lifts the
 * fields the daemon needs (chassis/port ID, TTL, strings, capabilities, management addresses, EVB) out of
 * the TLV list.
 */
import {formatMac, readVlanTags, type VlanTag} from '../core/ethernet.js'
import {decodeCapabilitiesTlv, decodeIdTlv, decodeManagementAddressTlv, decodeTextTlv, decodeTtlTlv} from './basic.js'
import {DecodeContext} from './context.js'
import {LldpDecodeError} from './errors.js'
import {lldpPayloadOffset} from './framing.js'
import {tlvTypeName} from './names.js'
import {hex, displayText} from './octets.js'
import {decodeOrgTlv} from './org.js'
import type {
  DecodeOptions,
  EvbTlv,
  LldpFrame,
  LldpId,
  LldpTlv,
  Lldpdu,
  ManagementAddress,
  SystemCapabilities,
} from './types.js'

const END_TLV: LldpTlv = Object.freeze({kind: 'end', type: 0}) as LldpTlv
/** Most frames have no trailer; a zero-length Buffer cannot be written to, so all of them can share one. */
const NO_TRAILER = Buffer.alloc(0)
const UNTAGGED: readonly VlanTag[] = Object.freeze([])
const NO_ADDRESSES: readonly ManagementAddress[] = Object.freeze([])
/** One context for all decodes: the decoder is synchronous and never re-entered. */
const sharedContext = new DecodeContext(false)
const MANDATORY_ORDER = ['Chassis ID', 'Port ID', 'Time To Live']

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Anything but our own error escaping a decoder is a bug; report it as the typed error all the same. */
function asDecodeError(err: unknown): LldpDecodeError {
  if (err instanceof LldpDecodeError) return err
  return new LldpDecodeError(
    'internal-error',
    0,
    `unexpected decoder failure: ${err instanceof Error ? err.message : String(err)}`,
  )
}

/** Decode an Ethernet II frame (optionally 802.1Q/802.1ad tagged) carrying an LLDPDU. */
export function decodeLldpFrame(frame: Uint8Array, opts?: DecodeOptions): LldpFrame {
  try {
    const buf = asBuffer(frame)
    if (buf.length < 14) {
      throw new LldpDecodeError('not-lldp', 0, `frame of ${buf.length} octets is shorter than an Ethernet header`)
    }
    const payload = lldpPayloadOffset(buf)
    if (payload < 0) {
      const outer = hex(buf, 12, 14)
      const what =
        outer === '8100' || outer === '88a8' || outer === '9100'
          ? `VLAN-tagged (0x${outer}) frame does not carry LLDP`
          : `EtherType 0x${outer} is not LLDP (0x88cc)`
      throw new LldpDecodeError('not-lldp', 12, what)
    }
    const pdu = decodeTlvChain(buf, payload, opts?.strict === true)
    return {
      dst: formatMac(buf, 0),
      src: formatMac(buf, 6),
      vlanTags: payload === 14 ? UNTAGGED : readVlanTags(buf, payload - 2),
      tlvs: pdu.tlvs,
      trailer: pdu.trailer,
      chassisId: pdu.chassisId,
      portId: pdu.portId,
      ttl: pdu.ttl,
      isShutdown: pdu.isShutdown,
      portDescription: pdu.portDescription,
      systemName: pdu.systemName,
      systemDescription: pdu.systemDescription,
      capabilities: pdu.capabilities,
      managementAddresses: pdu.managementAddresses,
      evb: pdu.evb,
      warnings: pdu.warnings,
      discardRequired: pdu.discardRequired,
    }
  } catch (err) {
    throw asDecodeError(err)
  }
}

/** Decode a bare LLDPDU (no Ethernet header); offsets in errors and warnings are relative to it. */
export function decodeLldpdu(lldpdu: Uint8Array, opts?: DecodeOptions): Lldpdu {
  try {
    return decodeTlvChain(asBuffer(lldpdu), 0, opts?.strict === true)
  } catch (err) {
    throw asDecodeError(err)
  }
}

function decodeTlvChain(buf: Buffer, start: number, strict: boolean): Lldpdu {
  const ctx = sharedContext.reset(strict)
  const end = buf.length
  const tlvs: LldpTlv[] = []
  let chassisId: LldpId | undefined
  let portId: LldpId | undefined
  let ttl = -1
  let portDescription: string | undefined
  let systemName: string | undefined
  let systemDescription: string | undefined
  let capabilities: SystemCapabilities | undefined
  let managementAddresses: ManagementAddress[] | undefined
  let evb: EvbTlv | undefined
  let seen = 0 // bit t set: a well-formed TLV of type t (1..7) was kept
  let orderReported = false
  let sawEnd = false
  let overran = false

  let off = start
  while (off < end) {
    if (end - off < 2) {
      overran = true
      ctx.report('tlv-overrun', off, `${end - off} octet left after the last TLV, too few for a TLV header`)
      break
    }
    const type = buf[off] >>> 1
    const len = ((buf[off] & 1) << 8) | buf[off + 1]
    const s = off + 2
    const e = s + len
    if (e > end) {
      overran = true
      tlvs.push(
        ctx.malformed(
          'tlv-overrun',
          off,
          type,
          len,
          buf.subarray(s, end),
          `${tlvTypeName(type)} TLV of length ${len} runs ${e - end} octet(s) past the end of the LLDPDU`,
        ),
      )
      off = end
      break
    }
    if (type === 0) {
      sawEnd = true
      tlvs.push(
        len === 0
          ? END_TLV
          : ctx.malformed('end-tlv-length', off, 0, len, buf.subarray(s, e), `End TLV has length ${len}`),
      )
      off = e
      break
    }
    const index = tlvs.length
    if (index < 3 && type !== index + 1 && !orderReported) {
      orderReported = true
      ctx.report(
        'mandatory-tlv-order',
        off,
        `TLV ${index + 1} is ${tlvTypeName(type)}, expected ${MANDATORY_ORDER[index]}`,
      )
    }
    let tlv: LldpTlv
    switch (type) {
      case 1:
      case 2:
        tlv = decodeIdTlv(type, buf, off, s, e, ctx)
        break
      case 3:
        tlv = decodeTtlTlv(buf, off, s, e, ctx)
        break
      case 4:
      case 5:
      case 6:
        tlv = decodeTextTlv(type, buf, off, s, e, ctx)
        break
      case 7:
        tlv = decodeCapabilitiesTlv(buf, off, s, e, ctx)
        break
      case 8:
        tlv = decodeManagementAddressTlv(buf, off, s, e, ctx)
        break
      case 127:
        tlv = decodeOrgTlv(buf, off, s, e, ctx)
        break
      default:
        tlv = {kind: 'unrecognized', type, data: buf.subarray(s, e)}
    }
    tlvs.push(tlv)
    off = e

    if (type <= 7 && tlv.kind !== 'malformed') {
      const mask = 1 << type
      if ((seen & mask) !== 0) {
        if (type <= 3) ctx.report('duplicate-mandatory-tlv', s - 2, `second ${tlvTypeName(type)} TLV`)
        else ctx.report('duplicate-tlv', s - 2, `second ${tlvTypeName(type)} TLV ignored`)
        continue
      }
      seen |= mask
      switch (tlv.kind) {
        case 'chassisId':
          chassisId = tlv.id
          break
        case 'portId':
          portId = tlv.id
          break
        case 'ttl':
          ttl = tlv.seconds
          break
        case 'portDescription':
          portDescription = displayText(tlv.value)
          break
        case 'systemName':
          systemName = displayText(tlv.value)
          break
        case 'systemDescription':
          systemDescription = displayText(tlv.value)
          break
        case 'systemCapabilities':
          capabilities = tlv
          break
      }
    } else if (tlv.kind === 'managementAddress') {
      if (managementAddresses === undefined) managementAddresses = [tlv]
      else managementAddresses.push(tlv)
    } else if (tlv.kind === 'evb' && evb === undefined) {
      evb = tlv.evb
    }
  }

  if (!sawEnd && !overran) ctx.report('missing-end-tlv', off, 'the LLDPDU ends without an End TLV')
  if (chassisId === undefined || portId === undefined || ttl < 0) {
    const missing = [
      chassisId === undefined && 'Chassis ID',
      portId === undefined && 'Port ID',
      ttl < 0 && 'Time To Live',
    ].filter(Boolean)
    const err = new LldpDecodeError('mandatory-tlv-missing', start, `no usable ${missing.join(', ')} TLV`)
    err.partial = {tlvs, warnings: ctx.warnings}
    throw err
  }
  return {
    tlvs,
    trailer: off === end ? NO_TRAILER : buf.subarray(off, end),
    chassisId,
    portId,
    ttl,
    isShutdown: ttl === 0,
    portDescription,
    systemName,
    systemDescription,
    capabilities,
    managementAddresses: managementAddresses ?? NO_ADDRESSES,
    evb,
    warnings: ctx.warnings,
    discardRequired: ctx.discardRequired,
  }
}
