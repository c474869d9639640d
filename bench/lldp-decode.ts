/**
 * LLDP decode benchmark. After `npx tsc -p tsconfig.json`:
 *
 *   node dist/bench/lldp-decode.js [--frames 1000000] [--dir /tmp] [--rss-gib 1] [--keep] [--json]
 *
 * 1. Generates a pcap of N realistic, varied LLDPDUs (bench/lldp-frames.ts: 20,000 speakers of six kinds
 *    repeating their LLDPDUs, 5 % of frames a speaker with new state).
 * 2. Measures, in this run: full decode streamed from the file (frames/s, MB/s), the daemon's header scan
 *    streamed from the file, both again on frames already in memory (codec cost alone), and
 *    `tcpdump -nvv -r FILE > /dev/null` as a whole process (wall clock); prints decode/tcpdump ratios.
 *    Each side gets one untimed pass first (JIT warm-up for us, page cache for both), then the best of two
 *    timed runs is reported.
 * 3. Builds a ≥ 1 GiB pcap (the same records repeated), streams a full decode over it in a fresh process and
 *    reports that process's peak RSS; deletes the file.
 */
import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, statfsSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {fileURLToPath} from 'node:url'
import {decodeLldpFrame, scanLldpHeader} from '../src/lldp/index.js'
import {PcapStreamParser, PcapWriter, readPcapBatches} from '../src/pcap/index.js'
import {LldpTraffic} from './lldp-frames.js'

interface Options {
  frames: number
  dir: string
  rssGib: number
  keep: boolean
  json: boolean
  streamRss?: string
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {frames: 1_000_000, dir: tmpdir(), rssGib: 1, keep: false, json: false}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--frames') opts.frames = Number(argv[++i])
    else if (a === '--dir') opts.dir = argv[++i]
    else if (a === '--rss-gib') opts.rssGib = Number(argv[++i])
    else if (a === '--keep') opts.keep = true
    else if (a === '--json') opts.json = true
    else if (a === '--stream-rss') opts.streamRss = argv[++i]
    else throw new Error(`unknown argument ${a}`)
  }
  if (!Number.isInteger(opts.frames) || opts.frames < 1) throw new Error('--frames must be a positive integer')
  return opts
}

const now = (): number => performance.now() / 1000

/** Writes N generated frames as a classic pcap, 4 MiB at a time. Returns the average frame length. */
function generate(path: string, frames: number): {bytes: number; averageFrame: number} {
  const writer = new PcapWriter()
  const traffic = new LldpTraffic(20_000, 20261120)
  const fd = openSync(path, 'w')
  const block = Buffer.allocUnsafe(4 << 20)
  let used = 0
  let frameBytes = 0
  writeSync(fd, writer.fileHeader())
  const start = 1_763_600_000
  for (let i = 0; i < frames; i++) {
    const frame = traffic.next()
    if (used + 16 + frame.length > block.length) {
      writeSync(fd, block, 0, used)
      used = 0
    }
    // One frame every 100 µs.
    writer.writeRecordHeader(
      block,
      used,
      start + Math.floor(i / 10_000),
      (i % 10_000) * 100,
      frame.length,
      frame.length,
    )
    frame.copy(block, used + 16)
    used += 16 + frame.length
    frameBytes += frame.length
  }
  writeSync(fd, block, 0, used)
  closeSync(fd)
  return {bytes: statSync(path).size, averageFrame: frameBytes / frames}
}

/** Streams the file through the parser and `visit`; returns frames and seconds. */
async function streamed(
  path: string,
  visit: (frame: Buffer) => number,
): Promise<{frames: number; seconds: number; check: number}> {
  const t0 = now()
  let frames = 0
  let check = 0
  for await (const batch of readPcapBatches(path)) {
    for (let i = 0; i < batch.length; i++) {
      check += visit(batch[i].data)
      frames++
    }
  }
  return {frames, seconds: now() - t0, check}
}

function inMemory(
  frames: Buffer[],
  rounds: number,
  visit: (frame: Buffer) => number,
): {frames: number; seconds: number; check: number} {
  const t0 = now()
  let check = 0
  for (let r = 0; r < rounds; r++) for (let i = 0; i < frames.length; i++) check += visit(frames[i])
  return {frames: frames.length * rounds, seconds: now() - t0, check}
}

const fullDecode = (frame: Buffer): number => {
  const f = decodeLldpFrame(frame)
  return f.tlvs.length + (f.evb ? 1 : 0)
}

/** Scans are kept in a ring, as a daemon keeps its last sighting per port: the JIT cannot optimise them away. */
const scanRing: unknown[] = new Array(1024)
let scanCount = 0
const headerScan = (frame: Buffer): number => {
  const s = scanLldpHeader(frame)
  scanRing[scanCount++ & 1023] = s
  return s === null ? 0 : s.ttl + s.evbOffset
}

function runWallClock(cmd: string, args: string[]): Promise<{seconds: number; code: number | null}> {
  return new Promise((resolve, reject) => {
    const t0 = now()
    const child = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'ignore']})
    child.on('error', reject)
    child.on('exit', (code) => resolve({seconds: now() - t0, code}))
  })
}

function tcpdumpPath(): string | undefined {
  return ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/bin/tcpdump', '/sbin/tcpdump'].find((p) => existsSync(p))
}

/** Builds a pcap of at least `gib` GiB by repeating the records of `source`. */
function buildBigFile(source: string, path: string, gib: number): number {
  const target = gib * 1024 ** 3
  const fd = openSync(path, 'w')
  const src = readFileSync(source)
  writeSync(fd, src, 0, 24)
  const records = src.subarray(24)
  let size = 24
  while (size < target) {
    writeSync(fd, records)
    size += records.length
  }
  closeSync(fd)
  return size
}

/**
 * Peak RSS of this process since it started. VmHWM, not getrusage's maxRSS: Linux carries ru_maxrss across
 * fork+exec, so a child spawned by this (large) benchmark process would report the parent's footprint.
 */
function peakRssMiB(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024
}

/** Child mode: stream a full decode over `path`, report frames, seconds and peak RSS. */
async function streamRss(path: string): Promise<void> {
  const r = await streamed(path, fullDecode)
  process.stdout.write(JSON.stringify({frames: r.frames, seconds: r.seconds, maxRssMiB: peakRssMiB()}) + '\n')
}

function childRss(path: string): Promise<{frames: number; seconds: number; maxRssMiB: number}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--stream-rss', path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`RSS child exited ${code}`))))
  })
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.streamRss) return streamRss(opts.streamRss)

  const log = (s: string): void => {
    if (!opts.json) process.stdout.write(s + '\n')
  }
  const file = `${opts.dir}/vdp-agent-lldp-bench-${opts.frames}.pcap`
  const big = `${opts.dir}/vdp-agent-lldp-bench-${opts.rssGib}gib.pcap`
  try {
    let t0 = now()
    const gen = generate(file, opts.frames)
    log(
      `generated ${fmt(opts.frames)} LLDPDUs (average frame ${gen.averageFrame.toFixed(0)} octets) in ${(now() - t0).toFixed(1)} s: ${file}, ${(gen.bytes / 1e6).toFixed(1)} MB`,
    )

    // Frames in memory for the codec-only figures.
    const memoryFrames = new PcapStreamParser()
      .push(readFileSync(file))
      .slice(0, 200_000)
      .map((r) => r.data)
    const best = async <T extends {seconds: number}>(run: () => Promise<T> | T): Promise<T> => {
      const a = await run()
      const b = await run()
      return a.seconds <= b.seconds ? a : b
    }

    await streamed(file, fullDecode) // warm-up passes, untimed
    await streamed(file, headerScan)
    const decodeFile = await best(() => streamed(file, fullDecode))
    const scanFile = await best(() => streamed(file, headerScan))
    const parseOnly = await best(() => streamed(file, () => 1))
    const decodeMem = await best(() => inMemory(memoryFrames, 3, fullDecode))
    const scanMem = await best(() => inMemory(memoryFrames, 3, headerScan))

    const tcpdump = tcpdumpPath()
    let td: {seconds: number; code: number | null} | undefined
    if (tcpdump) {
      await runWallClock(tcpdump, ['-nvv', '-r', file]) // warm-up, untimed
      td = await best(() => runWallClock(tcpdump, ['-nvv', '-r', file]))
      if (td.code !== 0) throw new Error(`tcpdump exited ${td.code}`)
    }

    const fps = (r: {frames: number; seconds: number}): number => r.frames / r.seconds
    const tdFps = td ? opts.frames / td.seconds : Number.NaN
    const mbps = gen.bytes / 1e6 / decodeFile.seconds

    t0 = now()
    const free = statfsSync(opts.dir)
    let rss: {frames: number; seconds: number; maxRssMiB: number; bytes: number} | undefined
    if (free.bavail * free.bsize > opts.rssGib * 1024 ** 3 * 1.5) {
      const bytes = buildBigFile(file, big, opts.rssGib)
      rss = {...(await childRss(big)), bytes}
    } else {
      log(`not enough free space in ${opts.dir} for the ${opts.rssGib} GiB RSS run; skipped`)
    }

    const results = {
      frames: opts.frames,
      fileBytes: gen.bytes,
      averageFrameOctets: Math.round(gen.averageFrame),
      fullDecodeFromFile: {
        framesPerSecond: Math.round(fps(decodeFile)),
        megabytesPerSecond: Number(mbps.toFixed(1)),
        seconds: decodeFile.seconds,
      },
      headerScanFromFile: {framesPerSecond: Math.round(fps(scanFile)), seconds: scanFile.seconds},
      pcapParseOnly: {framesPerSecond: Math.round(fps(parseOnly))},
      fullDecodeInMemory: {framesPerSecond: Math.round(fps(decodeMem))},
      headerScanInMemory: {framesPerSecond: Math.round(fps(scanMem))},
      tcpdump: td
        ? {command: `${tcpdump} -nvv -r FILE > /dev/null`, seconds: td.seconds, framesPerSecond: Math.round(tdFps)}
        : null,
      ratioFullDecodeToTcpdump: td ? Number((fps(decodeFile) / tdFps).toFixed(1)) : null,
      ratioHeaderScanToTcpdump: td ? Number((fps(scanFile) / tdFps).toFixed(1)) : null,
      streaming: rss
        ? {
            fileBytes: rss.bytes,
            frames: rss.frames,
            seconds: rss.seconds,
            framesPerSecond: Math.round(rss.frames / rss.seconds),
            peakRssMiB: Math.round(rss.maxRssMiB),
          }
        : null,
      node: process.version,
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify(results) + '\n')
      return
    }
    log('')
    log(
      `full decode, streamed from the file   ${fmt(fps(decodeFile)).padStart(11)} frames/s  ${mbps.toFixed(1).padStart(7)} MB/s`,
    )
    log(`header scan, streamed from the file   ${fmt(fps(scanFile)).padStart(11)} frames/s`)
    log(`pcap parsing alone                    ${fmt(fps(parseOnly)).padStart(11)} frames/s`)
    log(`full decode, frames in memory         ${fmt(fps(decodeMem)).padStart(11)} frames/s`)
    log(`header scan, frames in memory         ${fmt(fps(scanMem)).padStart(11)} frames/s`)
    if (td) {
      log(
        `tcpdump -nvv -r FILE > /dev/null      ${fmt(tdFps).padStart(11)} frames/s  (${td.seconds.toFixed(2)} s wall clock, whole process)`,
      )
      log(`ratio full decode / tcpdump -nvv      ${(fps(decodeFile) / tdFps).toFixed(1).padStart(11)}×`)
      log(`ratio header scan / tcpdump -nvv      ${(fps(scanFile) / tdFps).toFixed(1).padStart(11)}×`)
    } else {
      log('tcpdump not found: no ratio')
    }
    if (rss) {
      log(
        `streaming full decode of ${(rss.bytes / 1024 ** 3).toFixed(2)} GiB (${fmt(rss.frames)} frames) in a fresh process: ` +
          `${rss.seconds.toFixed(1)} s, ${fmt(rss.frames / rss.seconds)} frames/s, peak RSS ${rss.maxRssMiB.toFixed(0)} MiB`,
      )
    }
  } finally {
    if (!opts.keep) {
      for (const p of [file, big]) if (existsSync(p)) unlinkSync(p)
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
  process.exitCode = 1
})
