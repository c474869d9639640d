import {randomUUID} from 'node:crypto'

import {VdpAgentError} from '../errors.js'

/**
 * The oslo.messaging 2.0 envelope (oslo.messaging `_drivers/common.py`, `amqpdriver.py`; docs/rpc.md):
 * the AMQP body is the JSON text `{"oslo.version": "2.0", "oslo.message": "<inner JSON text>"}`; the inner
 * message of a request holds `method`, `args`, `_unique_id`, the context flattened as `_context_<key>`,
 * and for a call `_msg_id`, `_reply_q` and `_timeout`; a reply holds `result`, `failure`, `ending`,
 * `_msg_id` and `_unique_id`. Pure: text in, objects out.
 */
export class RpcWireError extends VdpAgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RPC_MALFORMED', message, details)
  }
}

const OSLO_VERSION = '2.0'

/** uuid4 hex, as oslo's `uuid.uuid4().hex`. */
export function uuidHex(): string {
  return randomUUID().replace(/-/g, '')
}

/**
 * Python `json.dumps` text (separators `", "` and `": "`, non-ASCII escaped as `\uXXXX`): byte-for-byte
 * what an oslo peer writes, so captures of both sides compare equal.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pyJsonDumps(k)}: ${pyJsonDumps(v)}`)
      .join(', ')}}`
  }
  throw new RpcWireError(`cannot encode a ${typeof value}`)
}

export type RpcContext = Record<string, string | number | boolean | null>

export interface RequestMessage {
  method: string
  args: Record<string, unknown>
  context: RpcContext
  uniqueId: string
  /** Set for a call (a reply is expected), absent for a cast. */
  msgId?: string
  replyQueue?: string
}

export interface ReplyMessage {
  msgId: string
  result: unknown
  /** A remote exception (already decoded from its JSON string), or null. */
  failure: RemoteFailure | null
  /** False for oslo's call-monitor heartbeat and the first of a pre-4.0 server's two messages. */
  ending: boolean
}

/** oslo's serialized exception (`common.serialize_remote_exception`). */
export interface RemoteFailure {
  class: string
  module: string
  message: string
  tb: string[]
  args?: unknown[]
  kwargs?: Record<string, unknown>
}

function wrapEnvelope(inner: Record<string, unknown>): Buffer {
  return Buffer.from(pyJsonDumps({'oslo.version': OSLO_VERSION, 'oslo.message': pyJsonDumps(inner)}), 'utf8')
}

/** Unwrap the envelope (or a bare pre-envelope message, as oslo's `deserialize_msg` accepts) to the inner object. */
export function unwrapEnvelope(body: Buffer | string, maxBytes = 64 * 1024 * 1024): Record<string, unknown> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (size > maxBytes) throw new RpcWireError(`message of ${size} bytes is larger than ${maxBytes}`)
  let outer: unknown
  try {
    outer = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch (err) {
    throw new RpcWireError(`body is not JSON: ${(err as Error).message}`)
  }
  if (!isObject(outer)) throw new RpcWireError('body is not a JSON object')
  if (!('oslo.message' in outer)) return outer
  if (outer['oslo.version'] !== OSLO_VERSION)
    throw new RpcWireError(`unsupported oslo.version ${JSON.stringify(outer['oslo.version'])}`, {
      version: outer['oslo.version'],
    })
  if (typeof outer['oslo.message'] !== 'string') throw new RpcWireError('oslo.message is not a string')
  let inner: unknown
  try {
    inner = JSON.parse(outer['oslo.message'])
  } catch (err) {
    throw new RpcWireError(`oslo.message is not JSON: ${(err as Error).message}`)
  }
  if (!isObject(inner)) throw new RpcWireError('oslo.message is not a JSON object')
  return inner
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
const ID = /^[0-9A-Za-z_-]{1,128}$/

function requestFields(method: string, args: Record<string, unknown>, context: RpcContext): Record<string, unknown> {
  const out: Record<string, unknown> = {method, args}
  for (const [k, v] of Object.entries(context)) out[`_context_${k}`] = v
  return out
}

/** A cast: `{method, args, _unique_id, _context_*}`. */
export function encodeCast(
  method: string,
  args: Record<string, unknown>,
  context: RpcContext = {},
  uniqueId = uuidHex(),
): Buffer {
  return wrapEnvelope({...requestFields(method, args, context), _unique_id: uniqueId})
}

/** A call: the cast's keys plus `_msg_id`, `_reply_q` and `_timeout: null` (no call monitor). Key order as oslo. */
export function encodeCall(
  method: string,
  args: Record<string, unknown>,
  replyQueue: string,
  context: RpcContext = {},
  msgId = uuidHex(),
  uniqueId = uuidHex(),
): Buffer {
  const {method: m, args: a, ...ctx} = requestFields(method, args, context)
  return wrapEnvelope({
    method: m,
    args: a,
    _msg_id: msgId,
    _reply_q: replyQueue,
    _timeout: null,
    _unique_id: uniqueId,
    ...ctx,
  })
}

/** A reply: one message with `ending: true` (oslo.messaging >= 4.0). */
export function encodeReply(
  msgId: string,
  result: unknown,
  failure: RemoteFailure | null,
  uniqueId = uuidHex(),
): Buffer {
  return wrapEnvelope({
    result: result ?? null,
    failure: failure ? pyJsonDumps(failure) : null,
    ending: true,
    _msg_id: msgId,
    _unique_id: uniqueId,
  })
}

/** A failure our endpoints send: a builtin class, so a Python caller rebuilds it (ValueError, NotImplementedError...). */
export function builtinFailure(
  cls: 'ValueError' | 'NotImplementedError' | 'RuntimeError' | 'TypeError',
  message: string,
): RemoteFailure {
  return {class: cls, module: 'builtins', message, tb: [], args: [message], kwargs: {}}
}

/** Validate an inner request message (from an untrusted peer). */
export function decodeRequest(inner: Record<string, unknown>): RequestMessage {
  const {method, args} = inner
  if (typeof method !== 'string' || !NAME.test(method))
    throw new RpcWireError(`method ${JSON.stringify(method)} is not a method name`, {field: 'method'})
  if (args !== undefined && !isObject(args)) throw new RpcWireError('args is not an object', {field: 'args'})
  const context: RpcContext = {}
  for (const [k, v] of Object.entries(inner)) {
    if (!k.startsWith('_context_')) continue
    if (v !== null && typeof v === 'object') continue // oslo contexts may carry structures; the DFA ones never do
    context[k.slice('_context_'.length)] = v as RpcContext[string]
  }
  const uniqueId = typeof inner._unique_id === 'string' && ID.test(inner._unique_id) ? inner._unique_id : ''
  const out: RequestMessage = {method, args: (args as Record<string, unknown>) ?? {}, context, uniqueId}
  if (inner._msg_id !== undefined && inner._msg_id !== null) {
    if (typeof inner._msg_id !== 'string' || !ID.test(inner._msg_id))
      throw new RpcWireError('_msg_id is not an id', {field: '_msg_id'})
    if (typeof inner._reply_q !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(inner._reply_q))
      throw new RpcWireError('_reply_q is not a queue name', {field: '_reply_q'})
    out.msgId = inner._msg_id
    out.replyQueue = inner._reply_q
  }
  return out
}

/** Validate an inner reply message. A pre-4.0 server's first message has no `ending` key. */
export function decodeReply(inner: Record<string, unknown>): ReplyMessage {
  if (typeof inner._msg_id !== 'string') throw new RpcWireError('reply without _msg_id', {field: '_msg_id'})
  let failure: RemoteFailure | null = null
  if (inner.failure !== null && inner.failure !== undefined) {
    let f: unknown = inner.failure
    if (typeof f === 'string') {
      try {
        f = JSON.parse(f)
      } catch {
        f = {class: 'RemoteError', module: '', message: f, tb: []}
      }
    }
    const o = isObject(f) ? f : {}
    failure = {
      class: typeof o.class === 'string' ? o.class : 'RemoteError',
      module: typeof o.module === 'string' ? o.module : '',
      message: typeof o.message === 'string' ? o.message : String(inner.failure),
      tb: Array.isArray(o.tb) ? o.tb.filter((l): l is string => typeof l === 'string') : [],
    }
  }
  return {msgId: inner._msg_id, result: inner.result ?? null, failure, ending: inner.ending === true}
}

/** A remote exception raised by the peer's endpoint, as the caller sees it. */
export class RemoteRpcError extends VdpAgentError {
  constructor(
    readonly method: string,
    readonly failure: RemoteFailure,
  ) {
    super(
      'RPC_REMOTE',
      `${method}: the server raised ${failure.module ? `${failure.module}.` : ''}${failure.class}: ${failure.message}`,
      {method, class: failure.class},
    )
  }
}
