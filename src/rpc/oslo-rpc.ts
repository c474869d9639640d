import {VdpAgentError, errorMessage} from '../errors.js'
import type {ErrorCode} from '../error-codes.js'
import type {Logger} from '../log/logger.js'
import {
  RemoteRpcError,
  type RemoteFailure,
  type RequestMessage,
  type RpcContext,
  builtinFailure,
  decodeReply,
  decodeRequest,
  encodeCall,
  encodeCast,
  encodeReply,
  unwrapEnvelope,
  uuidHex,
} from './oslo-envelope.js'
import type {AmqpTransport, ConsumeSpec, Disposition, ExchangeDecl, InboundMessage} from './transport.js'

/** oslo's `rabbit_transient_queues_ttl` (1800 s): reply and fanout queues expire 30 min after their last consumer. */
const TRANSIENT_QUEUE_TTL_MS = 1_800_000

class RpcTimeoutError extends VdpAgentError {
  constructor(method: string, timeoutMs: number) {
    super(
      'RPC_TIMEOUT',
      `${method}: no reply from the server within ${timeoutMs / 1000} s (it may still have run it)`,
      {method, timeoutMs},
    )
  }
}

/** An endpoint's typed refusal: goes back to the caller as a builtin exception it can rebuild. */
export class RpcEndpointError extends VdpAgentError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly pyClass: 'ValueError' | 'NotImplementedError' = 'ValueError',
  ) {
    super(code, message)
  }
}

export type Endpoint = (args: Record<string, unknown>, context: RpcContext) => unknown

export interface BadMessage {
  reason: string
  code: string
  method?: string
  routingKey: string
}

export interface OsloRpcOptions {
  transport: AmqpTransport
  log: Logger
  /** The control exchange of the Targets (`dfa`). */
  exchange: string
  /** oslo's `amqp_durable_queues`: the exchange and topic queues are durable (flags must match, or the broker closes the channel). */
  durable: boolean
}

interface PendingCall {
  method: string
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
  /** A pre-4.0 server sends the result first, then an empty message with `ending`. */
  result: unknown
}

/** How many recent `_unique_id`s are remembered to drop duplicate deliveries (oslo keeps 16). */
const DEDUP_WINDOW = 4096

/**
 * oslo.messaging RPC over an AmqpTransport: calls and casts to a topic on the control exchange, and an RPC
 * server on a topic (topic queue, per-server queue, fanout), exactly as oslo declares them (docs/rpc.md).
 *
 * Replies arrive on one `reply_<uuid>` queue per process, also bound to a direct exchange of the same name,
 * because servers before oslo.messaging 9.2 publish replies there rather than to the default exchange.
 *
 * Inbound requests are acknowledged only after the endpoint has returned (its effect committed) and the
 * reply was confirmed by the broker: at least once, where oslo's own server acknowledges first. A message
 * that cannot be decoded is answered with a ValueError when it names a reply queue, reported, and dropped:
 * never requeued (no poison loop), never a crash.
 */
export class OsloRpc {
  readonly replyQueue = `reply_${uuidHex()}`
  private readonly pending = new Map<string, PendingCall>()
  private readonly seen = new Set<string>()
  private repliesReady?: Promise<void>
  private readonly badListeners: ((m: BadMessage) => void)[] = []
  private readonly handles: {close(): Promise<void>}[] = []

  constructor(private readonly opts: OsloRpcOptions) {
    opts.transport.onReturn((m) => this.onReturned(m))
  }

  get controlExchange(): ExchangeDecl {
    return {exchange: this.opts.exchange, type: 'topic', durable: this.opts.durable, autoDelete: false}
  }

  /** Declare and consume the reply queue (before the first call, as oslo does). Idempotent. */
  startReplies(): Promise<void> {
    this.repliesReady ??= this.opts.transport
      .consume(
        {
          queue: {
            queue: this.replyQueue,
            durable: false,
            autoDelete: false,
            arguments: {'x-expires': TRANSIENT_QUEUE_TTL_MS},
          },
          exchanges: [{exchange: this.replyQueue, type: 'direct', durable: false, autoDelete: true}],
          bindings: [{exchange: this.replyQueue, queue: this.replyQueue, routingKey: this.replyQueue}],
          concurrency: 64,
        },
        async (msg) => this.onReply(msg),
      )
      .then((h) => {
        this.handles.push(h)
      })
    return this.repliesReady
  }

  /** Report undecodable or invalid inbound messages (the daemon journals them). */
  onBadMessage(listener: (m: BadMessage) => void): void {
    this.badListeners.push(listener)
  }

  get pendingCalls(): number {
    return this.pending.size
  }

  /** An RPC call: resolves with the server's result, rejects with RemoteRpcError, RpcTimeoutError or a transport error. */
  async call(
    topic: string,
    method: string,
    args: Record<string, unknown>,
    context: RpcContext,
    timeoutMs: number,
  ): Promise<unknown> {
    const msgId = uuidHex()
    const body = encodeCall(method, args, this.replyQueue, context, msgId)
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId)
        reject(new RpcTimeoutError(method, timeoutMs))
      }, timeoutMs)
      this.pending.set(msgId, {method, resolve, reject, timer, result: null})
    })
    result.catch(() => undefined) // observed below; a publish failure must not leave an unhandled rejection
    try {
      await withTimeout(this.startReplies(), timeoutMs, () => new RpcTimeoutError(method, timeoutMs))
      await this.opts.transport.publish({
        exchange: this.opts.exchange,
        routingKey: topic,
        body,
        expirationMs: timeoutMs,
        mandatory: true,
      })
    } catch (err) {
      const p = this.pending.get(msgId)
      if (p) {
        clearTimeout(p.timer)
        this.pending.delete(msgId)
      }
      throw err
    }
    return result
  }

  /** An RPC cast: resolves when the broker confirmed the message. */
  async cast(topic: string, method: string, args: Record<string, unknown>, context: RpcContext = {}): Promise<void> {
    await this.opts.transport.publish({
      exchange: this.opts.exchange,
      routingKey: topic,
      body: encodeCast(method, args, context),
    })
  }

  /** Serve `topic` as oslo's RPC server `server` does: three consumers, requests handled in delivery order. */
  async serve(topic: string, server: string, endpoints: Record<string, Endpoint>): Promise<void> {
    const fanout = `${topic}_fanout`
    const specs: ConsumeSpec[] = [
      {
        queue: {queue: topic, durable: this.opts.durable, autoDelete: false},
        exchanges: [this.controlExchange],
        bindings: [{exchange: this.opts.exchange, queue: topic, routingKey: topic}],
      },
      {
        queue: {queue: `${topic}.${server}`, durable: this.opts.durable, autoDelete: false},
        exchanges: [this.controlExchange],
        bindings: [{exchange: this.opts.exchange, queue: `${topic}.${server}`, routingKey: `${topic}.${server}`}],
      },
      {
        queue: {
          queue: `${fanout}_${uuidHex()}`,
          durable: false,
          autoDelete: false,
          arguments: {'x-expires': TRANSIENT_QUEUE_TTL_MS},
        },
        exchanges: [{exchange: fanout, type: 'fanout', durable: false, autoDelete: true}],
        bindings: [{exchange: fanout, queue: '', routingKey: topic}],
      },
    ]
    specs[2].bindings[0].queue = specs[2].queue.queue
    const handles = await Promise.all(
      specs.map((s) => this.opts.transport.consume(s, (msg) => this.onRequest(msg, endpoints))),
    )
    this.handles.push(...handles)
  }

  async close(): Promise<void> {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(new VdpAgentError('RPC_CLOSED', `${p.method}: the RPC client is closing`))
      this.pending.delete(id)
    }
    await Promise.allSettled(this.handles.map((h) => h.close()))
  }

  /**
   * A message the broker could not route. Our calls are published mandatory (oslo's are not, and a call to a
   * topic nobody has declared yet, e.g. a server reconnecting after a broker restart, then just times out):
   * a returned call fails at once, so the outbox retries in seconds instead of after the call timeout.
   */
  private onReturned(m: {exchange: string; routingKey: string; replyText: string; body: Buffer}): void {
    if (m.exchange === this.opts.exchange) {
      let msgId: unknown
      try {
        msgId = unwrapEnvelope(m.body)._msg_id
      } catch {
        // not one of our calls
      }
      const p = typeof msgId === 'string' ? this.pending.get(msgId) : undefined
      if (p && typeof msgId === 'string') {
        this.settle(msgId, p)
        p.reject(
          new VdpAgentError(
            'RPC_NO_ROUTE',
            `${p.method}: no server listens on ${m.routingKey} (the broker returned the call: ${m.replyText})`,
            {method: p.method, routingKey: m.routingKey},
          ),
        )
      }
      return
    }
    this.opts.log.warn(
      {routingKey: m.routingKey, replyText: m.replyText},
      'a reply could not be routed: its caller is gone',
    )
  }

  private async onReply(msg: InboundMessage): Promise<Disposition> {
    let reply
    try {
      reply = decodeReply(unwrapEnvelope(msg.body))
    } catch (err) {
      this.bad({reason: errorMessage(err), code: 'RPC_MALFORMED', routingKey: msg.routingKey})
      return 'drop'
    }
    const p = this.pending.get(reply.msgId)
    if (!p) {
      this.opts.log.debug({msgId: reply.msgId}, 'a reply arrived for no waiting call (timed out)')
      return 'ack'
    }
    if (reply.failure) {
      this.settle(reply.msgId, p)
      p.reject(new RemoteRpcError(p.method, reply.failure))
    } else if (!reply.ending) {
      if (reply.result !== null) p.result = reply.result // pre-4.0: the result comes first
    } else {
      this.settle(reply.msgId, p)
      p.resolve(reply.result ?? p.result)
    }
    return 'ack'
  }

  private settle(msgId: string, p: PendingCall): void {
    clearTimeout(p.timer)
    this.pending.delete(msgId)
  }

  private async onRequest(msg: InboundMessage, endpoints: Record<string, Endpoint>): Promise<Disposition> {
    let inner: Record<string, unknown>
    let req: RequestMessage
    try {
      inner = unwrapEnvelope(msg.body)
    } catch (err) {
      this.bad({reason: errorMessage(err), code: 'RPC_MALFORMED', routingKey: msg.routingKey})
      return 'drop'
    }
    try {
      req = decodeRequest(inner)
    } catch (err) {
      this.bad({reason: errorMessage(err), code: 'RPC_MALFORMED', routingKey: msg.routingKey})
      // answer the caller if it said where: it then fails at once instead of timing out
      const msgId = typeof inner._msg_id === 'string' ? inner._msg_id : undefined
      const replyQ = typeof inner._reply_q === 'string' ? inner._reply_q : undefined
      if (msgId && replyQ && /^[A-Za-z0-9_.-]{1,255}$/.test(replyQ) && /^[0-9A-Za-z_-]{1,128}$/.test(msgId)) {
        await this.reply(
          replyQ,
          msgId,
          null,
          builtinFailure('ValueError', `vdp-agent: malformed request: ${errorMessage(err)}`),
        )
      }
      return 'drop'
    }
    if (req.uniqueId) {
      if (this.seen.has(req.uniqueId)) {
        this.opts.log.info({method: req.method, uniqueId: req.uniqueId}, 'duplicate RPC request dropped')
        return 'ack'
      }
      this.remember(req.uniqueId)
    }
    let result: unknown = null
    let failure: RemoteFailure | null = null
    const endpoint = Object.hasOwn(endpoints, req.method) ? endpoints[req.method] : undefined
    if (!endpoint) {
      failure = {
        class: 'NoSuchMethod',
        module: 'oslo_messaging.rpc.dispatcher',
        message: `Endpoint does not support RPC method ${req.method}`,
        tb: [],
        args: [req.method],
        kwargs: {},
      }
      this.bad({reason: failure.message, code: 'RPC_NO_SUCH_METHOD', method: req.method, routingKey: msg.routingKey})
    } else {
      try {
        result = (await endpoint(req.args, req.context)) ?? null
      } catch (err) {
        const code = err instanceof VdpAgentError ? err.code : 'RPC_ENDPOINT'
        const cls =
          err instanceof RpcEndpointError ? err.pyClass : err instanceof VdpAgentError ? 'ValueError' : 'RuntimeError'
        failure = builtinFailure(cls, `vdp-agent ${req.method}: ${errorMessage(err)}`)
        this.bad({reason: errorMessage(err), code, method: req.method, routingKey: msg.routingKey})
      }
    }
    if (req.msgId && req.replyQueue) await this.reply(req.replyQueue, req.msgId, result, failure)
    return 'ack'
  }

  private async reply(
    replyQueue: string,
    msgId: string,
    result: unknown,
    failure: RemoteFailure | null,
  ): Promise<void> {
    try {
      // oslo >= 9.2 publishes replies to the default exchange, mandatory (a gone caller comes back as a return)
      await this.opts.transport.publish({
        exchange: '',
        routingKey: replyQueue,
        body: encodeReply(msgId, result, failure),
        mandatory: true,
      })
    } catch (err) {
      this.opts.log.warn(
        {err: errorMessage(err), replyQueue},
        'could not publish an RPC reply (the caller will time out and retry)',
      )
    }
  }

  private remember(id: string): void {
    this.seen.add(id)
    if (this.seen.size > DEDUP_WINDOW) this.seen.delete(this.seen.values().next().value as string)
  }

  private bad(m: BadMessage): void {
    this.opts.log.warn(m, 'bad RPC message')
    for (const l of this.badListeners) l(m)
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(error()), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(t)
        reject(e as Error)
      },
    )
  })
}
