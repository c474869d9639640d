/**
 * Typed errors of the VDP engine. Each class has a small set of stable codes; callers branch on `code`.
 * Decoders throw only EcpDecodeError / VdpDecodeError for bad input, never anything else.
 */
import {VdpAgentError} from '../errors.js'

/** A frame that is not a well-formed ECP22 frame (too short, wrong EtherType). */
export class EcpDecodeError extends VdpAgentError {}

/** A VDPDU whose TLVs are malformed: overruns, wrong lengths, unknown formats, a VSI TLV with no manager. */
export class VdpDecodeError extends VdpAgentError {}

/** An encoder was given a value that cannot go on the wire (VID > 4095, 0 filter entries, bad MAC...). */
export class VdpEncodeError extends VdpAgentError {}

/** EVB exponents or retry counts out of the range the EVB TLV can carry. */
export class EvbParamError extends VdpAgentError {}

/** An ECPDU was transmitted 1 + R times without a matching acknowledgement. */
export class EcpTimeoutError extends VdpAgentError {
  constructor(sequence: number, transmissions: number, ackTimerMs: number) {
    super(
      'ECP_NO_ACK',
      `no ECP acknowledgement for sequence ${sequence} after ${transmissions} transmissions ` +
        `${formatMs(ackTimerMs)} apart`,
      {sequence, transmissions, ackTimerMs},
    )
  }
}

/** The transport refused or abandoned a ULPDU: queue full (ECP_QUEUE_FULL) or transport closed (ECP_CLOSED). */
export class EcpTransportError extends VdpAgentError {}

/** A station request the engine refuses: codes VSI_UNKNOWN, VSI_TABLE_FULL, VSI_INVALID_REQUEST,
 * VSI_TOO_LARGE, VSI_INVALID_TRANSITION, STATION_CLOSED (src/error-codes.ts). Nothing is sent when this is thrown. */
export class VdpStationError extends VdpAgentError {}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (ms >= 1) return `${ms.toFixed(2)} ms`
  return `${(ms * 1000).toFixed(0)} µs`
}
