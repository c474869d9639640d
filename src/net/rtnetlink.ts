/**
 * rtnetlink link messages on the wire: netlink framing (nlmsghdr), struct ifinfomsg and the IFLA_*
 * attributes the link inventory reads. Pure: bytes in, objects out (and back, for fixtures and replay).
 * Malformed input raises NetlinkDecodeError and nothing else. Numbers are from linux/netlink.h,
 * linux/rtnetlink.h, linux/if_link.h and linux/if_bonding.h.
 */
import {VdpAgentError} from '../errors.js'
import {formatMac} from '../core/ethernet.js'

const NLMSG_HDRLEN = 16
export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3
export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18

export const NLM_F_REQUEST = 0x1
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_DUMP = 0x300

/** Multicast group of link notifications. */
export const RTNLGRP_LINK = 1

export const AF_UNSPEC = 0
/** Per-port copies from the bridge driver: a family-7 DELLINK is a port leaving its bridge. */
export const AF_BRIDGE = 7

export const IFF_UP = 0x1
export const IFF_LOOPBACK = 0x8
export const IFF_LOWER_UP = 0x10000

export const ARPHRD_ETHER = 1
export const ARPHRD_LOOPBACK = 772

const IFINFOMSG_LEN = 16

const IFLA_ADDRESS = 1
const IFLA_IFNAME = 3
const IFLA_MTU = 4
const IFLA_LINK = 5
const IFLA_MASTER = 10
const IFLA_OPERSTATE = 16
const IFLA_LINKINFO = 18
const IFLA_CARRIER = 33
const IFLA_LINK_NETNSID = 37
const IFLA_PERM_ADDRESS = 54
const IFLA_PARENT_DEV_NAME = 56
const IFLA_PARENT_DEV_BUS_NAME = 57
const IFLA_INFO_KIND = 1
const IFLA_INFO_DATA = 2
const IFLA_INFO_SLAVE_KIND = 4
const IFLA_INFO_SLAVE_DATA = 5
const IFLA_BOND_MODE = 1
const IFLA_BOND_ACTIVE_SLAVE = 2
const IFLA_BOND_SLAVE_STATE = 1
const IFLA_BOND_SLAVE_MII_STATUS = 2
const IFLA_BOND_SLAVE_PERM_HWADDR = 4
/** Attribute type bits that are flags, not part of the type. */
const NLA_TYPE_MASK = 0x3fff

export class NetlinkDecodeError extends VdpAgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('NETLINK_DECODE', `malformed netlink message: ${message}`, details)
  }
}

export interface NetlinkMessage {
  type: number
  flags: number
  seq: number
  pid: number
  payload: Buffer
}

/** Splits one datagram into its netlink messages. */
export function parseNetlinkMessages(datagram: Buffer): NetlinkMessage[] {
  const messages: NetlinkMessage[] = []
  let offset = 0
  while (offset + NLMSG_HDRLEN <= datagram.length) {
    const length = datagram.readUInt32LE(offset)
    if (length < NLMSG_HDRLEN || offset + length > datagram.length) {
      throw new NetlinkDecodeError(`nlmsg_len ${length} at offset ${offset} of ${datagram.length}`)
    }
    messages.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      pid: datagram.readUInt32LE(offset + 12),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    })
    offset += align4(length)
  }
  return messages
}

export function encodeNetlinkMessage({
  type,
  flags,
  seq,
  pid = 0,
  payload,
}: Omit<NetlinkMessage, 'pid'> & {pid?: number}): Buffer {
  const out = Buffer.alloc(align4(NLMSG_HDRLEN + payload.length))
  out.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0)
  out.writeUInt16LE(type, 4)
  out.writeUInt16LE(flags, 6)
  out.writeUInt32LE(seq, 8)
  out.writeUInt32LE(pid, 12)
  payload.copy(out, NLMSG_HDRLEN)
  return out
}

/** RTM_GETLINK dump of every link (family AF_UNSPEC). */
export function linkDumpRequest(seq: number): Buffer {
  return encodeNetlinkMessage({
    type: RTM_GETLINK,
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    seq,
    payload: Buffer.alloc(IFINFOMSG_LEN),
  })
}

/** The (positive) errno of an NLMSG_ERROR payload; 0 is an ACK. */
export function decodeNetlinkErrno(payload: Buffer): number {
  if (payload.length < 4) throw new NetlinkDecodeError('short NLMSG_ERROR')
  return -payload.readInt32LE(0)
}

/** A decoded RTM_NEWLINK / RTM_DELLINK: a full snapshot of one link (family 0) or a bridge-port copy (7). */
export interface RtLinkMessage {
  type: 'newlink' | 'dellink'
  family: number
  index: number
  /** ARPHRD_* */
  linkType: number
  /** IFF_* bits */
  flags: number
  name?: string
  mac?: string
  permanentMac?: string
  mtu?: number
  /** IFLA_LINK: the veth peer / macvlan lower device (an index in `linkNetnsId`'s namespace when set). */
  lowerIndex?: number
  linkNetnsId?: number
  master?: number
  operstate?: number
  carrier?: boolean
  kind?: string
  slaveKind?: string
  /** The device's bus parent (e.g. "0000:3b:00.0" on "pci"): the netlink twin of /sys/class/net/X/device. */
  parentDevice?: string
  parentBus?: string
  bond?: {mode?: number; activeSlaveIndex?: number}
  bondSlave?: {state?: number; miiStatus?: number; permanentMac?: string}
}

interface Attr {
  type: number
  value: Buffer
}

function align4(n: number): number {
  return (n + 3) & ~3
}

function parseAttrs(buf: Buffer, where: string): Attr[] {
  const attrs: Attr[] = []
  let offset = 0
  while (offset + 4 <= buf.length) {
    const length = buf.readUInt16LE(offset)
    if (length < 4 || offset + length > buf.length) {
      throw new NetlinkDecodeError(`attribute length ${length} at offset ${offset} of ${where}`)
    }
    attrs.push({type: buf.readUInt16LE(offset + 2) & NLA_TYPE_MASK, value: buf.subarray(offset + 4, offset + length)})
    offset += align4(length)
  }
  return attrs
}

function u8(a: Attr): number {
  if (a.value.length < 1) throw new NetlinkDecodeError(`attribute ${a.type}: empty`)
  return a.value[0]!
}

function u32(a: Attr): number {
  if (a.value.length < 4) throw new NetlinkDecodeError(`attribute ${a.type}: ${a.value.length} bytes, need 4`)
  return a.value.readUInt32LE(0)
}

function str(a: Attr): string {
  const nul = a.value.indexOf(0)
  return a.value.subarray(0, nul === -1 ? a.value.length : nul).toString('utf8')
}

function mac(a: Attr): string | undefined {
  return a.value.length === 6 ? formatMac(a.value) : undefined
}

export function decodeLinkMessage(nlType: number, payload: Buffer): RtLinkMessage {
  if (nlType !== RTM_NEWLINK && nlType !== RTM_DELLINK)
    throw new NetlinkDecodeError(`not a link message (type ${nlType})`)
  if (payload.length < IFINFOMSG_LEN) throw new NetlinkDecodeError(`ifinfomsg of ${payload.length} bytes`)
  const msg: RtLinkMessage = {
    type: nlType === RTM_NEWLINK ? 'newlink' : 'dellink',
    family: payload[0]!,
    linkType: payload.readUInt16LE(2),
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
  }
  for (const a of parseAttrs(payload.subarray(IFINFOMSG_LEN), 'ifinfomsg')) {
    switch (a.type) {
      case IFLA_IFNAME:
        msg.name = str(a)
        break
      case IFLA_ADDRESS:
        msg.mac = mac(a)
        break
      case IFLA_PERM_ADDRESS:
        msg.permanentMac = mac(a)
        break
      case IFLA_MTU:
        msg.mtu = u32(a)
        break
      case IFLA_LINK:
        msg.lowerIndex = u32(a)
        break
      case IFLA_LINK_NETNSID:
        msg.linkNetnsId = u32(a) | 0
        break
      case IFLA_MASTER:
        msg.master = u32(a)
        break
      case IFLA_OPERSTATE:
        msg.operstate = u8(a)
        break
      case IFLA_CARRIER:
        msg.carrier = u8(a) !== 0
        break
      case IFLA_PARENT_DEV_NAME:
        msg.parentDevice = str(a)
        break
      case IFLA_PARENT_DEV_BUS_NAME:
        msg.parentBus = str(a)
        break
      case IFLA_LINKINFO:
        decodeLinkInfo(a.value, msg)
        break
    }
  }
  return msg
}

function decodeLinkInfo(buf: Buffer, msg: RtLinkMessage): void {
  let data: Buffer | undefined
  let slaveData: Buffer | undefined
  for (const a of parseAttrs(buf, 'IFLA_LINKINFO')) {
    if (a.type === IFLA_INFO_KIND) msg.kind = str(a)
    else if (a.type === IFLA_INFO_SLAVE_KIND) msg.slaveKind = str(a)
    else if (a.type === IFLA_INFO_DATA) data = a.value
    else if (a.type === IFLA_INFO_SLAVE_DATA) slaveData = a.value
  }
  // INFO_DATA is kind-specific: only read it once the kind is known
  if (msg.kind === 'bond' && data) {
    msg.bond = {}
    for (const a of parseAttrs(data, 'IFLA_INFO_DATA')) {
      if (a.type === IFLA_BOND_MODE) msg.bond.mode = u8(a)
      else if (a.type === IFLA_BOND_ACTIVE_SLAVE) msg.bond.activeSlaveIndex = u32(a)
    }
  }
  if (msg.slaveKind === 'bond' && slaveData) {
    msg.bondSlave = {}
    for (const a of parseAttrs(slaveData, 'IFLA_INFO_SLAVE_DATA')) {
      if (a.type === IFLA_BOND_SLAVE_STATE) msg.bondSlave.state = u8(a)
      else if (a.type === IFLA_BOND_SLAVE_MII_STATUS) msg.bondSlave.miiStatus = u8(a)
      else if (a.type === IFLA_BOND_SLAVE_PERM_HWADDR) msg.bondSlave.permanentMac = mac(a)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Encoding, for fixtures and replay (the kernel's layout, so the decoder above is what tests exercise)

function attr(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + value.length))
  out.writeUInt16LE(4 + value.length, 0)
  out.writeUInt16LE(type, 2)
  value.copy(out, 4)
  return out
}

const u8Attr = (type: number, v: number) => attr(type, Buffer.from([v]))
const u32Attr = (type: number, v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v >>> 0)
  return attr(type, b)
}
const strAttr = (type: number, v: string) => attr(type, Buffer.from(`${v}\0`))
const macAttr = (type: number, v: string) => attr(type, Buffer.from(v.replaceAll(':', ''), 'hex'))

/** The ifinfomsg + attributes payload of `msg` (wrap it with encodeNetlinkMessage for a full message). */
export function encodeLinkMessagePayload(msg: RtLinkMessage): Buffer {
  const head = Buffer.alloc(IFINFOMSG_LEN)
  head[0] = msg.family
  head.writeUInt16LE(msg.linkType, 2)
  head.writeInt32LE(msg.index, 4)
  head.writeUInt32LE(msg.flags >>> 0, 8)
  const parts: Buffer[] = [head]
  if (msg.name !== undefined) parts.push(strAttr(IFLA_IFNAME, msg.name))
  if (msg.mac !== undefined) parts.push(macAttr(IFLA_ADDRESS, msg.mac))
  if (msg.permanentMac !== undefined) parts.push(macAttr(IFLA_PERM_ADDRESS, msg.permanentMac))
  if (msg.mtu !== undefined) parts.push(u32Attr(IFLA_MTU, msg.mtu))
  if (msg.lowerIndex !== undefined) parts.push(u32Attr(IFLA_LINK, msg.lowerIndex))
  if (msg.linkNetnsId !== undefined) parts.push(u32Attr(IFLA_LINK_NETNSID, msg.linkNetnsId))
  if (msg.master !== undefined) parts.push(u32Attr(IFLA_MASTER, msg.master))
  if (msg.operstate !== undefined) parts.push(u8Attr(IFLA_OPERSTATE, msg.operstate))
  if (msg.carrier !== undefined) parts.push(u8Attr(IFLA_CARRIER, msg.carrier ? 1 : 0))
  if (msg.parentDevice !== undefined) parts.push(strAttr(IFLA_PARENT_DEV_NAME, msg.parentDevice))
  if (msg.parentBus !== undefined) parts.push(strAttr(IFLA_PARENT_DEV_BUS_NAME, msg.parentBus))
  const info: Buffer[] = []
  if (msg.kind !== undefined) info.push(strAttr(IFLA_INFO_KIND, msg.kind))
  if (msg.bond) {
    const data: Buffer[] = []
    if (msg.bond.mode !== undefined) data.push(u8Attr(IFLA_BOND_MODE, msg.bond.mode))
    if (msg.bond.activeSlaveIndex !== undefined) data.push(u32Attr(IFLA_BOND_ACTIVE_SLAVE, msg.bond.activeSlaveIndex))
    info.push(attr(IFLA_INFO_DATA, Buffer.concat(data)))
  }
  if (msg.slaveKind !== undefined) info.push(strAttr(IFLA_INFO_SLAVE_KIND, msg.slaveKind))
  if (msg.bondSlave) {
    const data: Buffer[] = []
    if (msg.bondSlave.state !== undefined) data.push(u8Attr(IFLA_BOND_SLAVE_STATE, msg.bondSlave.state))
    if (msg.bondSlave.miiStatus !== undefined) data.push(u8Attr(IFLA_BOND_SLAVE_MII_STATUS, msg.bondSlave.miiStatus))
    if (msg.bondSlave.permanentMac !== undefined)
      data.push(macAttr(IFLA_BOND_SLAVE_PERM_HWADDR, msg.bondSlave.permanentMac))
    info.push(attr(IFLA_INFO_SLAVE_DATA, Buffer.concat(data)))
  }
  if (info.length) parts.push(attr(IFLA_LINKINFO, Buffer.concat(info)))
  return Buffer.concat(parts)
}
