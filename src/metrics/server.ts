/**
 * The HTTP edge of the metrics: GET /metrics answers the Prometheus text exposition; anything else 404.
 * `[metrics] listen` says where (parseMetricsListen); off by default, loopback when no address is given.
 */
import {createServer, type Server} from 'node:http'

import {VdpAgentError} from '../errors.js'

const DEFAULT_METRICS_PORT = 9477
const LOOPBACK = '127.0.0.1'

/** Where the endpoint listens; undefined = off. */
export interface MetricsListen {
  host: string
  port: number
}

/** The endpoint could not be opened (address in use, not local...): the daemon runs on without it. */
class MetricsListenError extends VdpAgentError {}

/**
 * `[metrics] listen` text → address: off/false/no/empty = off; on/true/yes = 127.0.0.1:9477; PORT or :PORT =
 * 127.0.0.1:PORT; HOST:PORT and [IPv6]:PORT as written (0.0.0.0:9477 for every interface). The schema's
 * pattern has validated the shape and the port range.
 */
export function parseMetricsListen(text: string): MetricsListen | undefined {
  const value = text.trim().toLowerCase()
  if (['', 'off', 'false', 'no'].includes(value)) return undefined
  if (['on', 'true', 'yes'].includes(value)) return {host: LOOPBACK, port: DEFAULT_METRICS_PORT}
  const m = /^(?:(\[[0-9a-f:.]+\]|[a-z0-9.-]+)?:)?(\d{1,5})$/.exec(value)
  if (!m)
    throw new MetricsListenError(
      'METRICS_LISTEN_INVALID',
      `[metrics] listen = ${text}: expected off, on, PORT, :PORT, HOST:PORT or [IPv6]:PORT`,
    )
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : LOOPBACK
  return {host, port: Number(m[2])}
}

export class MetricsServer {
  private server?: Server

  constructor(private readonly scrape: () => Promise<{body: string; contentType: string}>) {}

  /** Listen; throws MetricsListenError when the address cannot be bound. Returns the bound port. */
  async listen(at: MetricsListen): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, {'content-type': 'text/plain'}).end('only GET /metrics here\n')
        return
      }
      this.scrape().then(
        ({body, contentType}) => res.writeHead(200, {'content-type': contentType}).end(body),
        (err: Error) =>
          res.writeHead(500, {'content-type': 'text/plain'}).end(`metrics collection failed: ${err.message}\n`),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new MetricsListenError(
            'METRICS_LISTEN_FAILED',
            `cannot listen on ${at.host}:${at.port} for metrics: ${err.code ?? err.message}`,
            {host: at.host, port: at.port},
          ),
        ),
      )
      server.listen(at.port, at.host, () => resolve())
    })
    this.server = server
    const address = server.address()
    return typeof address === 'object' && address ? address.port : at.port
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
