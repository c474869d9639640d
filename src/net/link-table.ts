/**
 * The link inventory as a pure value: a table of the kernel's latest snapshot per ifindex, the LinkInfo
 * views derived from it, and a reducer `applyLinkMessage(table, msg)` that returns the next table plus
 * the events it implies. No I/O, no clock: LinkMonitor (links.ts) feeds it from rtnetlink.
 *
 * Event rules:
 * - family 0 RTM_NEWLINK is a full snapshot: unknown index -> 'added'; known -> 'renamed' when the name
 *   differs, else 'changed' listing the fields that differ (no event when nothing visible changed);
 * - family 0 RTM_DELLINK -> 'removed' (its former master gets 'changed' ['members']);
 * - family 7 (AF_BRIDGE) RTM_DELLINK is a port leaving its bridge, not a removal: 'changed' ['master'];
 *   family 7 RTM_NEWLINK only repeats bridge-port state and is ignored;
 * - derived fields follow their sources: enslaving or releasing a port changes the master's `members`;
 *   renaming a master changes its members' `master`; renaming a lower device changes `lowerLink`.
 */
import {
  AF_BRIDGE,
  AF_UNSPEC,
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  IFF_LOOPBACK,
  IFF_LOWER_UP,
  IFF_UP,
  type RtLinkMessage,
} from './rtnetlink.js'

type LinkKind =
  | 'physical'
  | 'loopback'
  | 'veth'
  | 'bridge'
  | 'bond'
  | 'team'
  | 'macvlan'
  | 'macvtap'
  | 'vlan'
  | 'vxlan'
  | 'tun'
  | 'openvswitch'
  | 'unknown'
  | (string & {})

type Operstate = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up'

type BondMode =
  'balance-rr' | 'active-backup' | 'balance-xor' | 'broadcast' | '802.3ad' | 'balance-tlb' | 'balance-alb' | 'unknown'

interface LinkRef {
  index: number
  name: string
  kind: LinkKind
}

export interface LinkInfo {
  index: number
  name: string
  /** Current MAC (a bond slave carries its bond's); null for links without one (tun, ...). */
  mac: string | null
  kind: LinkKind
  /** Backed by a bus device (PCI, virtio...): see isPhysical(). */
  physical: boolean
  adminUp: boolean
  operstate: Operstate
  carrier: boolean
  mtu: number
  master?: LinkRef
  /** Links enslaved to this one (bridge ports, bond slaves), in ifindex order; on bridges, bonds, teams. */
  members?: string[]
  /** `members`, on bonds. */
  bondMembers?: string[]
  bond?: {mode: BondMode; activeSlave?: string}
  bondSlave?: {state: 'active' | 'backup'; miiStatus: 'up' | 'fail' | 'down' | 'back'; permanentMac?: string}
  /** IFLA_LINK in this namespace: a veth's peer, a macvlan's or vlan's lower device. */
  lowerLink?: LinkRef
  /** Bus device name and bus (e.g. "0000:3b:00.0", "pci"), from IFLA_PARENT_DEV_* (Linux >= 5.16). */
  parentDevice?: string
  parentBus?: string
  /** The burnt-in MAC (IFLA_PERM_ADDRESS), when the driver reports one. */
  permanentMac?: string
}

type LinkField = Exclude<keyof LinkInfo, 'index'>

/** 'notification': from a kernel event; 'resync': from comparing a fresh dump with the previous table. */
export type LinkEventSource = 'notification' | 'resync'

export type LinkEvent =
  | {type: 'added'; link: LinkInfo; changes: LinkField[]; source: LinkEventSource}
  | {type: 'removed'; link: LinkInfo; changes: LinkField[]; source: LinkEventSource}
  | {type: 'changed' | 'renamed'; link: LinkInfo; previous: LinkInfo; changes: LinkField[]; source: LinkEventSource}

export interface LinkTable {
  /** The latest family-0 snapshot per ifindex (a bridge release applied on top). */
  readonly records: ReadonlyMap<number, RtLinkMessage>
  readonly links: ReadonlyMap<number, LinkInfo>
}

export interface LinkUpdate {
  table: LinkTable
  events: LinkEvent[]
}

export const emptyLinkTable: LinkTable = {records: new Map(), links: new Map()}

const OPERSTATES: readonly Operstate[] = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up']
const BOND_MODES: readonly BondMode[] = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
]
const BOND_SLAVE_STATES = ['active', 'backup'] as const
const BOND_MII_STATUS = ['up', 'fail', 'down', 'back'] as const
/** Kinds that have members even when they have none yet. */
const MASTER_KINDS = new Set(['bridge', 'bond', 'team'])

/**
 * Physical means backed by a bus device, the test the original agent made with /sys/class/net/X/device.
 * The kernel reports the same fact over netlink as IFLA_PARENT_DEV_NAME (Linux >= 5.16), which needs no
 * sysfs (and sysfs shows the namespace of whoever mounted it, not necessarily ours). On older kernels the
 * attribute is absent: then an Ethernet link with no IFLA_INFO_KIND counts, since every virtual driver
 * (veth, bridge, bond, macvlan, vlan, tun, vxlan, openvswitch...) registers a kind and NICs do not.
 */
export function isPhysical(r: RtLinkMessage): boolean {
  if (r.parentDevice !== undefined) return true
  if (r.kind !== undefined) return false
  if (r.flags & IFF_LOOPBACK || r.linkType === ARPHRD_LOOPBACK) return false
  return r.linkType === ARPHRD_ETHER
}

function kindOf(r: RtLinkMessage): LinkKind {
  if (r.kind !== undefined) return r.kind
  if (r.flags & IFF_LOOPBACK || r.linkType === ARPHRD_LOOPBACK) return 'loopback'
  return isPhysical(r) ? 'physical' : 'unknown'
}

function refTo(records: ReadonlyMap<number, RtLinkMessage>, index: number | undefined): LinkRef | undefined {
  const r = index === undefined ? undefined : records.get(index)
  return r ? {index: r.index, name: r.name ?? `if${r.index}`, kind: kindOf(r)} : undefined
}

function membersOf(records: ReadonlyMap<number, RtLinkMessage>, index: number): string[] {
  return [...records.values()]
    .filter((r) => r.master === index)
    .sort((a, b) => a.index - b.index)
    .map((r) => r.name ?? `if${r.index}`)
}

/** The LinkInfo view of one record, given every record (for master, members and lower names). */
function deriveLink(r: RtLinkMessage, records: ReadonlyMap<number, RtLinkMessage>): LinkInfo {
  const kind = kindOf(r)
  const link: LinkInfo = {
    index: r.index,
    name: r.name ?? `if${r.index}`,
    mac: r.mac ?? null,
    kind,
    physical: isPhysical(r),
    adminUp: (r.flags & IFF_UP) !== 0,
    operstate: OPERSTATES[r.operstate ?? 0] ?? 'unknown',
    carrier: r.carrier ?? (r.flags & IFF_LOWER_UP) !== 0,
    mtu: r.mtu ?? 0,
  }
  const master = refTo(records, r.master)
  if (master) link.master = master
  const members = membersOf(records, r.index)
  if (members.length || MASTER_KINDS.has(kind)) link.members = members
  if (kind === 'bond') link.bondMembers = members
  if (r.bond) {
    link.bond = {mode: BOND_MODES[r.bond.mode ?? -1] ?? 'unknown'}
    // only while it is a member: between a release and the bond's own update the kernel's index is stale
    const active = refTo(records, r.bond.activeSlaveIndex)
    if (active && records.get(active.index)?.master === r.index) link.bond.activeSlave = active.name
  }
  if (r.bondSlave && r.master !== undefined) {
    link.bondSlave = {
      state: BOND_SLAVE_STATES[r.bondSlave.state ?? 0] ?? 'backup',
      miiStatus: BOND_MII_STATUS[r.bondSlave.miiStatus ?? 0] ?? 'down',
    }
    if (r.bondSlave.permanentMac) link.bondSlave.permanentMac = r.bondSlave.permanentMac
  }
  // IFLA_LINK with a netnsid names a link in another namespace (a veth peer elsewhere): not ours to name
  if (r.linkNetnsId === undefined && r.lowerIndex !== r.index) {
    const lower = refTo(records, r.lowerIndex)
    if (lower) link.lowerLink = lower
  }
  if (r.parentDevice !== undefined) link.parentDevice = r.parentDevice
  if (r.parentBus !== undefined) link.parentBus = r.parentBus
  if (r.permanentMac !== undefined) link.permanentMac = r.permanentMac
  return link
}

/** The fields whose values differ, in LinkInfo declaration order. */
function changedFields(before: LinkInfo, after: LinkInfo): LinkField[] {
  const keys = new Set([...Object.keys(after), ...Object.keys(before)] as (keyof LinkInfo)[])
  keys.delete('index')
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])) as LinkField[]
}

function eventFor(
  before: LinkInfo | undefined,
  after: LinkInfo | undefined,
  source: LinkEventSource,
): LinkEvent | undefined {
  if (!before && after) return {type: 'added', link: after, changes: [], source}
  if (before && !after) return {type: 'removed', link: before, changes: [], source}
  if (!before || !after) return undefined
  const changes = changedFields(before, after)
  if (!changes.length) return undefined
  return {type: before.name !== after.name ? 'renamed' : 'changed', link: after, previous: before, changes, source}
}

/** Rebuilds the views of `indices`, returning the new view map and the events, `first` first. */
function rederive(
  previous: LinkTable,
  records: ReadonlyMap<number, RtLinkMessage>,
  indices: Iterable<number>,
  first: number,
  source: LinkEventSource,
): LinkUpdate {
  const links = new Map(previous.links)
  const ordered = [...new Set(indices)].sort((a, b) => (a === first ? -1 : b === first ? 1 : a - b))
  const events: LinkEvent[] = []
  for (const index of ordered) {
    const record = records.get(index)
    const view = record ? deriveLink(record, records) : undefined
    if (view) links.set(index, view)
    else links.delete(index)
    const event = eventFor(previous.links.get(index), view, source)
    if (event) events.push(event)
  }
  return {table: {records, links}, events}
}

/** Links whose view depends on link `index`: its members and the links it is the lower device of. */
function dependentsOf(records: ReadonlyMap<number, RtLinkMessage>, index: number): number[] {
  return [...records.values()].filter((r) => r.master === index || r.lowerIndex === index).map((r) => r.index)
}

export function applyLinkMessage(
  table: LinkTable,
  msg: RtLinkMessage,
  source: LinkEventSource = 'notification',
): LinkUpdate {
  const before = table.records.get(msg.index)
  let after: RtLinkMessage | undefined
  if (msg.family === AF_BRIDGE) {
    // a port left its bridge; the link itself is still there
    if (msg.type !== 'dellink' || !before || before.master === undefined) return {table, events: []}
    if (msg.master !== undefined && msg.master !== before.master) return {table, events: []}
    after = {...before, master: undefined, slaveKind: undefined, bondSlave: undefined}
  } else if (msg.family === AF_UNSPEC) {
    after = msg.type === 'newlink' ? msg : undefined
    if (!before && !after) return {table, events: []}
  } else {
    return {table, events: []}
  }
  const records = new Map(table.records)
  if (after) records.set(msg.index, after)
  else records.delete(msg.index)
  const affected = [msg.index, ...dependentsOf(table.records, msg.index), ...dependentsOf(records, msg.index)]
  for (const r of [before, after]) if (r?.master !== undefined) affected.push(r.master)
  return rederive(table, records, affected, msg.index, source)
}

/** The table of a dump (family-0 RTM_NEWLINK messages; anything else is ignored). */
export function linkTableFromMessages(messages: Iterable<RtLinkMessage>): LinkTable {
  const records = new Map<number, RtLinkMessage>()
  for (const m of messages) if (m.family === AF_UNSPEC && m.type === 'newlink') records.set(m.index, m)
  const links = new Map<number, LinkInfo>()
  for (const r of records.values()) links.set(r.index, deriveLink(r, records))
  return {records, links}
}

/** What changed between two tables (e.g. before and after a re-dump), in ifindex order. */
export function diffLinkTables(before: LinkTable, after: LinkTable, source: LinkEventSource = 'resync'): LinkEvent[] {
  const indices = [...new Set([...before.links.keys(), ...after.links.keys()])].sort((a, b) => a - b)
  return indices.flatMap((i) => eventFor(before.links.get(i), after.links.get(i), source) ?? [])
}
