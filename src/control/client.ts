import {connect} from 'node:net'

import {VdpAgentError} from '../errors.js'
import type {ControlMethod, ControlParams, ControlResponse, ControlResult, MethodMap} from './protocol.js'

/** The daemon is not running (or its socket is unreachable): callers fall back to the database. */
export class DaemonUnreachableError extends VdpAgentError {
  constructor(path: string, cause: string) {
    super(
      'DAEMON_UNREACHABLE',
      `no vdp-agent daemon answers on ${path} (${cause}): start it (systemctl start vdp-agent, or vdp-agent daemon), or check [general] control_socket`,
      {path},
    )
  }
}

/**
 * The control socket is there but this user may not use it (EACCES/EPERM): the daemon may well be running.
 * Not a DaemonUnreachableError, so nothing falls back to "daemon not running". Code DAEMON_ACCESS_DENIED.
 */
class DaemonAccessError extends VdpAgentError {
  constructor(path: string, cause: string) {
    super(
      'DAEMON_ACCESS_DENIED',
      `permission denied on the control socket ${path} (${cause}): only root and members of the socket's group (vdp-agent when installed as a service) may use it; run with sudo or join that group`,
      {path},
    )
  }
}

/** An error the daemon returned for a request. */
class ControlCallError extends VdpAgentError {}

/**
 * One request, one response, then close: the CLI's whole conversation with the daemon. Method, params and
 * result are checked against ControlMethods (src/control/protocol.ts), the map the daemon's handlers obey.
 */
export function callDaemon<M extends ControlMethod>(
  path: string,
  method: M,
  params?: ControlParams<M>,
  timeoutMs = 10_000,
): Promise<ControlResult<M>> {
  // The daemon's handler for M answers ControlResult<M> (DaemonHandlers is checked against the same map).
  return callControl(path, method, params, timeoutMs) as Promise<ControlResult<M>>
}

/** callDaemon for another server of this protocol, typed by its method map (the lab's ToR simulator: TorControlMethods). */
export function controlCaller<Map extends MethodMap<Map>>(path: string) {
  return <M extends keyof Map & string>(
    method: M,
    params?: Map[M]['params'],
    timeoutMs?: number,
  ): Promise<Map[M]['result']> =>
    // The server's handlers are a HandlersOf<Map>, checked against the same map.
    callControl(path, method, params, timeoutMs) as Promise<Map[M]['result']>
}

/** The same conversation with any server of this protocol, untyped (the lab's ToR simulator has its own methods). */
export function callControl(path: string, method: string, params?: unknown, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    let buffer = ''
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      fn()
    }
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new VdpAgentError('DAEMON_TIMEOUT', `the daemon did not answer ${method} within ${timeoutMs} ms`)),
        ),
      timeoutMs,
    )
    socket.setEncoding('utf8')
    socket.once('connect', () => socket.write(JSON.stringify({id: 1, method, params}) + '\n'))
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          err.code === 'EACCES' || err.code === 'EPERM'
            ? new DaemonAccessError(path, err.code)
            : new DaemonUnreachableError(path, err.code ?? err.message),
        ),
      ),
    )
    socket.on('data', (chunk: string) => {
      buffer += chunk
      const nl = buffer.indexOf('\n')
      if (nl < 0) return
      let response: ControlResponse
      try {
        response = JSON.parse(buffer.slice(0, nl)) as ControlResponse
      } catch {
        finish(() => reject(new VdpAgentError('BAD_RESPONSE', 'the daemon sent an unreadable response')))
        return
      }
      if (response.ok) finish(() => resolve(response.result))
      else
        finish(() =>
          reject(new ControlCallError(response.error.code, response.error.message, response.error.details ?? {})),
        )
    })
    socket.on('end', () =>
      finish(() => reject(new VdpAgentError('BAD_RESPONSE', 'the daemon closed the connection without answering'))),
    )
  })
}
