/**
 * ECP22 transport (802.1Qbg-2012 cl. 43; docs/wire-notes.md §ECP transmitter, §ECP receiver): reliable,
 * in-order delivery of ULPDUs to one peer, stop-and-wait in each direction, multiplexed by ECP subtype.
 *
 * Transmit: a FIFO of ULPDUs, one ECPDU outstanding. Each gets a new sequence number (0 skipped on wrap), is
 * retransmitted every T(RTE) and abandoned after 1 + R transmissions (the submitter gets EcpTimeoutError).
 * A matching ACK cancels the timer and sends the next ECPDU at once; lldpad instead waits for its ack timer to
 * fire even when the ACK is already in, which caps it at one ECPDU per T(RTE). We do not copy that.
 *
 * Receive: ACK every valid request (before handing it up, as lldpad does); a request with the sequence number
 * of the last one delivered is a duplicate: ACK it again, do not deliver it. Frames with a version other than
 * 1 or an unknown subtype are dropped without an ACK.
 *
 * Pure: frames in through `receive`, frames out through the injected `send`, time from the injected clock.
 */
import {VdpAgentError} from '../errors.js'
import type {Clock, TimerHandle} from '../core/clock.js'
import {
  decodeEcpFrame,
  ECP_HEADER_LENGTH,
  ECP_SUBTYPE_PECSP,
  ECP_SUBTYPE_VDP,
  ECP_VERSION,
  encodeEcpFrame,
  type EcpFrame,
} from './ecp-codec.js'
import {EcpTimeoutError, EcpTransportError} from './errors.js'
import {Fifo} from '../core/fifo.js'
import type {EvbValues} from '../model/evb.js'
import {ETHERNET_MIN_FRAME_LENGTH, NEAREST_CUSTOMER_BRIDGE, parseMac} from '../core/ethernet.js'
import {ackTimer, validateEvbParams} from './timers.js'

/** The part of the EVB values ECP uses. */
export type EcpParams = Pick<EvbValues, 'retries' | 'rte'>

export interface EcpTransportOptions {
  readonly clock: Clock
  /** Hands one Ethernet frame to the wire. */
  readonly send: (frame: Buffer) => void
  readonly localMac: string
  /** Destination of our requests and ACKs; lldpad uses the nearest-customer-bridge address for both. */
  readonly peerMac?: string
  readonly params: EcpParams
  /**
   * Sequence number of the first ECPDU (1–65535). Default: random. A bridge remembers the last sequence it
   * delivered and treats a repeat as a duplicate (ACKed, never delivered), so a restarted station must not
   * start from the number it used before.
   */
  readonly firstSequence?: number
  /** Source of randomness for the first sequence number; default Math.random. */
  readonly random?: () => number
  /** Bound on queued ULPDUs; enqueue beyond it fails with ECP_QUEUE_FULL. Default 1024. */
  readonly maxQueue?: number
  /** Link MTU; a ULPDU may be at most MTU − 4 octets. Default 1500. */
  readonly mtu?: number
  /**
   * Minimum time between the first transmissions of two successive ECPDUs. Default 0. lldpad copies each
   * received VDPDU into a single buffer and parses it 2 ms later, so a second ECPDU inside that window
   * overwrites the first; a peer profile for lldpad sets this above 2 ms (see docs/vdp.md).
   */
  readonly minTxGapMs?: number
  /** Pad frames with zeros to the 60-octet Ethernet minimum (lldpad pads requests, not ACKs). Default true. */
  readonly padFrames?: boolean
  /** ECP subtypes this end accepts; others are dropped without an ACK. Default VDP (1) and PE-CSP (2). */
  readonly acceptedSubtypes?: readonly number[]
  /** Told about an exception thrown by a receive handler; the transport itself carries on. */
  readonly onHandlerError?: (error: unknown, subtype: number) => void
  /**
   * Take ECP frames only from this source MAC (the bridge the station talks to); others are refused without
   * an ACK and counted `refusedSource`. Default: any source. Change it with `acceptOnlyFrom`.
   */
  readonly acceptFrom?: string
}

export type EcpReceiveOutcome =
  /** A new request: ACKed and handed to its subtype's handler. */
  | 'delivered'
  /** A repeat of the last delivered request: ACKed again, not delivered. */
  | 'duplicate'
  /** The ACK for our outstanding ECPDU. */
  | 'ack'
  /** An ACK matching nothing outstanding. */
  | 'stale-ack'
  /** Our own transmission seen on the wire (libpcap shows TX too). */
  | 'own'
  /** From a source other than the peer set with `acceptOnlyFrom`: dropped without an ACK. */
  | 'refused'
  /** Malformed, wrong version, unknown subtype or reserved operation: dropped without an ACK. */
  | 'dropped'

export interface EcpCounters {
  /** New ECPDUs sent (first transmissions). */
  txPdus: number
  retransmissions: number
  /** ECPDUs acknowledged by the peer. */
  acked: number
  /** ECPDUs abandoned after 1 + R transmissions. */
  giveUps: number
  acksReceived: number
  staleAcks: number
  /** New requests delivered upward. */
  rxPdus: number
  duplicates: number
  acksSent: number
  dropped: number
  /**
   * `dropped` by the rule the frame broke: the decoder's error code (ECP_TRUNCATED...), or `ecp-version`,
   * `ecp-subtype` (not one this end accepts), `ecp-operation` (reserved).
   */
  droppedByRule: Record<string, number>
  /** Accepted requests of a subtype nobody registered for (ACKed, then discarded). */
  undeliverable: number
  sendErrors: number
  handlerErrors: number
  /** Frames from a source MAC other than the accepted peer's (acceptOnlyFrom), dropped without an ACK. */
  refusedSource: number
}

export type UlpduHandler = (ulpdu: Buffer, frame: EcpFrame) => void
export type SubmitCallback = (error?: EcpTimeoutError | EcpTransportError) => void

interface Pending {
  readonly subtype: number
  readonly ulpdu: Buffer
  readonly done: SubmitCallback
}

interface Outstanding extends Pending {
  readonly sequence: number
  readonly frame: Buffer
  transmissions: number
}

export class EcpTransport {
  private readonly clock: Clock
  private readonly sendFrame: (frame: Buffer) => void
  readonly localMac: string
  private readonly peerMac: string
  private readonly queue = new Fifo<Pending>()
  private readonly handlers = new Map<number, UlpduHandler>()
  private readonly accepted: ReadonlySet<number>
  private readonly maxQueue: number
  private readonly maxUlpdu: number
  private readonly minTxGapMs: number
  private readonly padTo: number
  private readonly onHandlerError?: (error: unknown, subtype: number) => void
  private params: EcpParams
  private lastTxSequence: number
  private lastRxSequence: number | undefined
  private outstanding: Outstanding | undefined
  private timer: TimerHandle | undefined
  private lastNewTxAt = -Infinity
  private acceptFrom: string | undefined
  private lastRxAt = -Infinity
  private closed = false
  private readonly stats: EcpCounters = {
    txPdus: 0,
    retransmissions: 0,
    acked: 0,
    giveUps: 0,
    acksReceived: 0,
    staleAcks: 0,
    rxPdus: 0,
    duplicates: 0,
    acksSent: 0,
    dropped: 0,
    droppedByRule: {},
    undeliverable: 0,
    sendErrors: 0,
    handlerErrors: 0,
    refusedSource: 0,
  }

  constructor(options: EcpTransportOptions) {
    this.clock = options.clock
    this.sendFrame = options.send
    parseMac(options.localMac)
    this.localMac = options.localMac.toLowerCase()
    this.peerMac = (options.peerMac ?? NEAREST_CUSTOMER_BRIDGE).toLowerCase()
    parseMac(this.peerMac)
    this.params = checkParams(options.params)
    this.accepted = new Set(options.acceptedSubtypes ?? [ECP_SUBTYPE_VDP, ECP_SUBTYPE_PECSP])
    this.maxQueue = options.maxQueue ?? 1024
    this.maxUlpdu = (options.mtu ?? 1500) - ECP_HEADER_LENGTH
    this.minTxGapMs = options.minTxGapMs ?? 0
    this.padTo = options.padFrames === false ? 0 : ETHERNET_MIN_FRAME_LENGTH
    this.onHandlerError = options.onHandlerError
    this.acceptOnlyFrom(options.acceptFrom)
    const first = options.firstSequence ?? 1 + Math.floor((options.random ?? Math.random)() * 0xffff)
    if (!Number.isInteger(first) || first < 1 || first > 0xffff) {
      throw new EcpTransportError('ECP_BAD_OPTION', `firstSequence must be 1–65535, got ${first}`)
    }
    this.lastTxSequence = first - 1
  }

  get counters(): Readonly<EcpCounters> {
    return {...this.stats, droppedByRule: {...this.stats.droppedByRule}}
  }

  /** ULPDUs waiting behind the outstanding one. */
  get queueLength(): number {
    return this.queue.length
  }

  /** Whether an ECPDU is awaiting its ACK. */
  get busy(): boolean {
    return this.outstanding !== undefined
  }

  get ecpParams(): EcpParams {
    return this.params
  }

  /** Register the receiver of one ECP subtype (1 = VDP). */
  onReceive(subtype: number, handler: UlpduHandler): void {
    this.handlers.set(subtype, handler)
  }

  /** Queue a ULPDU; resolves when the peer ACKs it, rejects with EcpTimeoutError after 1 + R tries. */
  submit(subtype: number, ulpdu: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.enqueue(subtype, ulpdu, (error) => (error ? reject(error) : resolve()))
      } catch (error) {
        reject(error)
      }
    })
  }

  /**
   * Callback form of `submit`. Throws EcpTransportError at once (and calls nothing) when the transport is
   * closed, the queue is full, the subtype is out of range or the ULPDU does not fit the MTU.
   */
  enqueue(subtype: number, ulpdu: Buffer, done: SubmitCallback): void {
    if (this.closed) throw new EcpTransportError('ECP_CLOSED', 'the ECP transport is closed')
    if (!Number.isInteger(subtype) || subtype < 1 || subtype > 0x3ff) {
      throw new EcpTransportError('ECP_BAD_SUBTYPE', `ECP subtype must be 1–1023, got ${subtype}`, {subtype})
    }
    if (ulpdu.length > this.maxUlpdu) {
      throw new EcpTransportError(
        'ECP_ULPDU_TOO_LARGE',
        `a ULPDU of ${ulpdu.length} octets does not fit one ECPDU (at most ${this.maxUlpdu})`,
        {length: ulpdu.length, max: this.maxUlpdu},
      )
    }
    if (this.queue.length >= this.maxQueue) {
      throw new EcpTransportError('ECP_QUEUE_FULL', `the ECP transmit queue is full (${this.maxQueue} ULPDUs)`, {
        maxQueue: this.maxQueue,
      })
    }
    this.queue.push({subtype, ulpdu, done})
    this.pump()
  }

  private drop(rule: string): 'dropped' {
    this.stats.dropped++
    this.stats.droppedByRule[rule] = (this.stats.droppedByRule[rule] ?? 0) + 1
    return 'dropped'
  }

  /** Feed one received Ethernet frame (EtherType 0x8940). Never throws. */
  receive(frame: Uint8Array): EcpReceiveOutcome {
    if (this.closed) return 'dropped'
    let ecp: EcpFrame
    try {
      ecp = decodeEcpFrame(frame)
    } catch (error) {
      return this.drop(error instanceof VdpAgentError ? error.code : 'ecp-malformed')
    }
    if (ecp.src === this.localMac) return 'own'
    if (this.acceptFrom !== undefined && ecp.src !== this.acceptFrom) {
      this.stats.refusedSource++
      return 'refused'
    }
    if (ecp.version !== ECP_VERSION) return this.drop('ecp-version')
    if (!this.accepted.has(ecp.subtype)) return this.drop('ecp-subtype')
    this.lastRxAt = this.clock.now()
    if (ecp.operation === 'ack') return this.handleAck(ecp)
    if (ecp.operation !== 'request') return this.drop('ecp-operation')
    const duplicate = ecp.sequence === this.lastRxSequence
    this.sendAck(ecp)
    if (duplicate) {
      this.stats.duplicates++
      return 'duplicate'
    }
    this.lastRxSequence = ecp.sequence
    this.stats.rxPdus++
    const handler = this.handlers.get(ecp.subtype)
    if (handler === undefined) {
      this.stats.undeliverable++
      return 'delivered'
    }
    try {
      handler(ecp.ulpdu, ecp)
    } catch (error) {
      this.stats.handlerErrors++
      this.onHandlerError?.(error, ecp.subtype)
    }
    return 'delivered'
  }

  /**
   * Take ECP frames only from `mac` (undefined: from any source). ECP has no authentication; the station
   * talks to one bridge, the EVB bridge neighbour of its uplink, so anything else on the link is refused.
   */
  acceptOnlyFrom(mac: string | undefined): void {
    if (mac !== undefined) parseMac(mac)
    this.acceptFrom = mac?.toLowerCase()
  }

  /** Clock time of the last valid ECP frame from the peer (ACK or request); -Infinity before any. */
  get lastReceivedAt(): number {
    return this.lastRxAt
  }

  /** The source MAC ECP frames are taken from (undefined: any). */
  get acceptedSource(): string | undefined {
    return this.acceptFrom
  }

  /** New negotiated R / RTE; applies from the next timer started. */
  updateParams(params: EcpParams): void {
    this.params = checkParams(params)
  }

  /**
   * Forget the last delivered sequence number, so the next request is accepted whatever its number. Call it
   * when the peer restarted (LLDP TTL 0, EVB renegotiation): its counter starts again and its first ECPDU
   * might repeat the number we remember.
   */
  resetReceiver(): void {
    this.lastRxSequence = undefined
  }

  /** Stop timers; queued and outstanding ULPDUs fail with ECP_CLOSED. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.cancelTimer()
    const abandoned = [...(this.outstanding ? [this.outstanding] : []), ...this.queue.drain()]
    this.outstanding = undefined
    for (const item of abandoned) item.done(new EcpTransportError('ECP_CLOSED', 'the ECP transport was closed'))
  }

  private pump(): void {
    if (this.closed || this.outstanding !== undefined || this.timer !== undefined || this.queue.length === 0) return
    const wait = this.lastNewTxAt + this.minTxGapMs - this.clock.now()
    if (wait > 0) {
      this.timer = this.clock.setTimer(wait, () => {
        this.timer = undefined
        this.pump()
      })
      return
    }
    const next = this.queue.shift() as Pending
    const sequence = nextSequence(this.lastTxSequence)
    this.lastTxSequence = sequence
    const frame = encodeEcpFrame({
      dst: this.peerMac,
      src: this.localMac,
      operation: 'request',
      subtype: next.subtype,
      sequence,
      ulpdu: next.ulpdu,
      padTo: this.padTo,
    })
    this.outstanding = {...next, sequence, frame, transmissions: 0}
    this.lastNewTxAt = this.clock.now()
    this.transmit()
  }

  private transmit(): void {
    const out = this.outstanding as Outstanding
    out.transmissions++
    if (out.transmissions === 1) this.stats.txPdus++
    else this.stats.retransmissions++
    this.timer = this.clock.setTimer(ackTimer(this.params.rte), () => this.onAckTimeout())
    this.emit(out.frame)
  }

  private onAckTimeout(): void {
    this.timer = undefined
    const out = this.outstanding
    if (out === undefined) return
    if (out.transmissions < 1 + this.params.retries) {
      this.transmit()
      return
    }
    this.stats.giveUps++
    this.outstanding = undefined
    out.done(new EcpTimeoutError(out.sequence, out.transmissions, ackTimer(this.params.rte)))
    this.pump()
  }

  private handleAck(ack: EcpFrame): EcpReceiveOutcome {
    this.stats.acksReceived++
    const out = this.outstanding
    if (out === undefined || ack.sequence !== out.sequence || ack.subtype !== out.subtype) {
      this.stats.staleAcks++
      return 'stale-ack'
    }
    this.cancelTimer()
    this.outstanding = undefined
    this.stats.acked++
    out.done()
    this.pump()
    return 'ack'
  }

  private sendAck(request: EcpFrame): void {
    this.stats.acksSent++
    this.emit(
      encodeEcpFrame({
        dst: this.peerMac,
        src: this.localMac,
        version: request.version,
        operation: 'ack',
        subtype: request.subtype,
        sequence: request.sequence,
        padTo: this.padTo,
      }),
    )
  }

  private emit(frame: Buffer): void {
    try {
      this.sendFrame(frame)
    } catch {
      // A failed send is a lost frame: the ack timer retransmits it.
      this.stats.sendErrors++
    }
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.timer = undefined
  }
}

/** Sequence numbers count up from 1 and skip 0 when they wrap (lldpad `inc_seqno`). */
export function nextSequence(sequence: number): number {
  const next = (sequence + 1) & 0xffff
  return next === 0 ? 1 : next
}

function checkParams(params: EcpParams): EcpParams {
  validateEvbParams({retries: params.retries, rte: params.rte, rwd: 0, rka: 0})
  return {retries: params.retries, rte: params.rte}
}
