/**
 * The ECP header as Wireshark's `ecp21` dissector prints it in `tshark -V` text (tshark 4.0: the draft-2.1
 * dissector). Only the header is taken: its VDP tree misreads ratified VDP22 filter entries (docs/vdp.md).
 */
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

export interface TsharkEcpHeader {
  frame: number
  version: number
  operation: number
  subtype: number
  sequence: number
}

/** Every frame with an "Edge Control Protocol" tree, by frame number. */
export function parseTsharkEcp(text: string): Map<number, TsharkEcpHeader> {
  const out = new Map<number, TsharkEcpHeader>()
  let frame = 0
  let inEcp = false
  let header: Partial<TsharkEcpHeader> = {}
  const value = (line: string, name: string): number | undefined => {
    const m = new RegExp(
      `= ${name}: .*?\\((0x[0-9a-f]+)\\)\\s*$|^\\s*${name}: (\\d+)\\s*$|= ${name}: (\\d+)\\s*$`,
      'i',
    ).exec(line)
    return m ? Number(m[1] ?? m[2] ?? m[3]) : undefined
  }
  for (const line of text.split('\n')) {
    const f = /^Frame (\d+):/.exec(line)
    if (f) {
      frame = Number(f[1])
      inEcp = false
      continue
    }
    if (/^\S/.test(line)) {
      inEcp = line.startsWith('Edge Control Protocol')
      if (inEcp) header = {frame}
      continue
    }
    if (!inEcp) continue
    header.version ??= value(line, 'Version')
    header.operation ??= value(line, 'Operation')
    header.subtype ??= value(line, 'Subtype')
    header.sequence ??= value(line, 'Sequence number')
    if (
      header.sequence !== undefined &&
      header.version !== undefined &&
      header.operation !== undefined &&
      header.subtype !== undefined
    ) {
      out.set(frame, header as TsharkEcpHeader)
      inEcp = false
    }
  }
  return out
}

const run = promisify(execFile)

/** `tshark -n -V -r FILE -Y ecp21` now, on this machine; undefined when tshark is not installed. */
export async function tsharkEcpLive(pcap: string): Promise<Map<number, TsharkEcpHeader> | undefined> {
  try {
    const {stdout} = await run('tshark', ['-n', '-V', '-r', pcap, '-Y', 'ecp21'], {
      env: {...process.env, TZ: 'UTC'},
      maxBuffer: 1 << 26,
    })
    return parseTsharkEcp(stdout)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
