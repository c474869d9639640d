/**
 * frame-probe: AfPacketFrameIO driven over JSON lines, run inside a lab namespace by tests and benchmarks:
 *   ip netns exec <ns> node dist/test/helpers/processes/frame-probe.js
 * Requests (stdin, one JSON object per line, each with a `seq`):
 *   {op:'open', id, ifname, ethertype, multicast?: string[], echo?: boolean}   echo: send each frame back
 *   {op:'send', id, hex}    {op:'close', id, keep?: boolean}    {op:'stats', id}    {op:'exit'}
 * Output (stdout): {ev:'ready'}, {ev:'reply', seq, ok, ...|error}, {ev:'frame', id, hex, dst, src, ethertype},
 *   {ev:'error', id, sysCode, message}.
 */
import {createInterface} from 'node:readline'
import {decodeEthernetHeader} from '../../../src/core/ethernet.js'
import {AfPacketFrameIO, type FrameSocket} from '../../../src/net/frames.js'

type Request = {op: string; seq: number; id?: string; [key: string]: unknown}

const io = new AfPacketFrameIO()
const sockets = new Map<string, FrameSocket>()

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

function socketFor(req: Request): FrameSocket {
  const socket = sockets.get(String(req.id))
  if (!socket) throw Object.assign(new Error(`no socket ${req.id}`), {code: 'PROBE_NO_SOCKET'})
  return socket
}

function swapAddresses(frame: Buffer): Buffer {
  const echo = Buffer.from(frame)
  frame.copy(echo, 0, 6, 12)
  frame.copy(echo, 6, 0, 6)
  return echo
}

function handle(req: Request): Record<string, unknown> {
  switch (req.op) {
    case 'open': {
      const id = String(req.id)
      if (sockets.has(id)) throw Object.assign(new Error(`socket ${id} is open`), {code: 'PROBE_DUPLICATE'})
      const echo = req.echo === true
      const socket: FrameSocket = io.open(String(req.ifname), Number(req.ethertype), {
        multicast: req.multicast as string[] | undefined,
        onFrame: (frame) => {
          if (echo) socket.send(swapAddresses(frame))
          else emit({ev: 'frame', id, hex: frame.toString('hex'), length: frame.length, ...decodeEthernetHeader(frame)})
        },
        onError: (err) => emit({ev: 'error', id, sysCode: err.sysCode, syscall: err.syscall, message: err.message}),
      })
      sockets.set(id, socket)
      return {}
    }
    case 'send':
      return {bytes: socketFor(req).send(Buffer.from(String(req.hex), 'hex'))}
    case 'close':
      socketFor(req).close()
      if (req.keep !== true) sockets.delete(String(req.id)) // keep: to try using a closed socket
      return {}
    case 'stats':
      return {stats: socketFor(req).stats()}
    case 'exit':
      for (const socket of sockets.values()) socket.close()
      sockets.clear()
      process.stdin.destroy()
      return {}
    default:
      throw Object.assign(new Error(`unknown op ${req.op}`), {code: 'PROBE_BAD_OP'})
  }
}

createInterface({input: process.stdin}).on('line', (line) => {
  let req: Request
  try {
    req = JSON.parse(line) as Request
  } catch {
    emit({ev: 'reply', seq: null, ok: false, error: {code: 'PROBE_BAD_JSON', message: line}})
    return
  }
  try {
    emit({ev: 'reply', seq: req.seq, ok: true, ...handle(req)})
  } catch (err) {
    const e = err as Error & {code?: string; sysCode?: string}
    emit({
      ev: 'reply',
      seq: req.seq,
      ok: false,
      error: {code: e.code ?? 'ERROR', sysCode: e.sysCode, message: e.message},
    })
  }
})
emit({ev: 'ready', pid: process.pid})
