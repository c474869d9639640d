/**
 * The thin I/O edge of the pcap reader: feeds a file or stream to PcapStreamParser chunk by chunk. Memory
 * is one chunk plus at most one partial record, whatever the file size.
 */
import {open} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {PcapStreamParser, type PcapParserOptions} from './parser.js'
import type {PcapRecord} from './record.js'

export type PcapSource = string | Readable | AsyncIterable<Uint8Array>

export interface PcapReadOptions extends PcapParserOptions {
  /**
   * Read size for file paths; default 64 KiB. Larger chunks do not read faster here and raise the peak RSS:
   * each chunk is a separate allocation that lives until the records viewing it are collected.
   */
  chunkSize?: number
}

/**
 * Records grouped per input chunk: the fast way to walk a big file (one await per chunk, not per record).
 * Records are views into the chunk; do not keep them (or copy their data) if memory must stay constant.
 */
export async function* readPcapBatches(source: PcapSource, opts: PcapReadOptions = {}): AsyncGenerator<PcapRecord[]> {
  const chunks = typeof source === 'string' ? readFileChunks(source, opts.chunkSize ?? 1 << 16) : source
  const parser = new PcapStreamParser(opts)
  for await (const chunk of chunks) {
    const batch = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Uint8Array))
    if (batch.length > 0) yield batch
  }
  parser.finish()
}

/**
 * The file in fixed-size chunks, one read always in flight: the next chunk is being read while the caller
 * parses the current one (a ReadStream waits for its consumer, and that wait dominated small-frame files).
 */
async function* readFileChunks(path: string, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, 'r')
  const readAt = (at: number) => file.read(Buffer.allocUnsafe(size), 0, size, at)
  let pending = readAt(0)
  try {
    let position = 0
    for (;;) {
      const {bytesRead, buffer} = await pending
      if (bytesRead === 0) break
      position += bytesRead
      pending = readAt(position)
      yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead)
    }
  } finally {
    // Also when the caller stops early: let the read-ahead settle before closing the file under it.
    await pending.catch(() => undefined)
    await file.close()
  }
}

/** One record at a time; convenient, but an await per record. */
export async function* readPcapRecords(source: PcapSource, opts: PcapReadOptions = {}): AsyncGenerator<PcapRecord> {
  for await (const batch of readPcapBatches(source, opts)) yield* batch
}
