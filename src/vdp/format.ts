/**
 * Human and JSON rendering of decoded ECP22/VDP22 frames, used by `vdp-agent vdp decode`: a one-line summary
 * per frame and a tcpdump-like tree (-v) with every field of every VDP TLV (802.1Qbg-2012 cl. 41.2; the
 * field names of docs/vdp.md). Pure: decoded frames in, strings and JSON values out.
 */
import {ecpSubtypeName, type DecodedEcpVdpFrame, type EcpExchange} from './frame-decode.js'
import {managerIdText} from './manager-id.js'
import {encodeTlv, type VdpTlv, type VsiTlv} from './vdp-codec.js'
import {FILTER_FORMAT_NAME, type FilterEntry, type VsiFilter} from './vsi-filter.js'
import {encodeStatus, vdpErrorText, type VsiStatus} from './vsi-status.js'
import {VSIID_FORMAT_CODE, vsiidText, type Vsiid} from './vsiid.js'

const MODE_TITLE: Readonly<Record<VsiTlv['mode'], string>> = {
  preassoc: 'Pre-Associate (1)',
  'preassoc-rr': 'Pre-Associate with RR (2)',
  assoc: 'Associate (3)',
  deassoc: 'De-Associate (4)',
}

const VSIID_FORMAT_NAME: Readonly<Record<Vsiid['format'], string>> = {
  ipv4: 'IPv4',
  ipv6: 'IPv6',
  mac: 'MAC',
  local: 'local',
  uuid: 'UUID',
}

function hexOf(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')
}

function hexDump(data: Uint8Array, indent: string): string[] {
  const lines: string[] = []
  for (let i = 0; i < data.length; i += 16) {
    lines.push(
      `${indent}0x${i.toString(16).padStart(4, '0')}: ${hexOf(data.subarray(i, i + 16)).replace(/(..)(?!$)/g, '$1 ')}`,
    )
  }
  return lines
}

/** Nanoseconds as "0.089 ms" / "1.250 s". */
function formatDelay(ns: bigint): string {
  const ms = Number(ns) / 1e6
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(3)} ms`
}

/** "request", "request, M-bit (migrating to)", "response: success", "response: invalid format (error 1, hard, keep)". */
function formatStatus(status: VsiStatus): string {
  if (status.kind === 'request') {
    const hints = [
      status.migratingTo ? 'M-bit (migrating to)' : '',
      status.migratingFrom ? 'S-bit (migrating from / suspended)' : '',
    ].filter(Boolean)
    return ['request', ...hints, ...(status.reason ? [`reason ${status.reason}`] : [])].join(', ')
  }
  const flags = [status.hard ? 'hard' : '', status.keep ? 'keep' : ''].filter(Boolean)
  const text =
    status.error === 0 && flags.length === 0
      ? 'success'
      : `${vdpErrorText(status.error)} (error ${status.error}${flags.length ? `, ${flags.join(', ')}` : ''})`
  return `response: ${text}`
}

function formatVsiid(vsiid: Vsiid): string {
  return `${VSIID_FORMAT_NAME[vsiid.format]} ${vsiidText(vsiid)}`
}

/** One filter entry: "GroupID 20000, MAC 52:54:00:aa:bb:01, VID 0 (assign)", PS/PCP only when set. */
function formatFilterEntry(e: FilterEntry): string {
  const parts: string[] = []
  if (e.groupId !== undefined) parts.push(`GroupID ${e.groupId}`)
  if (e.mac !== undefined) parts.push(`MAC ${e.mac}`)
  parts.push(`VID ${e.vid}${e.vid === 0 ? ' (null: bridge assigns)' : ''}`)
  if (e.ps || e.pcp) parts.push(`PS ${Number(e.ps)}, PCP ${e.pcp}`)
  return parts.join(', ')
}

function filterShort(filter: VsiFilter): string {
  const entries = filter.entries.map((e) =>
    [e.groupId !== undefined ? `gid ${e.groupId}` : '', e.mac ?? '', `vid ${e.vid}`].filter(Boolean).join(' '),
  )
  const shown = entries.length > 3 ? [...entries.slice(0, 3), `+${entries.length - 3} more`] : entries
  return `${FILTER_FORMAT_NAME[filter.format]} [${shown.join('; ')}]`
}

function vsiShort(tlv: VsiTlv): string {
  const status =
    tlv.status.kind === 'request'
      ? 'request'
      : tlv.status.error === 0
        ? 'ok'
        : `error ${tlv.status.error}${tlv.status.hard ? ' hard' : ''}${tlv.status.keep ? ' keep' : ''}`
  return `${tlv.mode} ${status} ${formatVsiid(tlv.vsiid)} type ${tlv.typeId}/${tlv.typeVersion} ${filterShort(tlv.filter)}`
}

/** Title, value and detail lines of one VDP TLV. */
function describeVdpTlv(tlv: VdpTlv, statusOctet?: number): {title: string; value?: string; lines: string[]} {
  switch (tlv.kind) {
    case 'manager-id':
      return {
        title: 'VSI Manager ID (5)',
        value: managerIdText(tlv.managerId),
        lines: [`octets ${hexOf(tlv.managerId)}`],
      }
    case 'vsi': {
      const s = tlv.status
      return {
        title: MODE_TITLE[tlv.mode],
        value: formatStatus(s),
        lines: [
          `status 0x${(statusOctet ?? encodeStatus(s)).toString(16).padStart(2, '0')}: ${s.kind === 'request' ? `M ${Number(s.migratingTo)}, S ${Number(s.migratingFrom)}, reason ${s.reason}` : `hard ${Number(s.hard)}, keep ${Number(s.keep)}, error ${s.error} (${vdpErrorText(s.error)})`}`,
          `VSI type ID ${tlv.typeId} (0x${tlv.typeId.toString(16).padStart(6, '0')}), version ${tlv.typeVersion}`,
          `VSIID format ${VSIID_FORMAT_NAME[tlv.vsiid.format]} (${VSIID_FORMAT_CODE[tlv.vsiid.format]}): ${vsiidText(tlv.vsiid)}`,
          `filter format ${FILTER_FORMAT_NAME[tlv.filter.format]} (${tlv.filter.format}), ${tlv.filter.entries.length} ${tlv.filter.entries.length === 1 ? 'entry' : 'entries'}`,
          ...tlv.filter.entries.map((e, i) => `  entry ${i + 1}: ${formatFilterEntry(e)}`),
        ],
      }
    }
    case 'cisco-vm-name':
      return {
        title: 'Cisco VM name (127/00-00-0c/0xf1)',
        value: JSON.stringify(tlv.vmName),
        lines: [`VSIID ${formatVsiid(tlv.vsiid)}`, `VM ID format ${tlv.vmIdFormat}, VM UUID ${tlv.vmUuid}`],
      }
    case 'cisco-ipv4-address':
      return {
        title: 'Cisco L3 address (127/00-00-0c/0xf2)',
        value: `IPv4 ${tlv.ipv4}`,
        lines: [`VSIID ${formatVsiid(tlv.vsiid)}`],
      }
    case 'org':
      return {title: `Organisationally specific (127/${tlv.oui})`, lines: hexDump(tlv.data, '')}
    case 'unknown':
      return {title: `Reserved TLV type ${tlv.tlvType}`, lines: hexDump(tlv.info, '')}
  }
}

function exchangeNote(f: DecodedEcpVdpFrame, x: EcpExchange | undefined): string {
  if (!x) return ''
  if (x.retransmissionOf !== undefined) return ` (retransmission ${x.transmission! - 1} of #${x.retransmissionOf})`
  if (x.acknowledges !== undefined) return ` (acks #${x.acknowledges} after ${formatDelay(x.ackDelayNs!)})`
  if (f.operation === 'ack') return ' (no request seen)'
  return ''
}

/** One line: addresses, tags, ECP header, exchange, and the VDP TLVs in short. */
export function formatEcpSummary(f: DecodedEcpVdpFrame, exchange?: EcpExchange): string {
  const parts = [`ECP ${f.src} > ${f.dst}`]
  for (const tag of f.vlanTags) parts.push(`vlan ${tag.vid}`)
  parts.push(
    `${f.operation} ${ecpSubtypeName(f.subtype)} seq ${f.sequence}${f.version === 1 ? '' : ` version ${f.version}`}${exchangeNote(f, exchange)}`,
  )
  if (f.vdp) {
    let manager: string | undefined
    for (const tlv of f.vdp.tlvs) {
      if (tlv.kind === 'manager-id') manager = managerIdText(tlv.managerId)
      else if (tlv.kind === 'vsi')
        parts.push(`${vsiShort(tlv)}${manager !== undefined && manager !== '0' ? ` mgr ${manager}` : ''}`)
    }
    const answered = exchange?.answers?.flatMap((a) => (a ? [`#${a.frame} after ${formatDelay(a.delayNs)}`] : []))
    if (answered?.length) parts.push(`answers ${answered.join(', ')}`)
    parts.push(`${f.vdp.tlvs.length} TLVs`)
  }
  if (f.vdpError) parts.push(`VDPDU MALFORMED [${f.vdpError.code}] at offset ${f.vdpError.offset}`)
  if (f.dropReason) parts.push(`DROPPED by a receiver: ${f.dropReason}`)
  if (f.notes.length > 0) parts.push(`NOTE: ${f.notes.join('; ')}`)
  return parts.join(', ')
}

function tlvLines(
  tlvs: readonly VdpTlv[],
  lengths: readonly number[],
  indent: string,
  statusOctets: readonly number[] = [],
): string[] {
  const lines: string[] = []
  let vsi = 0
  tlvs.forEach((tlv, i) => {
    const {title, value, lines: details} = describeVdpTlv(tlv, tlv.kind === 'vsi' ? statusOctets[vsi++] : undefined)
    lines.push(
      `${indent}${title}, length ${lengths[i] ?? encodeTlv(tlv).length - 2}${value === undefined ? '' : `: ${value}`}`,
    )
    for (const d of details) lines.push(`${indent}  ${d}`)
  })
  return lines
}

/** The -v tree: the ECP header, then one entry per VDP TLV with its fields indented under it. */
export function formatEcpTree(f: DecodedEcpVdpFrame, indent = '  '): string {
  const op = ['request', 'ack', 'reserved-2', 'reserved-3'].indexOf(f.operation)
  const lines = [
    `${indent}ECP header: version ${f.version}, operation ${f.operation} (${op}), subtype ${ecpSubtypeName(f.subtype)} (${f.subtype}), sequence ${f.sequence}`,
  ]
  for (const tag of f.vlanTags) {
    lines.push(`${indent}VLAN tag 0x${tag.tpid.toString(16)}: VID ${tag.vid}, PCP ${tag.pcp}${tag.dei ? ', DEI' : ''}`)
  }
  if (f.vdp) {
    lines.push(...tlvLines(f.vdp.tlvs, f.vdp.tlvLengths, indent, f.vdp.statusOctets))
    const end = f.vdp.endTlv ? 'End TLV' : 'no End TLV'
    const padding =
      f.vdp.padding === 0 ? '' : `, ${f.vdp.padding} octets of ${f.vdp.paddingNonZero ? 'NON-ZERO ' : ''}padding`
    lines.push(`${indent}${end}, VDPDU ${f.vdp.length} octets${padding}`)
  }
  if (f.vdpError) {
    lines.push(...tlvLines(f.vdpError.tlvs, f.vdpError.tlvLengths, indent))
    lines.push(`${indent}MALFORMED at offset ${f.vdpError.offset} [${f.vdpError.code}]: ${f.vdpError.message}`)
  }
  if (f.ulpdu && f.ulpdu.length > 0) {
    lines.push(
      `${indent}${f.operation === 'ack' ? 'padding' : 'ULPDU'} ${f.ulpdu.length} octets${f.ulpdu.every((b) => b === 0) ? ' (zeros)' : ':'}`,
    )
    if (f.ulpdu.some((b) => b !== 0)) lines.push(...hexDump(f.ulpdu.subarray(0, 256), `${indent}  `))
  }
  if (f.dropReason) lines.push(`${indent}dropped by a receiver without an ACK: ${f.dropReason}`)
  for (const note of f.notes) lines.push(`${indent}note: ${note}`)
  return lines.join('\n')
}

/** A JSON-ready VDP TLV: octets as hex, the manager ID also as text, the status octet alongside its fields. */
function vdpTlvJson(tlv: VdpTlv): Record<string, unknown> {
  switch (tlv.kind) {
    case 'manager-id':
      return {kind: tlv.kind, managerId: hexOf(tlv.managerId), managerIdText: managerIdText(tlv.managerId)}
    case 'vsi':
      return {
        kind: tlv.kind,
        mode: tlv.mode,
        status: {
          ...tlv.status,
          octet: encodeStatus(tlv.status),
          ...(tlv.status.kind === 'response' ? {errorText: vdpErrorText(tlv.status.error)} : {}),
        },
        typeId: tlv.typeId,
        typeVersion: tlv.typeVersion,
        vsiid: tlv.vsiid,
        filter: tlv.filter,
      }
    case 'org':
      return {kind: tlv.kind, oui: tlv.oui, data: hexOf(tlv.data)}
    case 'unknown':
      return {kind: tlv.kind, tlvType: tlv.tlvType, info: hexOf(tlv.info)}
    default:
      return {...tlv}
  }
}

/** A JSON-ready decoded frame (see the README's `vdp decode --json`). */
export function ecpFrameJson(f: DecodedEcpVdpFrame, exchange?: EcpExchange): Record<string, unknown> {
  const out: Record<string, unknown> = {
    src: f.src,
    dst: f.dst,
    ...(f.vlanTags.length ? {vlanTags: f.vlanTags} : {}),
    ecp: {
      version: f.version,
      operation: f.operation,
      subtype: f.subtype,
      subtypeName: ecpSubtypeName(f.subtype),
      sequence: f.sequence,
      ulpduLength: f.ulpduLength,
    },
  }
  if (f.vdp)
    out.vdp = {
      tlvs: f.vdp.tlvs.map(vdpTlvJson),
      statusOctets: f.vdp.statusOctets,
      endTlv: f.vdp.endTlv,
      length: f.vdp.length,
      padding: f.vdp.padding,
      paddingNonZero: f.vdp.paddingNonZero,
    }
  if (f.vdpError)
    out.vdpError = {
      code: f.vdpError.code,
      message: f.vdpError.message,
      offset: f.vdpError.offset,
      tlvs: f.vdpError.tlvs.map(vdpTlvJson),
    }
  if (f.ulpdu && f.ulpdu.length > 0) out.ulpdu = hexOf(f.ulpdu)
  if (f.dropReason) out.dropReason = f.dropReason
  if (f.notes.length) out.notes = f.notes
  if (exchange && Object.keys(exchange).length > 0) {
    out.exchange = JSON.parse(JSON.stringify(exchange, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)))
  }
  return out
}
