import {Args, Flags} from '@oclif/core'

import {VdpCommand} from '../../src/cli/vdp-command.js'
import {ETHERTYPE_ECP, ethertypeOffset} from '../../src/core/ethernet.js'
import {exitCodeFor} from '../../src/error-codes.js'
import {LINKTYPE_ETHERNET, PcapFormatError, readPcapBatches, type PcapRecord} from '../../src/pcap/index.js'
import {formatCaptureTime} from '../../src/pcap/time.js'
import {EcpDecodeError} from '../../src/vdp/errors.js'
import {decodeEcpVdpFrame, EcpExchangeTracker, type DecodedEcpVdpFrame} from '../../src/vdp/frame-decode.js'
import {ecpFrameJson, formatEcpSummary, formatEcpTree} from '../../src/vdp/format.js'

interface Totals {
  frames: number
  ecp: number
  /** ECP frames too short for the ECP header. */
  truncated: number
  vdpdus: number
  malformedVdpdus: number
  vsiTlvs: Record<string, number>
  skipped: number
}

export default class VdpDecode extends VdpCommand {
  static override summary = 'Decode the ECP22 and VDP22 frames of a pcap or pcapng file.'
  static override description =
    'One line per ECP frame (header, sequence, which request an ACK acknowledges, retransmissions, and each VSI TLV in short); ' +
    '-v adds a tree with every field: manager ID, mode, status with its reason, type ID and version, VSIID format and value, ' +
    'filter format and every filter entry. Ratified 802.1Qbg-2012 (VDP22 over ECP22, EtherType 0x8940), also behind VLAN tags. ' +
    'Other frames are skipped and counted. --json writes one JSON object per line (JSON Lines), then a summary object.'
  static override examples = [
    '<%= config.bin %> vdp decode capture.pcap',
    '<%= config.bin %> vdp decode -v capture.pcapng',
    '<%= config.bin %> vdp decode --json capture.pcap | jq -c \'select(.vdp) | .vdp.tlvs[] | select(.kind == "vsi") | .filter\'',
  ]
  static override args = {
    file: Args.string({description: 'pcap or pcapng capture file', required: true}),
  }
  static override flags = {
    json: Flags.boolean({summary: 'JSON Lines: one object per ECP frame, then {"summary": ...}.'}),
    verbose: Flags.boolean({
      char: 'v',
      summary: 'Print the ECP header and every VDP TLV field under the summary line.',
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(VdpDecode)
    const totals: Totals = {frames: 0, ecp: 0, truncated: 0, vdpdus: 0, malformedVdpdus: 0, vsiTlvs: {}, skipped: 0}
    const tracker = new EcpExchangeTracker()
    const out: string[] = []
    const flush = (): void => {
      if (out.length > 0) process.stdout.write(out.join('\n') + '\n')
      out.length = 0
    }
    try {
      for await (const batch of readPcapBatches(args.file)) {
        for (const record of batch) {
          const number = ++totals.frames
          if (record.linkType !== LINKTYPE_ETHERNET || ethertypeOffset(record.data, ETHERTYPE_ECP) < 0) {
            totals.skipped++
            continue
          }
          totals.ecp++
          this.decodeOne(number, record, flags, totals, tracker, out)
        }
        flush()
      }
    } catch (err) {
      flush()
      if (err instanceof PcapFormatError) this.error(`${args.file}: ${err.message}`, {exit: exitCodeFor(err.code)})
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.error(`${args.file}: no such file`, {exit: 2})
      throw err
    }
    const exchanges = tracker.totals()
    if (flags.json) {
      process.stdout.write(JSON.stringify({summary: {...totals, ...exchanges}}) + '\n')
      return
    }
    const vsis = Object.entries(totals.vsiTlvs)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')
    process.stdout.write(
      `${totals.frames} frames: ${totals.ecp} ECP (${exchanges.requests} requests, ${exchanges.retransmissions} of them retransmissions, ` +
        `${exchanges.acks} ACKs, ${exchanges.unacknowledged} requests never acknowledged${totals.truncated ? `, ${totals.truncated} too short` : ''}); ` +
        `${totals.vdpdus} VDPDUs (${totals.malformedVdpdus} malformed)${vsis ? `, VSI TLVs: ${vsis}` : ''}, ${exchanges.answered} responses matched; ` +
        `${totals.skipped} other frames skipped\n`,
    )
  }

  private decodeOne(
    number: number,
    record: PcapRecord,
    flags: {json: boolean; verbose: boolean},
    totals: Totals,
    tracker: EcpExchangeTracker,
    out: string[],
  ): void {
    const time = formatCaptureTime(record.timestampNs)
    const cut =
      record.originalLength > record.data.length
        ? ` (capture cut ${record.originalLength - record.data.length} octets short)`
        : ''
    let frame: DecodedEcpVdpFrame
    try {
      frame = decodeEcpVdpFrame(record.data)
    } catch (err) {
      if (!(err instanceof EcpDecodeError)) throw err
      totals.truncated++
      if (flags.json)
        out.push(
          JSON.stringify({
            frame: number,
            time,
            capturedLength: record.data.length,
            originalLength: record.originalLength,
            error: err.toJSON(),
          }),
        )
      else out.push(`#${number} ${time} ECP TOO SHORT: ${err.message}${cut}`)
      return
    }
    if (frame.vdp) {
      totals.vdpdus++
      for (const tlv of frame.vdp.tlvs) {
        if (tlv.kind !== 'vsi') continue
        const key = `${tlv.mode} ${tlv.status.kind}`
        totals.vsiTlvs[key] = (totals.vsiTlvs[key] ?? 0) + 1
      }
    }
    if (frame.vdpError) totals.malformedVdpdus++
    const exchange = tracker.observe(number, record.timestampNs, frame)
    if (flags.json) {
      out.push(
        JSON.stringify({
          frame: number,
          time,
          capturedLength: record.data.length,
          originalLength: record.originalLength,
          ...ecpFrameJson(frame, exchange),
        }),
      )
      return
    }
    out.push(`#${number} ${time} ${formatEcpSummary(frame, exchange)}${cut}`)
    if (flags.verbose) out.push(formatEcpTree(frame))
  }
}
