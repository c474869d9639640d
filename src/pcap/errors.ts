import {VdpAgentError} from '../errors.js'

/** A capture file that is not pcap/pcapng, or is damaged: the message says what and at which file offset. */
export class PcapFormatError extends VdpAgentError {
  readonly offset: number

  constructor(message: string, offset: number) {
    super('PCAP_FORMAT', `${message} (at file offset ${offset})`, {offset})
    this.offset = offset
  }
}
