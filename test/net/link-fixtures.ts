/** Builders of decoded rtnetlink link messages for unit tests (what the kernel would send). */
import type {RtLinkMessage} from '../../src/net/rtnetlink.js'

const IFF_UP = 0x1
const IFF_BROADCAST = 0x2
const IFF_RUNNING = 0x40
const IFF_MULTICAST = 0x1000
const IFF_LOWER_UP = 0x10000
const IFF_MASTER = 0x400
const IFF_SLAVE = 0x800

export interface LinkSpec extends Partial<RtLinkMessage> {
  index: number
  name: string
  /** Shorthand for flags/operstate/carrier: up with carrier, up without carrier, or admin down. */
  state?: 'up' | 'no-carrier' | 'down'
}

/** A family-0 RTM_NEWLINK snapshot. */
export function newlink({state = 'up', ...spec}: LinkSpec): RtLinkMessage {
  const base = IFF_BROADCAST | IFF_MULTICAST
  const flags =
    state === 'up' ? base | IFF_UP | IFF_RUNNING | IFF_LOWER_UP : state === 'no-carrier' ? base | IFF_UP : base
  return {
    type: 'newlink',
    family: 0,
    linkType: 1,
    flags,
    operstate: state === 'up' ? 6 : 2,
    carrier: state === 'up',
    mtu: 1500,
    mac: `02:00:00:00:00:${spec.index.toString(16).padStart(2, '0')}`,
    ...spec,
  }
}

export function dellink(spec: LinkSpec): RtLinkMessage {
  return {...newlink(spec), type: 'dellink'}
}

/** A NIC on a PCI bus (what `physical` means). */
export function nic(index: number, name: string, extra: Partial<LinkSpec> = {}): RtLinkMessage {
  return newlink({index, name, parentDevice: `0000:3b:00.${index}`, parentBus: 'pci', ...extra})
}

/** A NIC enslaved to a bond; `backup` marks it the standby of an active-backup bond. */
export function bondSlave(
  index: number,
  name: string,
  bondIndex: number,
  extra: Partial<LinkSpec> & {backup?: boolean; mii?: number} = {},
): RtLinkMessage {
  const {backup = false, mii = 0, ...rest} = extra
  const slave = nic(index, name, {
    master: bondIndex,
    slaveKind: 'bond',
    bondSlave: {state: backup ? 1 : 0, miiStatus: mii},
    ...rest,
  })
  return {...slave, flags: slave.flags | IFF_SLAVE}
}

export function bond(
  index: number,
  name: string,
  activeSlaveIndex?: number,
  extra: Partial<LinkSpec> = {},
): RtLinkMessage {
  const b = newlink({index, name, kind: 'bond', bond: {mode: 1, activeSlaveIndex}, ...extra})
  return {...b, flags: b.flags | IFF_MASTER}
}

export const loopback: RtLinkMessage = {
  type: 'newlink',
  family: 0,
  index: 1,
  linkType: 772,
  flags: 0x10049,
  name: 'lo',
  mac: '00:00:00:00:00:00',
  mtu: 65536,
  operstate: 0,
  carrier: true,
}
