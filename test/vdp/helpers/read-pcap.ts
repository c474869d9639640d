// Tiny synchronous classic-pcap reader for the corpus captures (test-only; src/pcap will replace it).
import {readFileSync} from 'node:fs'

export interface PcapRecord {
  index: number // 1-based, as Wireshark numbers frames
  timeMs: number
  frame: Buffer
}

export function readPcap(path: string): PcapRecord[] {
  const file = readFileSync(path)
  const magic = file.readUInt32LE(0)
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error(`${path}: not a classic pcap`)
  const nano = (le ? magic : file.readUInt32BE(0)) === 0xa1b23c4d
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o))
  const records: PcapRecord[] = []
  for (let o = 24; o + 16 <= file.length;) {
    const length = u32(o + 8)
    const timeMs = u32(o) * 1000 + u32(o + 4) / (nano ? 1e6 : 1e3)
    records.push({index: records.length + 1, timeMs, frame: file.subarray(o + 16, o + 16 + length)})
    o += 16 + length
  }
  return records
}
