import {chmodSync, mkdirSync, rmSync} from 'node:fs'
import {type Server, type Socket, connect, createServer} from 'node:net'
import {dirname} from 'node:path'

import {VdpAgentError, errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import {type ControlResponse, MAX_LINE_BYTES, isControlRequest} from './protocol.js'

export type ControlHandler = (params: unknown) => unknown | Promise<unknown>

/**
 * The daemon's side of the control socket. Access control is the file mode (0660, directory 0750):
 * root and the socket's group may steer the daemon, nobody else can reach it.
 */
export class ControlServer {
  private server?: Server
  private readonly sockets = new Set<Socket>()

  constructor(
    private readonly path: string,
    private readonly handlers: Record<string, ControlHandler>,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), {recursive: true, mode: 0o750})
    await this.removeStaleSocket()
    const server = createServer((socket) => this.serve(socket))
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
      throw new VdpAgentError('ALREADY_RUNNING', `another vdp-agent daemon answers on ${this.path}`, {path: this.path})
    }
    rmSync(this.path, {force: true})
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_LINE_BYTES) {
        this.reply(socket, {id: 0, ok: false, error: {code: 'REQUEST_TOO_LARGE', message: `request exceeds ${MAX_LINE_BYTES} bytes`}})
        socket.end()
        return
      }
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (line.trim() !== '') void this.handleLine(socket, line)
      }
    })
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
      this.reply(socket, {id: 0, ok: false, error: {code: 'BAD_REQUEST', message: 'request needs a numeric id and a method name'}})
      return
    }
    const handler = Object.hasOwn(this.handlers, request.method) ? this.handlers[request.method] : undefined
    if (!handler) {
      this.reply(socket, {id: request.id, ok: false, error: {code: 'UNKNOWN_METHOD', message: `unknown method ${request.method}`}})
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
