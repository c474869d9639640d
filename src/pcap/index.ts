/** pcap / pcapng reading (streaming, constant memory) and writing. Pure except read.ts, the file/stream edge. */
export {PcapStreamParser, LINKTYPE_ETHERNET, type PcapParserOptions, type PcapFileInfo} from './parser.js'
export {PcapRecord, type TimestampClock} from './record.js'
export {readPcapBatches, readPcapRecords, type PcapSource, type PcapReadOptions} from './read.js'
export {PcapWriter, PcapngWriter, type PcapWriterOptions, type PcapngWriterOptions} from './writer.js'
export {PcapFormatError} from './errors.js'
