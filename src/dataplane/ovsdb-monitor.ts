/**
 * A read-only view of Open vSwitch's database, kept current by one OVSDB `monitor` (RFC 7047 §4.1.5) over
 * the server's Unix socket: bridges, ports (with Neutron's local VLAN `tag`), interfaces (ofport, type,
 * options, external_ids). The agent reads the lvid of a VM port, the patch pair and the ofports here instead
 * of running one `ovs-vsctl` per question, and waits for a port's tag event-driven (`waitFor`).
 * Reconnects with backoff; every (re)connection re-reads the whole view and emits 'ready'.
 */
import {EventEmitter} from 'node:events'
import {type Socket, createConnection} from 'node:net'

import {VdpAgentError} from '../errors.js'

export interface OvsBridge {
  uuid: string
  name: string
  ports: string[]
}
export interface OvsPort {
  uuid: string
  name: string
  /** Access VLAN (Neutron's local VLAN on br-int), or null. */
  tag: number | null
  interfaces: string[]
}
export interface OvsInterface {
  uuid: string
  name: string
  type: string
  /** -1 while vswitchd has not (or could not) attach it; null before it ever tried. */
  ofport: number | null
  externalIds: Record<string, string>
  options: Record<string, string>
}

class OvsdbError extends VdpAgentError {
  constructor(message: string) {
    super('OVSDB', message)
  }
}

class OvsdbTimeoutError extends VdpAgentError {
  constructor(what: string, ms: number) {
    super('OVSDB_TIMEOUT', `timed out after ${ms} ms waiting for ${what}`, {what, ms})
  }
}

type Json = unknown
const MONITOR_ID = 'monitor'

/** An OVSDB atom or set of one value, as a plain value (RFC 7047 §5.1: ["set", [...]], ["uuid", u]). */
function atoms(value: Json): Json[] {
  if (Array.isArray(value) && value[0] === 'set') return (value[1] as Json[]).map(atom)
  return [atom(value)]
}
function atom(value: Json): Json {
  return Array.isArray(value) && (value[0] === 'uuid' || value[0] === 'named-uuid') ? value[1] : value
}
function map(value: Json): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(value) && value[0] === 'map')
    for (const [k, v] of value[1] as [string, string][]) out[String(k)] = String(v)
  return out
}
function optionalInt(value: Json): number | null {
  const v = atoms(value)
  return typeof v[0] === 'number' ? v[0] : null
}

/**
 * Splits a byte stream into JSON texts (OVSDB sends them back to back, with no framing), aware of strings
 * and escapes. Returns the complete texts and keeps the rest.
 */
export class JsonStreamSplitter {
  private buf = ''
  private depth = 0
  private inString = false
  private escaped = false
  private scanned = 0

  push(chunk: string): string[] {
    this.buf += chunk
    const out: string[] = []
    let start = 0
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i]
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (c === '\\') this.escaped = true
        else if (c === '"') this.inString = false
        continue
      }
      if (c === '"') this.inString = true
      else if (c === '{' || c === '[') this.depth++
      else if (c === '}' || c === ']') {
        this.depth--
        if (this.depth === 0) {
          out.push(this.buf.slice(start, i + 1).trim())
          start = i + 1
        }
      }
    }
    this.buf = this.buf.slice(start)
    this.scanned = this.buf.length
    if (this.depth === 0 && this.buf.trim() === '') ((this.buf = ''), (this.scanned = 0))
    return out
  }
}

export interface OvsdbMonitorEvents {
  ready: []
  update: []
  disconnected: [reason: string]
}

/** The OVSDB view. `start()` resolves once connected and loaded (or rejects after `connectTimeoutMs`). */
export class OvsdbMonitor extends EventEmitter<OvsdbMonitorEvents> {
  readonly bridges = new Map<string, OvsBridge>()
  readonly ports = new Map<string, OvsPort>()
  readonly interfaces = new Map<string, OvsInterface>()
  /** How many times the view was (re)loaded: a new value means the server restarted or we reconnected. */
  generation = 0
  connected = false
  lastError: string | null = null
  private socket?: Socket
  private stopped = false
  private retryMs = 100
  private retryTimer?: NodeJS.Timeout
  /** Lookups rebuilt lazily after each change: iface-id -> interface, interface -> port, port name -> bridge. */
  private index?: {
    byIfaceId: Map<string, string>
    portOfIface: Map<string, string>
    bridgeOfPortName: Map<string, string>
  }

  constructor(private readonly socketPath: string) {
    super()
  }

  async start(connectTimeoutMs = 5000): Promise<void> {
    this.stopped = false
    if (!this.socket && this.retryTimer === undefined) this.connect() // else a connection is on its way
    await this.waitFor(
      'the OVSDB server at ' + this.socketPath,
      () => this.connected || undefined,
      connectTimeoutMs,
    ).catch((err) => {
      throw new OvsdbError(
        `cannot read Open vSwitch's database at ${this.socketPath}: ${this.lastError ?? (err as Error).message}`,
      )
    })
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.socket?.destroy()
    this.socket = undefined
    this.connected = false
  }

  /** Resolves with the first non-undefined `probe()` result, evaluated now and after every update. */
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const now = probe()
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe()
        if (v === undefined) return
        cleanup()
        resolve(v)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new OvsdbTimeoutError(what, timeoutMs))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.off('update', check)
        this.off('ready', check)
      }
      this.on('update', check)
      this.on('ready', check)
    })
  }

  bridgeByName(name: string): OvsBridge | undefined {
    for (const b of this.bridges.values()) if (b.name === name) return b
    return undefined
  }

  /** Interfaces of a bridge's ports. */
  interfacesOf(bridge: OvsBridge): OvsInterface[] {
    const out: OvsInterface[] = []
    for (const p of bridge.ports)
      for (const i of this.ports.get(p)?.interfaces ?? []) {
        const iface = this.interfaces.get(i)
        if (iface) out.push(iface)
      }
    return out
  }

  /** The bridge a port (by name) belongs to. */
  bridgeOfPort(portName: string): OvsBridge | undefined {
    const uuid = this.lookups().bridgeOfPortName.get(portName)
    return uuid === undefined ? undefined : this.bridges.get(uuid)
  }

  /** Neutron's binding: the interface whose external_ids:iface-id is the port UUID, and its port. */
  portOfIfaceId(ifaceId: string): {iface: OvsInterface; port: OvsPort} | undefined {
    const {byIfaceId, portOfIface} = this.lookups()
    const iface = this.interfaces.get(byIfaceId.get(ifaceId) ?? '')
    const port = iface && this.ports.get(portOfIface.get(iface.uuid) ?? '')
    return iface && port ? {iface, port} : undefined
  }

  private lookups(): NonNullable<OvsdbMonitor['index']> {
    if (this.index) return this.index
    const byIfaceId = new Map<string, string>()
    const portOfIface = new Map<string, string>()
    const bridgeOfPortName = new Map<string, string>()
    for (const iface of this.interfaces.values())
      if (iface.externalIds['iface-id']) byIfaceId.set(iface.externalIds['iface-id'], iface.uuid)
    for (const port of this.ports.values()) for (const i of port.interfaces) portOfIface.set(i, port.uuid)
    for (const b of this.bridges.values())
      for (const p of b.ports) {
        const name = this.ports.get(p)?.name
        if (name !== undefined) bridgeOfPortName.set(name, b.uuid)
      }
    this.index = {byIfaceId, portOfIface, bridgeOfPortName}
    return this.index
  }

  private connect(): void {
    if (this.stopped) return
    const socket = createConnection(this.socketPath)
    this.socket = socket
    const splitter = new JsonStreamSplitter()
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      const request = {
        id: MONITOR_ID,
        method: 'monitor',
        params: [
          'Open_vSwitch',
          null,
          {
            Bridge: {columns: ['name', 'ports']},
            Port: {columns: ['name', 'tag', 'interfaces']},
            Interface: {columns: ['name', 'type', 'ofport', 'external_ids', 'options']},
          },
        ],
      }
      socket.write(JSON.stringify(request))
    })
    socket.on('data', (chunk: string) => {
      for (const text of splitter.push(chunk)) {
        try {
          this.onMessage(socket, JSON.parse(text) as Record<string, Json>)
        } catch (err) {
          this.lastError = `bad OVSDB message: ${(err as Error).message}`
          socket.destroy()
        }
      }
    })
    socket.on('error', (err) => (this.lastError = err.message))
    socket.on('close', () => {
      if (this.socket !== socket) return
      const was = this.connected
      this.connected = false
      this.socket = undefined
      if (was) this.emit('disconnected', this.lastError ?? 'connection closed')
      if (this.stopped) return
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.connect()
      }, this.retryMs)
      this.retryTimer.unref()
      this.retryMs = Math.min(this.retryMs * 2, 5000)
    })
  }

  private onMessage(socket: Socket, msg: Record<string, Json>): void {
    if (msg.method === 'echo') {
      socket.write(JSON.stringify({id: msg.id, result: msg.params, error: null}))
      return
    }
    if (msg.id === MONITOR_ID) {
      if (msg.error) throw new Error(`monitor refused: ${JSON.stringify(msg.error)}`)
      this.bridges.clear()
      this.index = undefined
      this.ports.clear()
      this.interfaces.clear()
      this.apply(msg.result as Record<string, Record<string, {new?: Record<string, Json>}>>)
      this.connected = true
      this.lastError = null
      this.retryMs = 100
      this.generation++
      this.emit('ready')
      return
    }
    if (msg.method === 'update') {
      this.apply((msg.params as Json[])[1] as Record<string, Record<string, {new?: Record<string, Json>}>>)
      this.emit('update')
    }
  }

  /** Applies table-updates (RFC 7047 §4.1.6): a row without "new" is deleted; "new" holds every monitored column. */
  private apply(updates: Record<string, Record<string, {new?: Record<string, Json>}>>): void {
    this.index = undefined
    for (const [uuid, row] of Object.entries(updates.Bridge ?? {})) {
      if (!row.new) this.bridges.delete(uuid)
      else this.bridges.set(uuid, {uuid, name: String(row.new.name), ports: atoms(row.new.ports).map(String)})
    }
    for (const [uuid, row] of Object.entries(updates.Port ?? {})) {
      if (!row.new) this.ports.delete(uuid)
      else
        this.ports.set(uuid, {
          uuid,
          name: String(row.new.name),
          tag: optionalInt(row.new.tag),
          interfaces: atoms(row.new.interfaces).map(String),
        })
    }
    for (const [uuid, row] of Object.entries(updates.Interface ?? {})) {
      if (!row.new) this.interfaces.delete(uuid)
      else
        this.interfaces.set(uuid, {
          uuid,
          name: String(row.new.name),
          type: String(row.new.type ?? ''),
          ofport: optionalInt(row.new.ofport),
          externalIds: map(row.new.external_ids),
          options: map(row.new.options),
        })
    }
  }
}
