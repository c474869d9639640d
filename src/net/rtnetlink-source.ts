/**
 * The kernel side of LinkMonitor: RTNLGRP_LINK notifications and RTM_GETLINK dumps over NETLINK_ROUTE
 * sockets of our addon (native/afpacket.c). Not the `netlink` package: netlink@0.3.0 aborts the process
 * when its receive queue overruns (see docs/net.md), and an overrun is exactly what we must survive.
 */
import {randomInt} from 'node:crypto'
import {VdpAgentError} from '../errors.js'
import {loadAfPacketAddon, type AfPacketAddon} from './frames.js'
import type {LinkMessageSink, LinkMessageSource} from './link-source.js'
import {
  decodeLinkMessage,
  decodeNetlinkErrno,
  linkDumpRequest,
  parseNetlinkMessages,
  NLM_F_DUMP_INTR,
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  type RtLinkMessage,
} from './rtnetlink.js'

type NativeNetlinkSocket = InstanceType<AfPacketAddon['NetlinkSocket']>

export interface RtnetlinkSourceOptions {
  /** Receive buffer of the notification socket; larger means fewer overruns. Default 4 MiB. */
  rcvbuf?: number
  dumpTimeoutMs?: number
  addonPath?: string
}

export class NetlinkError extends VdpAgentError {}

const DUMP_ATTEMPTS = 3

export class RtnetlinkLinkSource implements LinkMessageSource {
  private notifications?: NativeNetlinkSocket
  private sink?: LinkMessageSink
  private seq = randomInt(1, 0x7fffffff)

  constructor(private readonly opts: RtnetlinkSourceOptions = {}) {}

  subscribe(sink: LinkMessageSink): void {
    if (this.notifications) throw new NetlinkError('NETLINK_ALREADY_SUBSCRIBED', 'already subscribed')
    const addon = loadAfPacketAddon(this.opts.addonPath)
    this.sink = sink
    const socket = new addon.NetlinkSocket([RTNLGRP_LINK], this.opts.rcvbuf ?? 4 << 20)
    socket.start(
      (datagram) => {
        const messages = this.decode(datagram)
        if (messages.length) sink.messages(messages)
      },
      (err) => {
        // ENOBUFS: the kernel dropped notifications for us; only a fresh dump can tell what changed
        if ((err as {code?: string}).code === 'ENOBUFS') sink.overrun()
        else sink.error(err)
      },
    )
    this.notifications = socket
  }

  /** Every link, from a fresh RTM_GETLINK dump; retried when the kernel flags it inconsistent. */
  async dump(): Promise<RtLinkMessage[]> {
    for (let attempt = 1; ; attempt++) {
      const {messages, interrupted} = await this.dumpOnce()
      if (!interrupted || attempt === DUMP_ATTEMPTS) return messages
    }
  }

  close(): void {
    this.notifications?.close()
    this.notifications = undefined
  }

  private decode(datagram: Buffer): RtLinkMessage[] {
    try {
      return parseNetlinkMessages(datagram).flatMap((m) =>
        m.type === RTM_NEWLINK || m.type === RTM_DELLINK ? this.decodeOne(m.type, m.payload) : [],
      )
    } catch (err) {
      this.sink?.warning(err as VdpAgentError)
      return []
    }
  }

  /** One link message, or none (reported as a warning) when it is malformed. */
  private decodeOne(type: number, payload: Buffer): RtLinkMessage[] {
    try {
      return [decodeLinkMessage(type, payload)]
    } catch (err) {
      this.sink?.warning(err as VdpAgentError)
      return []
    }
  }

  private dumpOnce(): Promise<{messages: RtLinkMessage[]; interrupted: boolean}> {
    const addon = loadAfPacketAddon(this.opts.addonPath)
    const seq = (this.seq = (this.seq % 0x7fffffff) + 1)
    const socket = new addon.NetlinkSocket([], 1 << 20) // no groups: it only ever sees our dump
    const messages: RtLinkMessage[] = []
    let interrupted = false
    return new Promise<{messages: RtLinkMessage[]; interrupted: boolean}>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new NetlinkError('NETLINK_DUMP_TIMEOUT', 'RTM_GETLINK dump timed out')),
        this.opts.dumpTimeoutMs ?? 5000,
      )
      const finish = (err?: Error) => {
        clearTimeout(timer)
        socket.close()
        if (err) reject(err)
        else resolve({messages, interrupted})
      }
      socket.start(
        (datagram) => {
          let parsed
          try {
            parsed = parseNetlinkMessages(datagram)
          } catch (err) {
            return finish(err as Error)
          }
          for (const m of parsed) {
            if (m.seq !== seq) continue
            if (m.flags & NLM_F_DUMP_INTR) interrupted = true
            if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) messages.push(...this.decodeOne(m.type, m.payload))
            else if (
              m.type === NLMSG_ERROR ||
              (m.type === NLMSG_DONE && m.payload.length >= 4 && m.payload.readInt32LE(0) < 0)
            ) {
              const errno = decodeNetlinkErrno(m.payload)
              return finish(new NetlinkError('NETLINK_DUMP_FAILED', `RTM_GETLINK dump failed: errno ${errno}`, {errno}))
            } else if (m.type === NLMSG_DONE) return finish()
          }
        },
        (err) => finish(err),
      )
      try {
        socket.send(linkDumpRequest(seq))
      } catch (err) {
        finish(err as Error)
      }
    })
  }
}
