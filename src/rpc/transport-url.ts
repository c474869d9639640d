import {VdpAgentError} from '../errors.js'

/**
 * The broker address: an `amqp://`/`amqps://` URL, or oslo.messaging's `transport_url`
 * (`rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost`, several hosts for failover; oslo
 * `TransportURL.parse`). An empty path or `/` is the default vhost `/`; `//` is also `/` (oslo's
 * documented form `rabbit://u:p@host:5672//`). `?ssl=1` (oslo) or `amqps://` turns TLS on.
 */
export interface BrokerAddress {
  hosts: {hostname: string; port: number}[]
  username: string
  password: string
  vhost: string
  tls: boolean
}

class BrokerUrlError extends VdpAgentError {
  constructor(message: string) {
    super('RPC_BAD_URL', `[rpc] url: ${message}`)
  }
}

const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})$/

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new BrokerUrlError(`bad percent-encoding in the ${what}`)
  }
}

export function parseBrokerUrl(url: string): BrokerAddress {
  const m = /^(rabbit|amqp|amqps|kombu\+rabbit):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/.exec(url.trim())
  if (!m)
    throw new BrokerUrlError(
      'expected rabbit://user:pass@host:port[,user:pass@host:port...]/vhost or amqp(s)://user:pass@host:port/vhost',
    )
  const [, scheme, netlocs, path = '', query = ''] = m
  if (!netlocs) throw new BrokerUrlError('no host')
  const hosts: BrokerAddress['hosts'] = []
  let username = ''
  let password = ''
  for (const netloc of netlocs.split(',')) {
    const at = netloc.lastIndexOf('@')
    const cred = at >= 0 ? netloc.slice(0, at) : ''
    const hostPort = at >= 0 ? netloc.slice(at + 1) : netloc
    if (cred) {
      const colon = cred.indexOf(':')
      const user = decode(colon >= 0 ? cred.slice(0, colon) : cred, 'user name')
      const pass = colon >= 0 ? decode(cred.slice(colon + 1), 'password') : ''
      // One connection carries one login; oslo would log in to each host with its own, we need them equal.
      if (hosts.length > 0 && (user !== username || pass !== password))
        throw new BrokerUrlError('every host must use the same user and password')
      username = user
      password = pass
    }
    const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostPort)
    if (!hp || !HOST.test(hp[1])) throw new BrokerUrlError(`bad host ${JSON.stringify(hostPort)}`)
    const port = hp[2] === undefined ? (scheme === 'amqps' ? 5671 : 5672) : Number(hp[2])
    if (port < 1 || port > 65535) throw new BrokerUrlError(`bad port ${hp[2]}`)
    hosts.push({hostname: hp[1].replace(/^\[|\]$/g, ''), port})
  }
  const vhostRaw = decode(path.slice(1), 'vhost')
  const vhost = vhostRaw === '' || vhostRaw === '/' ? '/' : vhostRaw
  const params = new URLSearchParams(query.slice(1))
  const tls = scheme === 'amqps' || ['1', 'true', 'yes'].includes((params.get('ssl') ?? '').toLowerCase())
  return {hosts, username: username || 'guest', password: password || (username ? '' : 'guest'), vhost, tls}
}

/** The broker without credentials, for logs and the CLI: `rabbit://host1:5672,host2:5672/vhost`. */
export function describeBroker(addr: BrokerAddress): string {
  const hosts = addr.hosts
    .map((h) => `${h.hostname.includes(':') ? `[${h.hostname}]` : h.hostname}:${h.port}`)
    .join(',')
  return `${addr.tls ? 'amqps' : 'amqp'}://${hosts}/${addr.vhost === '/' ? '' : encodeURIComponent(addr.vhost)}`
}

/** Any text with a URL's `user:pass@` removed (for error messages that may echo the URL). */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z+]+:\/\/)[^@/\s]*@/gi, '$1').replace(/,[^,@/\s]*:[^,@/\s]*@/g, ',')
}
