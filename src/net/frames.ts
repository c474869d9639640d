/**
 * Raw Ethernet frames per interface and ethertype, behind an interface so the core never loads native code:
 * `AfPacketFrameIO` (the kernel, through our N-API addon, loaded on first use) and `MemoryFrameIO` (an
 * in-process wire for unit tests of the core).
 */
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {VdpAgentError} from '../errors.js'
import {
  ETHERNET_HEADER_LENGTH,
  formatMac,
  isGroupMac,
  normalizeMac,
  parseMac,
  validateEthertype,
  InvalidMacAddressError,
} from '../core/ethernet.js'
import {validateIfName} from './ifname.js'

export interface FrameSocket {
  readonly ifname: string
  readonly ethertype: number
  /** Sends one frame, Ethernet header included; returns the bytes written. Throws FrameIoError. */
  send(frame: Buffer): number
  /** Idempotent; no callback runs after it returns (also when called from inside a callback). */
  close(): void
  stats(): FrameSocketStats
}

export interface FrameOpenOptions {
  /** Group MAC addresses to join on the interface for as long as the socket is open. */
  multicast?: string[]
  /** Each received frame, Ethernet header included; the buffer is the callee's to keep. */
  onFrame(frame: Buffer): void
  /** Errors after open, e.g. ENETDOWN when the link goes down. The socket keeps listening. */
  onError?(err: FrameIoError): void
}

export interface FrameIO {
  open(ifname: string, ethertype: number, opts: FrameOpenOptions): FrameSocket
}

interface FrameSocketStats {
  framesDelivered: number
  /** Frames the kernel dropped because our receive queue was full (PACKET_STATISTICS). */
  kernelDrops: number
}

/**
 * A system-call failure on a frame socket. `sysCode` is the errno name (ENODEV, ENETDOWN, EPERM...),
 * the thing to branch on; `code` is always FRAME_IO.
 */
export class FrameIoError extends VdpAgentError {
  readonly sysCode: string
  readonly errno: number
  readonly syscall: string
  readonly ifname: string

  constructor(ifname: string, syscall: string, sysCode: string, errno: number, message?: string) {
    super('FRAME_IO', message ?? `${syscall} ${ifname}: ${sysCode}`, {ifname, syscall, sysCode, errno})
    this.sysCode = sysCode
    this.errno = errno
    this.syscall = syscall
    this.ifname = ifname
  }
}

class FrameTooShortError extends VdpAgentError {
  constructor(length: number) {
    super(
      'FRAME_TOO_SHORT',
      `a frame needs at least the ${ETHERNET_HEADER_LENGTH}-byte Ethernet header (got ${length})`,
      {
        length,
      },
    )
  }
}

class NativeAddonUnavailableError extends VdpAgentError {
  constructor(path: string, cause: unknown) {
    super(
      'AFPACKET_ADDON_UNAVAILABLE',
      `cannot load the AF_PACKET addon ${path} (built by "npm install"; rebuild with "npx node-gyp rebuild"): ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      {path},
    )
  }
}

function checkFrame(frame: Buffer): void {
  if (!Buffer.isBuffer(frame)) throw new TypeError('send(frame: Buffer)')
  if (frame.length < ETHERNET_HEADER_LENGTH) throw new FrameTooShortError(frame.length)
}

/** Validates the open() arguments shared by both implementations; returns the group addresses as bytes. */
function checkOpenArgs(ifname: string, ethertype: number, opts: FrameOpenOptions): Buffer[] {
  validateIfName(ifname)
  validateEthertype(ethertype)
  if (typeof opts?.onFrame !== 'function') throw new TypeError('open(): opts.onFrame must be a function')
  return (opts.multicast ?? []).map((text) => {
    const mac = parseMac(text)
    if (!isGroupMac(mac)) throw new InvalidMacAddressError(`${text} (not a group address)`)
    return mac
  })
}

// ---------------------------------------------------------------------------------------------------------
// AF_PACKET, through native/afpacket.c

interface NativeError extends Error {
  code?: string
  errno?: number
  syscall?: string
}

interface NativePacketSocket {
  start(onFrame: (frame: Buffer) => void, onError?: (err: NativeError) => void): void
  send(frame: Buffer): number
  close(): void
  stats(): {
    ifindex: number
    framesDelivered: number
    framesOversize: number
    kernelPackets: number
    kernelDrops: number
    ignoreOutgoing: boolean
    closed: boolean
  }
}

export interface AfPacketAddon {
  PacketSocket: new (ifname: string, ethertype: number, multicast: Buffer[]) => NativePacketSocket
  /** NETLINK_ROUTE, connected to the kernel, joined to `groups`; datagrams as delivered (see rtnetlink-source). */
  NetlinkSocket: new (groups: number[], rcvbuf?: number) => NativePacketSocket
  /** Sockets not yet freed and descriptors not yet closed, process-wide: for leak tests. */
  liveCounts(): {sockets: number; fds: number}
}

const loadedAddons = new Map<string, AfPacketAddon>()

/** build/Release/afpacket.node of the package this file belongs to (found from src/ or dist/src/). */
function defaultAddonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return join(dir, 'build', 'Release', 'afpacket.node')
    const parent = dirname(dir)
    if (parent === dir) return join(dirname(fileURLToPath(import.meta.url)), 'afpacket.node')
    dir = parent
  }
}

/** Loads the addon once per path; throws NativeAddonUnavailableError. */
export function loadAfPacketAddon(path = defaultAddonPath()): AfPacketAddon {
  let addon = loadedAddons.get(path)
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(path) as AfPacketAddon
    } catch (err) {
      throw new NativeAddonUnavailableError(path, err)
    }
    loadedAddons.set(path, addon)
  }
  return addon
}

function toFrameIoError(ifname: string, err: NativeError): FrameIoError | Error {
  if (typeof err?.errno !== 'number') return err
  return new FrameIoError(ifname, err.syscall ?? 'afpacket', err.code ?? `errno ${err.errno}`, err.errno, err.message)
}

export interface AfPacketStats extends FrameSocketStats {
  ifindex: number
  /** Frames larger than the 64 KiB receive buffer, dropped. */
  framesOversize: number
  /** Frames the kernel queued for this socket, drops included. */
  kernelPackets: number
  /** Whether the kernel filters our own transmissions (PACKET_IGNORE_OUTGOING, Linux >= 4.20). */
  ignoreOutgoing: boolean
}

export class AfPacketFrameSocket implements FrameSocket {
  constructor(
    readonly ifname: string,
    readonly ethertype: number,
    private readonly native: NativePacketSocket,
  ) {}

  send(frame: Buffer): number {
    checkFrame(frame)
    try {
      return this.native.send(frame)
    } catch (err) {
      throw toFrameIoError(this.ifname, err as NativeError)
    }
  }

  close(): void {
    this.native.close()
  }

  stats(): AfPacketStats {
    const {closed: _closed, ...stats} = this.native.stats()
    return stats
  }
}

/**
 * Frames through AF_PACKET sockets (needs CAP_NET_RAW). The addon is loaded on the first open(), so
 * importing this module never loads native code.
 */
export class AfPacketFrameIO implements FrameIO {
  constructor(private readonly addonPath?: string) {}

  open(ifname: string, ethertype: number, opts: FrameOpenOptions): AfPacketFrameSocket {
    const multicast = checkOpenArgs(ifname, ethertype, opts)
    const addon = loadAfPacketAddon(this.addonPath)
    let native: NativePacketSocket
    try {
      native = new addon.PacketSocket(ifname, ethertype, multicast)
    } catch (err) {
      throw toFrameIoError(ifname, err as NativeError)
    }
    const {onFrame, onError} = opts
    try {
      native.start(
        (frame) => onFrame(frame),
        (err) => {
          const error = toFrameIoError(ifname, err)
          if (onError && error instanceof FrameIoError) onError(error)
        },
      )
    } catch (err) {
      native.close()
      throw toFrameIoError(ifname, err as NativeError)
    }
    return new AfPacketFrameSocket(ifname, ethertype, native)
  }
}

// ---------------------------------------------------------------------------------------------------------
// In memory: a virtual wire for unit tests of the core

const BROADCAST = 'ff:ff:ff:ff:ff:ff'

interface MemorySocket {
  readonly ethertype: number
  readonly multicast: string[]
  readonly onFrame: (frame: Buffer) => void
  closed: boolean
  delivered: number
}

/** One interface of a MemoryFrameIO, attached to a wire. */
class MemoryPort {
  readonly sockets = new Set<MemorySocket>()

  constructor(
    readonly io: MemoryFrameIO,
    readonly ifname: string,
    readonly mac: string,
    readonly mtu: number,
    readonly promiscuous: boolean,
    readonly wire: VirtualWire,
  ) {}

  /** The device-level receive filter of a NIC: its own MAC, broadcast, or a group some socket joined. */
  accepts(dst: string): boolean {
    if (this.promiscuous || dst === this.mac || dst === BROADCAST) return true
    for (const socket of this.sockets) if (socket.multicast.includes(dst)) return true
    return false
  }
}

export interface WireFrame {
  /** "label/ifname" of the sender. */
  from: string
  frame: Buffer
}

export interface AttachOptions {
  /** The interface's own MAC (unicast frames to it are accepted); default derived from the port number. */
  mac?: string
  /** Largest payload after the Ethernet header; default 1500. */
  mtu?: number
  /** Accept every frame, like a veth: real NICs drop group addresses nobody joined. Default false. */
  promiscuous?: boolean
}

/**
 * A shared segment joining two or more in-memory interfaces, like a veth pair or a hub. Frames are delivered
 * on the next tick (process.nextTick, so fake timers do not stall them), a copy per receiving socket; a
 * sender never hears itself. `carrier = false` drops everything, like a pulled cable.
 */
export class VirtualWire {
  /** Every frame put on the wire while the carrier was up, in order. */
  readonly log: WireFrame[] = []
  carrier = true
  private readonly ports: MemoryPort[] = []

  attach(io: MemoryFrameIO, ifname: string, opts: AttachOptions = {}): this {
    validateIfName(ifname)
    if (io.port(ifname)) throw new VdpAgentError('IFNAME_IN_USE', `${io.label}/${ifname} is already attached`)
    const mac = opts.mac ? normalizeMac(opts.mac) : formatMac(Buffer.from([2, 0, 0, 0, 0xee, this.ports.length + 1]))
    const port = new MemoryPort(io, ifname, mac, opts.mtu ?? 1500, opts.promiscuous ?? false, this)
    this.ports.push(port)
    io.addPort(port)
    return this
  }

  /** @internal */
  transmit(from: MemoryPort, frame: Buffer): void {
    if (!this.carrier) return
    const copy = Buffer.from(frame) // the sender may reuse its buffer
    this.log.push({from: `${from.io.label}/${from.ifname}`, frame: copy})
    const dst = formatMac(copy.subarray(0, 6))
    const ethertype = copy.readUInt16BE(12)
    for (const port of this.ports) {
      if (port === from || !port.accepts(dst)) continue
      for (const socket of port.sockets) {
        if (socket.ethertype !== ethertype) continue
        process.nextTick(() => {
          if (socket.closed) return
          socket.delivered++
          socket.onFrame(Buffer.from(copy))
        })
      }
    }
  }
}

/** FrameIO over VirtualWires. Interfaces exist once attached to a wire (`wire.attach(io, 'eth0')`). */
export class MemoryFrameIO implements FrameIO {
  private readonly ports = new Map<string, MemoryPort>()

  constructor(readonly label = 'memory') {}

  /** @internal */
  addPort(port: MemoryPort): void {
    this.ports.set(port.ifname, port)
  }

  /** @internal */
  port(ifname: string): MemoryPort | undefined {
    return this.ports.get(ifname)
  }

  /** Group addresses currently joined on `ifname`, like `ip maddr` (sorted, without duplicates). */
  memberships(ifname: string): string[] {
    const groups = new Set<string>()
    for (const socket of this.ports.get(ifname)?.sockets ?? []) for (const g of socket.multicast) groups.add(g)
    return [...groups].sort()
  }

  open(ifname: string, ethertype: number, opts: FrameOpenOptions): FrameSocket {
    const multicast = checkOpenArgs(ifname, ethertype, opts).map((mac) => formatMac(mac))
    const port = this.ports.get(ifname)
    if (!port)
      throw new FrameIoError(ifname, 'if_nametoindex', 'ENODEV', 19, `if_nametoindex ${ifname}: No such device`)
    const socket: MemorySocket = {ethertype, multicast, onFrame: opts.onFrame, closed: false, delivered: 0}
    port.sockets.add(socket)
    return {
      ifname,
      ethertype,
      send(frame: Buffer): number {
        checkFrame(frame)
        if (socket.closed) throw new FrameIoError(ifname, 'send', 'EBADF', 9, `send ${ifname}: Bad file descriptor`)
        if (frame.length - ETHERNET_HEADER_LENGTH > port.mtu)
          throw new FrameIoError(ifname, 'send', 'EMSGSIZE', 90, `send ${ifname}: Message too long`)
        port.wire.transmit(port, frame)
        return frame.length
      },
      close(): void {
        socket.closed = true
        port.sockets.delete(socket)
      },
      stats: () => ({framesDelivered: socket.delivered, kernelDrops: 0}),
    }
  }
}
