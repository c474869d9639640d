import {chmodSync, rmSync} from 'node:fs'
import {type Server, type Socket, connect, createServer} from 'node:net'
import {dirname} from 'node:path'

import {ensureDirectory} from '../config/ensure-dir.js'
import type {ErrorCode} from '../error-codes.js'
import {VdpAgentError, errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import {nestingDepthExceeds} from '../value-preview.js'
import {type ControlResponse, MAX_LINE_BYTES, MAX_PARAMS_DEPTH, isControlRequest} from './protocol.js'

export type ControlHandler = (params: unknown) => unknown | Promise<unknown>

/**
 * Bounds on what clients of the control socket may hold of the daemon (issue 10): requests waiting per
 * connection, reply bytes a client has not read before the daemon stops serving it, how long such a stalled
 * client is kept, and connections in total.
 */
export interface ControlLimits {
  /** Requests received and not yet answered on one connection; more and the client is dropped. */
  maxPendingRequests: number
  /** Reply bytes queued for a client that does not read; past this, its next request waits for a drain. */
  maxOutputBytes: number
  /** A client whose unread replies stay over maxOutputBytes this long is dropped (ms). */
  stalledClientMs: number
  /** Connections at once; more are closed at accept (and logged). */
  maxConnections: number
}

const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxPendingRequests: 256,
  maxOutputBytes: 1 << 20,
  stalledClientMs: 30_000,
  maxConnections: 4096,
}

/** One connection: its unparsed input, its waiting requests, and whether one is being answered. */
interface Client {
  socket: Socket
  input: string
  waiting: string[]
  /** Characters of the waiting requests: bounded too, not only their number. */
  waitingBytes: number
  busy: boolean
  stallTimer?: NodeJS.Timeout
}

/**
 * The daemon's side of the control socket. Access control is the file mode (0660, directory 0750):
 * root and the socket's group may steer the daemon, nobody else can reach it.
 */
export class ControlServer {
  private server?: Server
  private readonly sockets = new Set<Socket>()
  private readonly limits: ControlLimits
  private refusedSince = 0
  private refused = 0

  constructor(
    private readonly path: string,
    /** Until set (see `attach`), every request is answered NOT_READY. */
    private handlers: Record<string, ControlHandler> | undefined,
    private readonly log: Logger,
    limits: Partial<ControlLimits> = {},
  ) {
    this.limits = {...DEFAULT_CONTROL_LIMITS, ...limits}
  }

  async listen(): Promise<void> {
    ensureDirectory(dirname(this.path), 0o750, '[general] control_socket')
    await this.removeStaleSocket()
    const server = createServer((socket) => this.serve(socket))
    server.maxConnections = this.limits.maxConnections
    server.on('drop', () => this.connectionRefused())
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.path, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(this.path, 0o660)
    server.on('error', (err) => this.log.error({err}, 'control socket error'))
    this.server = server
  }

  /**
   * Start (handlers) or stop (undefined) answering: the socket is claimed before the daemon opens its
   * database (a second daemon fails early) and answers NOT_READY until the daemon has started.
   */
  attach(handlers: Record<string, ControlHandler> | undefined): void {
    this.handlers = handlers
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(this.path, {force: true})
  }

  /** A socket file left by a crashed daemon is removed; one answered by a live daemon is an error. */
  private async removeStaleSocket(): Promise<void> {
    const alive = await new Promise<boolean>((resolve) => {
      const probe = connect(this.path)
      probe.once('connect', () => {
        probe.destroy()
        resolve(true)
      })
      probe.once('error', () => resolve(false))
    })
    if (alive) {
      throw new VdpAgentError(
        'ALREADY_RUNNING',
        `another vdp-agent daemon answers on ${this.path}: stop it first, or give this one another [general] control_socket and state_dir`,
        {path: this.path},
      )
    }
    rmSync(this.path, {force: true})
  }

  private serve(socket: Socket): void {
    const client: Client = {socket, input: '', waiting: [], waitingBytes: 0, busy: false}
    this.sockets.add(socket)
    socket.on('close', () => {
      this.sockets.delete(socket)
      clearTimeout(client.stallTimer)
      client.waiting = []
    })
    socket.on('error', () => socket.destroy())
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      client.input += chunk
      if (client.input.length > MAX_LINE_BYTES) {
        this.drop(
          client,
          'REQUEST_TOO_LARGE',
          `request exceeds ${MAX_LINE_BYTES} bytes; the control socket carries commands, not bulk data`,
        )
        return
      }
      let nl: number
      while ((nl = client.input.indexOf('\n')) >= 0) {
        const line = client.input.slice(0, nl)
        client.input = client.input.slice(nl + 1)
        if (line.trim() === '') continue
        client.waiting.push(line)
        client.waitingBytes += line.length
      }
      if (client.waiting.length > this.limits.maxPendingRequests) {
        this.drop(
          client,
          'TOO_MANY_REQUESTS',
          `more than ${this.limits.maxPendingRequests} requests waiting on one connection; read the answers before sending more`,
        )
        return
      }
      if (client.waitingBytes > 2 * MAX_LINE_BYTES) {
        this.drop(
          client,
          'TOO_MANY_REQUESTS',
          `more than ${2 * MAX_LINE_BYTES} bytes of requests waiting on one connection; read the answers before sending more`,
        )
        return
      }
      this.pump(client)
    })
  }

  /**
   * Answer a client's requests one at a time, each in its own turn of the event loop, and only while the
   * client reads its answers: replies it leaves unread past maxOutputBytes stop its requests (and reading
   * from it) until they drain, and a client stalled that way for stalledClientMs is dropped. Nothing the
   * daemon does for the switch ever waits on a client.
   */
  private pump(client: Client): void {
    if (client.busy || client.socket.destroyed || this.stalled(client)) return
    const line = client.waiting.shift()
    if (line === undefined) return
    client.waitingBytes -= line.length
    client.busy = true
    void this.handleLine(client.socket, line).finally(() => {
      client.busy = false
      if (this.stalled(client)) return
      if (client.waiting.length > 0) setImmediate(() => this.pump(client))
    })
  }

  /**
   * True while the client has more than maxOutputBytes of answers unread. Then reading from it stops until
   * they drain, and if they do not within stalledClientMs the client is dropped: a client holding one big
   * unread answer is bounded in time, not only one asking for more.
   */
  private stalled(client: Client): boolean {
    const {socket} = client
    if (socket.writableLength <= this.limits.maxOutputBytes) return false
    if (client.stallTimer) return true
    socket.pause()
    client.stallTimer = setTimeout(
      () =>
        this.drop(
          client,
          'CLIENT_STALLED',
          `the client left ${socket.writableLength} bytes of answers unread for ${this.limits.stalledClientMs} ms`,
        ),
      this.limits.stalledClientMs,
    )
    client.stallTimer.unref()
    socket.once('drain', () => {
      clearTimeout(client.stallTimer)
      client.stallTimer = undefined
      if (socket.destroyed) return
      socket.resume()
      this.pump(client)
    })
    return true
  }

  /**
   * Drop a client over a bound, with a log line saying why. It gets the error as its last line when its
   * output is not what is stuck; a stalled client is cut off at once (waiting for its drain would keep it).
   */
  private drop(client: Client, code: ErrorCode, message: string): void {
    const {socket} = client
    if (socket.destroyed) return
    this.log.warn(
      {code, pendingRequests: client.waiting.length, unreadBytes: socket.writableLength},
      `control client dropped: ${message}`,
    )
    client.waiting = []
    client.waitingBytes = 0
    client.input = ''
    socket.pause()
    if (code === 'CLIENT_STALLED') {
      socket.destroy()
      return
    }
    socket.end(JSON.stringify({id: 0, ok: false, error: {code, message}}) + '\n')
    // end() waits for the client to read that line; it gets a grace period, not a say over the connection.
    setTimeout(() => socket.destroy(), 1000).unref()
  }

  private connectionRefused(): void {
    this.refused++
    const now = Date.now()
    if (now - this.refusedSince < 60_000) return
    this.log.warn(
      {maxConnections: this.limits.maxConnections, refused: this.refused},
      'control socket connections refused: too many clients at once',
    )
    this.refusedSince = now
    this.refused = 0
  }

  private async handleLine(socket: Socket, line: string): Promise<void> {
    let request: unknown
    try {
      request = JSON.parse(line)
    } catch {
      this.reply(socket, {id: 0, ok: false, error: {code: 'BAD_REQUEST', message: 'request is not valid JSON'}})
      return
    }
    if (!isControlRequest(request)) {
      this.reply(socket, {
        id: 0,
        ok: false,
        error: {code: 'BAD_REQUEST', message: 'request needs a numeric id and a method name'},
      })
      return
    }
    if (nestingDepthExceeds(request.params, MAX_PARAMS_DEPTH)) {
      this.reply(socket, {
        id: request.id,
        ok: false,
        error: {
          code: 'BAD_REQUEST',
          message: `params nest deeper than ${MAX_PARAMS_DEPTH} levels; requests are flat objects and lists`,
        },
      })
      return
    }
    const handlers = this.handlers
    if (!handlers) {
      this.reply(socket, {
        id: request.id,
        ok: false,
        error: {code: 'NOT_READY', message: 'the daemon is starting or stopping; try again'},
      })
      return
    }
    const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined
    if (!handler) {
      this.reply(socket, {
        id: request.id,
        ok: false,
        error: {code: 'UNKNOWN_METHOD', message: `unknown method ${request.method.slice(0, 64)}`},
      })
      return
    }
    try {
      const result = await handler(request.params)
      this.reply(socket, {id: request.id, ok: true, result: result ?? null})
    } catch (err) {
      if (err instanceof VdpAgentError) {
        this.reply(socket, {id: request.id, ok: false, error: err.toJSON()})
      } else {
        this.log.error({err, method: request.method}, 'control request failed')
        this.reply(socket, {id: request.id, ok: false, error: {code: 'INTERNAL', message: errorMessage(err)}})
      }
    }
  }

  private reply(socket: Socket, response: ControlResponse): void {
    if (!socket.destroyed) socket.write(JSON.stringify(response) + '\n')
  }
}
