import {Args, Flags} from '@oclif/core'

import {VdpCommand} from '../../src/cli/vdp-command.js'
import {ETHERTYPE_LLDP, ethertypeOffset} from '../../src/core/ethernet.js'
import {exitCodeFor} from '../../src/error-codes.js'
import {decodeLldpFrame, LldpDecodeError, type LldpFrame} from '../../src/lldp/index.js'
import {formatLldpSummary, formatLldpTree, toJsonValue} from '../../src/lldp/format.js'
import {LINKTYPE_ETHERNET, PcapFormatError, readPcapBatches, type PcapRecord} from '../../src/pcap/index.js'
import {formatCaptureTime} from '../../src/pcap/time.js'

interface Totals {
  frames: number
  lldp: number
  decoded: number
  rejected: number
  skipped: number
  withWarnings: number
  rejectedByRule: Record<string, number>
}

function isLldpEthernet(r: PcapRecord): boolean {
  return r.linkType === LINKTYPE_ETHERNET && ethertypeOffset(r.data, ETHERTYPE_LLDP) >= 0
}

export default class LldpDecode extends VdpCommand {
  static override summary = 'Decode the LLDP frames of a pcap or pcapng file.'
  static override description =
    'One line per LLDP frame (chassis, port, TTL, name, capabilities, EVB); -v adds a tcpdump-like tree of every TLV. ' +
    'Other frames are skipped and counted. --strict applies the 802.1AB receive rules and reports the rule a frame breaks; ' +
    'by default frames are decoded leniently with warnings. --json writes one JSON object per line (JSON Lines), then a summary object.'
  static override examples = [
    '<%= config.bin %> lldp decode capture.pcap',
    '<%= config.bin %> lldp decode -v --strict capture.pcapng',
    "<%= config.bin %> lldp decode --json capture.pcap | jq -c 'select(.lldp) | .lldp.evb'",
  ]
  static override args = {
    file: Args.string({description: 'pcap or pcapng capture file', required: true}),
  }
  static override flags = {
    json: Flags.boolean({summary: 'JSON Lines: one object per LLDP frame, then {"summary": ...}.'}),
    strict: Flags.boolean({summary: 'Reject frames that break an 802.1AB receive rule (naming the rule).'}),
    verbose: Flags.boolean({char: 'v', summary: 'Print every TLV under the summary line.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(LldpDecode)
    const totals: Totals = {
      frames: 0,
      lldp: 0,
      decoded: 0,
      rejected: 0,
      skipped: 0,
      withWarnings: 0,
      rejectedByRule: {},
    }
    const out: string[] = []
    const flush = (): void => {
      if (out.length > 0) process.stdout.write(out.join('\n') + '\n')
      out.length = 0
    }
    try {
      for await (const batch of readPcapBatches(args.file)) {
        for (const record of batch) {
          const number = ++totals.frames
          if (!isLldpEthernet(record)) {
            totals.skipped++
            continue
          }
          totals.lldp++
          this.decodeOne(number, record, flags, totals, out)
        }
        flush()
      }
    } catch (err) {
      flush()
      if (err instanceof PcapFormatError) this.error(`${args.file}: ${err.message}`, {exit: exitCodeFor(err.code)})
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.error(`${args.file}: no such file`, {exit: 2})
      throw err
    }
    if (flags.json) {
      process.stdout.write(JSON.stringify({summary: totals}) + '\n')
    } else {
      const rules = Object.entries(totals.rejectedByRule)
        .map(([rule, n]) => `${rule} ${n}`)
        .join(', ')
      process.stdout.write(
        `${totals.frames} frames: ${totals.lldp} LLDP (${totals.decoded} decoded, ${totals.withWarnings} with warnings, ` +
          `${totals.rejected} rejected${rules ? `: ${rules}` : ''}), ${totals.skipped} other frames skipped\n`,
      )
    }
  }

  private decodeOne(
    number: number,
    record: PcapRecord,
    flags: {json: boolean; strict: boolean; verbose: boolean},
    totals: Totals,
    out: string[],
  ): void {
    const time = formatCaptureTime(record.timestampNs)
    const cut = record.originalLength > record.data.length ? record.originalLength - record.data.length : 0
    let frame: LldpFrame
    try {
      frame = decodeLldpFrame(record.data, {strict: flags.strict})
    } catch (err) {
      if (!(err instanceof LldpDecodeError)) throw err
      totals.rejected++
      totals.rejectedByRule[err.rule] = (totals.rejectedByRule[err.rule] ?? 0) + 1
      if (flags.json) {
        out.push(
          JSON.stringify({
            frame: number,
            time,
            capturedLength: record.data.length,
            originalLength: record.originalLength,
            error: {rule: err.rule, offset: err.offset, message: err.message},
          }),
        )
        return
      }
      out.push(`#${number} ${time} LLDP REJECTED: ${err.message}${cut ? ` (capture cut ${cut} octets short)` : ''}`)
      if (flags.verbose && err.partial) out.push(formatLldpTree(err.partial))
      return
    }
    totals.decoded++
    if (frame.warnings.length > 0) totals.withWarnings++
    if (flags.json) {
      out.push(
        JSON.stringify({
          frame: number,
          time,
          capturedLength: record.data.length,
          originalLength: record.originalLength,
          lldp: toJsonValue(frame),
        }),
      )
      return
    }
    out.push(`#${number} ${time} ${formatLldpSummary(frame)}${cut ? ` (capture cut ${cut} octets short)` : ''}`)
    if (flags.verbose) out.push(formatLldpTree(frame))
  }
}
