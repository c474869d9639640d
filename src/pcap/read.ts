/**
 * The thin I/O edge of the pcap reader: feeds a file or stream to PcapStreamParser chunk by chunk. Memory
 * is one chunk plus at most one partial record, whatever the file size.
 */
import {createReadStream} from 'node:fs'
import type {Readable} from 'node:stream'
import {PcapStreamParser, type PcapParserOptions} from './parser.js'
import type {PcapRecord} from './record.js'

export type PcapSource = string | Readable | AsyncIterable<Uint8Array>

export interface PcapReadOptions extends PcapParserOptions {
  /** Read size for file paths; default 1 MiB. */
  chunkSize?: number
}

/**
 * Records grouped per input chunk: the fast way to walk a big file (one await per chunk, not per record).
 * Records are views into the chunk; do not keep them (or copy their data) if memory must stay constant.
 */
export async function* readPcapBatches(source: PcapSource, opts: PcapReadOptions = {}): AsyncGenerator<PcapRecord[]> {
  const stream = typeof source === 'string' ? createReadStream(source, {highWaterMark: opts.chunkSize ?? 1 << 20}) : source
  const parser = new PcapStreamParser(opts)
  try {
    for await (const chunk of stream) {
      const batch = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Uint8Array))
      if (batch.length > 0) yield batch
    }
    parser.finish()
  } finally {
    if (typeof source === 'string') (stream as Readable).destroy()
  }
}

/** One record at a time; convenient, but an await per record. */
export async function* readPcapRecords(source: PcapSource, opts: PcapReadOptions = {}): AsyncGenerator<PcapRecord> {
  for await (const batch of readPcapBatches(source, opts)) yield* batch
}
