/**
 * Our AMQP 0-9-1 interface: the few operations the oslo.messaging layer needs, so the client library
 * behind it (rabbitmq-client today, see rabbit-transport.ts) can be swapped without touching the RPC code.
 * Declarations are part of every consumer and of the publisher, and are re-run after every reconnect:
 * oslo's queues and exchanges are transient, a broker restart deletes them.
 */

export interface ExchangeDecl {
  exchange: string
  type: 'topic' | 'fanout' | 'direct'
  durable: boolean
  autoDelete: boolean
}

interface QueueDecl {
  queue: string
  durable: boolean
  autoDelete: boolean
  /** e.g. `{'x-expires': 1800000}` for oslo's reply and fanout queues. */
  arguments?: Record<string, unknown>
}

interface Binding {
  exchange: string
  queue: string
  routingKey: string
}

export interface OutboundMessage {
  exchange: string
  routingKey: string
  body: Buffer
  /** Per-message TTL (oslo sets the call timeout), milliseconds. */
  expirationMs?: number
  /** Unroutable messages come back (oslo's replies); otherwise they are dropped by the broker. */
  mandatory?: boolean
}

export interface InboundMessage {
  body: Buffer
  exchange: string
  routingKey: string
  redelivered: boolean
}

/** What to do with a delivered message once the handler is done: never requeue a poison message. */
export type Disposition = 'ack' | 'requeue' | 'drop'

export interface ConsumeSpec {
  queue: QueueDecl
  exchanges: ExchangeDecl[]
  bindings: Binding[]
  /** Messages handled at a time (default 1: in delivery order). */
  concurrency?: number
}

export interface ConsumerHandle {
  close(): Promise<void>
}

export interface TransportState {
  connected: boolean
  /** The last connection or channel error, without credentials. */
  lastError: string | null
  connects: number
}

export interface AmqpTransport {
  readonly state: TransportState
  /** Resolves on the broker's publisher confirm; rejects on a nack, a closed channel or a timeout. */
  publish(msg: OutboundMessage): Promise<void>
  /** Declares and consumes (again after each reconnect); resolves once the consumer is first ready. */
  consume(spec: ConsumeSpec, handler: (msg: InboundMessage) => Promise<Disposition>): Promise<ConsumerHandle>
  /** Re-reads the connection flag where the client library may not report every change (polled); returns it. */
  refreshState(): boolean
  /** Connection up/down news. */
  onStateChange(listener: (state: TransportState) => void): void
  /** A mandatory message the broker could not route (the caller of a reply is gone). */
  onReturn(listener: (msg: {exchange: string; routingKey: string; replyText: string; body: Buffer}) => void): void
  close(): Promise<void>
}
