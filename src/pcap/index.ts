/** pcap / pcapng reading (streaming, constant memory) and writing. Pure except read.ts, the file/stream edge. */
export {PcapStreamParser, LINKTYPE_ETHERNET} from './parser.js'
export {PcapRecord} from './record.js'
export {readPcapBatches, readPcapRecords} from './read.js'
export {PcapWriter, PcapngWriter} from './writer.js'
export {PcapFormatError} from './errors.js'
