/**
 * `vdp decode` benchmark, side by side with Wireshark's dissector. After `npx tsc -p tsconfig.json`:
 *
 *   node dist/bench/vdp-decode.js [--frames 200000] [--dir /tmp] [--keep]
 *
 * 1. Writes a pcap of ECP22 traffic as a DFA station and its switch exchange it: an Associate of 4 VM ports
 *    (filter format 4, Cisco VM-name and address TLVs), its ACK, the switch's answer assigning VLANs, its
 *    ACK; repeated with new ports and sequence numbers, one request in 50 retransmitted.
 * 2. Times, as whole processes to /dev/null (wall clock, interleaved with the peer, best of the last two of
 *    three runs each), `vdp-agent vdp decode` against `tshark` (which decodes the same frames with its
 *    pre-standard dissector) at three levels: summary lines, every field (-v / -V), JSON. Prints the ratios.
 *    In-process decode + tree rendering is reported too.
 */
import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, unlinkSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {PcapWriter, readPcapBatches} from '../src/pcap/index.js'
import {ciscoTlvs} from '../src/vdp/cisco-oui.js'
import {encodeEcpFrame} from '../src/vdp/ecp-codec.js'
import {decodeEcpVdpFrame, EcpExchangeTracker} from '../src/vdp/frame-decode.js'
import {formatEcpSummary, formatEcpTree} from '../src/vdp/format.js'
import {encodeVdpdu, type VdpTlv, type VsiTlv} from '../src/vdp/vdp-codec.js'
import {uuidVsiid} from '../src/vdp/vsiid.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const frames = Number(arg('--frames') ?? 200_000)
const dir = arg('--dir') ?? tmpdir()
const keep = process.argv.includes('--keep')
const STATION = '02:00:00:00:01:01'
const BRIDGE = '02:00:00:00:02:01'
const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

function exchange(n: number, response: boolean): Buffer {
  const tlvs: VdpTlv[] = [{kind: 'manager-id', managerId: Buffer.alloc(16)}]
  for (let k = 0; k < 4; k++) {
    const id = n * 4 + k
    const vsiid = uuidVsiid(`00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`)
    const vsi: VsiTlv = {
      kind: 'vsi',
      mode: 'assoc',
      status: response
        ? {kind: 'response', keep: false, hard: false, error: 0}
        : {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
      typeId: 0,
      typeVersion: 0,
      vsiid,
      filter: {
        format: 4,
        entries: [
          {
            ps: false,
            pcp: 0,
            vid: response ? 2 + (id % 4000) : 0,
            mac: `52:54:00:${[16, 8, 0].map((s) => ((id >> s) & 0xff).toString(16).padStart(2, '0')).join(':')}`,
            groupId: 20000 + (id % 1000),
          },
        ],
      },
    }
    tlvs.push(
      vsi,
      ...(response
        ? []
        : ciscoTlvs(vsiid, {name: `vm-${id}`, uuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da', ipv4: '10.0.0.1'})),
    )
  }
  return encodeVdpdu(tlvs)
}

function writeCapture(path: string): number {
  const writer = new PcapWriter({nanosecond: true})
  const fd = openSync(path, 'w')
  writeSync(fd, writer.fileHeader())
  let t = 1_800_000_000_000_000_000n
  let written = 0
  const put = (frame: Buffer) => {
    writeSync(fd, writer.record(frame, (t += 50_000n)))
    written++
  }
  for (let n = 0; written < frames; n++) {
    const sequence = n & 0xffff
    const request = encodeEcpFrame({
      dst: '01:80:c2:00:00:00',
      src: STATION,
      operation: 'request',
      subtype: 1,
      sequence,
      ulpdu: exchange(n, false),
    })
    put(request)
    if (n % 50 === 7) put(request)
    put(encodeEcpFrame({dst: '01:80:c2:00:00:00', src: BRIDGE, operation: 'ack', subtype: 1, sequence, padTo: 60}))
    put(
      encodeEcpFrame({
        dst: '01:80:c2:00:00:00',
        src: BRIDGE,
        operation: 'request',
        subtype: 1,
        sequence,
        ulpdu: exchange(n, true),
      }),
    )
    put(encodeEcpFrame({dst: '01:80:c2:00:00:00', src: STATION, operation: 'ack', subtype: 1, sequence, padTo: 60}))
  }
  closeSync(fd)
  return written
}

function wallClock(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: {...process.env, NODE_ENV: 'production'},
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} exited ${code}`)),
    )
  })
}

const path = join(dir, `vdp-decode-bench-${process.pid}.pcap`)
try {
  const n = writeCapture(path)
  process.stdout.write(
    `${n.toLocaleString('en-US')} ECP frames (${((n / 5) * 4) | 0} VSI TLVs each way, 4 per VDPDU) in ${path}\n`,
  )

  let decoded = 0
  const t0 = performance.now()
  const tracker = new EcpExchangeTracker()
  let number = 0
  for await (const batch of readPcapBatches(path)) {
    for (const r of batch) {
      const f = decodeEcpVdpFrame(r.data)
      const x = tracker.observe(++number, r.timestampNs, f)
      formatEcpSummary(f, x)
      formatEcpTree(f)
      decoded++
    }
  }
  const inProcess = performance.now() - t0
  process.stdout.write(
    `in process, decode + summary + tree: ${Math.round(decoded / (inProcess / 1000)).toLocaleString('en-US')} frames/s\n`,
  )

  // Each pair runs interleaved (ours, theirs, ours, theirs...) so a busy machine slows both alike.
  const tshark = ['/usr/bin/tshark', '/usr/sbin/tshark'].find((p) => existsSync(p))
  const pairs: [string, string[], string[]][] = [
    ['summary lines: vdp decode FILE vs tshark -n -r FILE', ['vdp', 'decode', path], ['-n', '-r', path]],
    [
      'every field: vdp decode -v FILE vs tshark -n -V -r FILE',
      ['vdp', 'decode', '-v', path],
      ['-n', '-V', '-r', path],
    ],
    [
      'JSON: vdp decode --json FILE vs tshark -n -T json -r FILE',
      ['vdp', 'decode', '--json', path],
      ['-n', '-T', 'json', '-r', path],
    ],
  ]
  for (const [what, oursArgs, theirsArgs] of pairs) {
    const ours: number[] = []
    const theirs: number[] = []
    for (let round = 0; round < 3; round++) {
      ours.push(await wallClock(process.execPath, [CLI, ...oursArgs]))
      if (tshark) theirs.push(await wallClock(tshark, theirsArgs))
    }
    const o = Math.min(...ours.slice(1))
    const line = `${what}: ours ${(o / 1000).toFixed(2)} s (${Math.round(n / (o / 1000)).toLocaleString('en-US')} frames/s)`
    if (!tshark) process.stdout.write(`${line}; tshark not installed (make setup installs it)\n`)
    else {
      const t = Math.min(...theirs.slice(1))
      process.stdout.write(`${line}, tshark ${(t / 1000).toFixed(2)} s: ${(t / o).toFixed(2)}× tshark's speed\n`)
    }
  }
} finally {
  if (!keep) unlinkSync(path)
}
