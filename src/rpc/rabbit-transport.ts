import {Connection, ConsumerStatus, type Consumer, type Publisher} from 'rabbitmq-client'

import {errorMessage} from '../errors.js'
import type {
  AmqpTransport,
  ConsumeSpec,
  ConsumerHandle,
  Disposition,
  ExchangeDecl,
  InboundMessage,
  OutboundMessage,
  TransportState,
} from './transport.js'
import {type BrokerAddress, redactCredentials} from './transport-url.js'

export interface RabbitTransportOptions {
  broker: BrokerAddress
  /** Exchanges declared before the first publish and after each reconnect (oslo declares `dfa` per channel). */
  publishExchanges: ExchangeDecl[]
  /** AMQP heartbeat, seconds (oslo's heartbeat_timeout_threshold: 60). */
  heartbeat?: number
  /** Reconnect backoff: first step and cap, milliseconds. Each delay is drawn at random below the step's cap (jitter). */
  retryLowMs?: number
  retryHighMs?: number
  /** Shown in the broker's connection list. */
  connectionName?: string
  /**
   * How often the connection flag is re-read by a timer of its own, ms; default 1000. 0: none, the owner
   * calls `refreshState` periodically (the daemon's `rpc-connection` task).
   */
  statePollMs?: number
}

const STATUS: Record<Disposition, ConsumerStatus> = {
  ack: ConsumerStatus.ACK,
  requeue: ConsumerStatus.REQUEUE,
  drop: ConsumerStatus.DROP,
}

/**
 * AmqpTransport over rabbitmq-client 5.0.8: one connection (reconnects by itself with exponential backoff
 * and full jitter, rotating through the hosts), one confirm-mode publisher, consumers that re-declare their
 * queue, exchanges and bindings on every reconnect. Properties as oslo/kombu publish them: content type
 * application/json, encoding utf-8, delivery mode 2, priority 0, empty headers, no timestamp.
 */
export class RabbitTransport implements AmqpTransport {
  readonly state: TransportState = {connected: false, lastError: null, connects: 0}
  private readonly conn: Connection
  private readonly publisher: Publisher
  private readonly consumers = new Set<Consumer>()
  private readonly stateListeners: ((s: TransportState) => void)[] = []
  private readonly returnListeners: ((m: {
    exchange: string
    routingKey: string
    replyText: string
    body: Buffer
  }) => void)[] = []
  private readonly poll?: NodeJS.Timeout

  constructor(opts: RabbitTransportOptions) {
    const b = opts.broker
    this.conn = new Connection({
      hosts: b.hosts.map((h) => `${h.hostname}:${h.port}`),
      username: b.username,
      password: b.password,
      vhost: b.vhost,
      tls: b.tls,
      heartbeat: opts.heartbeat ?? 60,
      retryLow: opts.retryLowMs ?? 1000,
      retryHigh: opts.retryHighMs ?? 30_000,
      connectionName: opts.connectionName,
      // a publish waits this long for a channel while the broker is away, then fails (the outbox retries)
      acquireTimeout: 10_000,
    })
    this.conn.on('connection', () => {
      this.state.connects++
      this.setConnected(true)
    })
    this.conn.on('error', (err) => {
      this.state.lastError = redactCredentials(errorMessage(err))
      this.setConnected(this.conn.ready)
    })
    const pollMs = opts.statePollMs ?? 1000
    if (pollMs > 0) {
      this.poll = setInterval(() => this.refreshState(), pollMs)
      this.poll.unref()
    }
    this.publisher = this.conn.createPublisher({confirm: true, exchanges: opts.publishExchanges.map(exchangeParams)})
    // rabbitmq-client 5.0.8 ignores the onReturn option; the event works
    this.publisher.on('basic.return', (msg) => {
      const body = Buffer.isBuffer(msg.body)
        ? msg.body
        : Buffer.from(typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body))
      for (const l of this.returnListeners)
        l({exchange: msg.exchange, routingKey: msg.routingKey, replyText: msg.replyText, body})
    })
  }

  async publish(msg: OutboundMessage): Promise<void> {
    await this.publisher.send(
      {
        exchange: msg.exchange,
        routingKey: msg.routingKey,
        mandatory: msg.mandatory ?? false,
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        durable: true, // delivery mode 2
        priority: 0,
        headers: {},
        expiration: msg.expirationMs === undefined ? undefined : String(Math.max(0, Math.round(msg.expirationMs))),
        timestamp: undefined,
      },
      msg.body,
    )
  }

  consume(spec: ConsumeSpec, handler: (msg: InboundMessage) => Promise<Disposition>): Promise<ConsumerHandle> {
    const consumer = this.conn.createConsumer(
      {
        queue: spec.queue.queue,
        queueOptions: {
          durable: spec.queue.durable,
          autoDelete: spec.queue.autoDelete,
          exclusive: false,
          arguments: spec.queue.arguments,
        },
        exchanges: spec.exchanges.map(exchangeParams),
        queueBindings: spec.bindings.map((b) => ({exchange: b.exchange, queue: b.queue, routingKey: b.routingKey})),
        concurrency: spec.concurrency ?? 1,
        requeue: false,
        noAck: false,
      },
      async (msg) => {
        const body = Buffer.isBuffer(msg.body)
          ? msg.body
          : Buffer.from(typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body))
        const disposition = await handler({
          body,
          exchange: msg.exchange,
          routingKey: msg.routingKey,
          redelivered: msg.redelivered,
        })
        return STATUS[disposition]
      },
    )
    consumer.on('error', (err) => {
      this.state.lastError = redactCredentials(errorMessage(err))
    })
    this.consumers.add(consumer)
    const handle: ConsumerHandle = {
      close: async () => {
        this.consumers.delete(consumer)
        await consumer.close()
      },
    }
    return new Promise((resolve) => consumer.once('ready', () => resolve(handle)))
  }

  /** The library reports only the first error of a reconnect series: the flag is re-read. */
  refreshState(): boolean {
    this.setConnected(this.conn.ready)
    return this.state.connected
  }

  onStateChange(listener: (state: TransportState) => void): void {
    this.stateListeners.push(listener)
  }

  onReturn(listener: (m: {exchange: string; routingKey: string; replyText: string; body: Buffer}) => void): void {
    this.returnListeners.push(listener)
  }

  async close(): Promise<void> {
    clearInterval(this.poll)
    await Promise.allSettled([...this.consumers].map((c) => c.close()))
    await this.publisher.close().catch(() => undefined)
    await this.conn.close().catch(() => undefined)
    this.setConnected(false)
  }

  private setConnected(connected: boolean): void {
    if (this.state.connected === connected) return
    this.state.connected = connected
    for (const l of this.stateListeners) l({...this.state})
  }
}

function exchangeParams(e: ExchangeDecl) {
  return {exchange: e.exchange, type: e.type, durable: e.durable, autoDelete: e.autoDelete}
}
