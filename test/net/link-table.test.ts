import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {
  applyLinkMessage,
  diffLinkTables,
  emptyLinkTable,
  isPhysical,
  linkTableFromMessages,
  type LinkEvent,
  type LinkInfo,
  type LinkTable,
} from '../../src/net/link-table.js'
import {
  decodeLinkMessage,
  parseNetlinkMessages,
  RTM_DELLINK,
  RTM_NEWLINK,
  type RtLinkMessage,
} from '../../src/net/rtnetlink.js'
import {bond, bondSlave, dellink, loopback, newlink, nic} from './link-fixtures.js'

/** Applies messages in order; returns the final table and every event as [type, name, changes]. */
function run(table: LinkTable, messages: RtLinkMessage[]): {table: LinkTable; events: LinkEvent[]; brief: string[]} {
  const events: LinkEvent[] = []
  for (const m of messages) {
    const update = applyLinkMessage(table, m)
    table = update.table
    events.push(...update.events)
  }
  return {
    table,
    events,
    brief: events.map((e) => `${e.type} ${e.link.name}${e.changes.length ? ` ${e.changes.join(',')}` : ''}`),
  }
}

const byName = (table: LinkTable, name: string): LinkInfo => [...table.links.values()].find((l) => l.name === name)!

describe('replaying netlink datagrams recorded from the kernel', () => {
  const recording = JSON.parse(
    readFileSync(new URL('./fixtures/rtnl-link-recording.json', import.meta.url), 'utf8'),
  ) as {
    steps: {label: string; raw: string[]}[]
    finalLinks: LinkInfo[]
  }
  const decode = (hex: string) =>
    parseNetlinkMessages(Buffer.from(hex, 'hex'))
      .filter((m) => m.type === RTM_NEWLINK || m.type === RTM_DELLINK)
      .map((m) => decodeLinkMessage(m.type, m.payload))

  it('produces the events each step should, and ends where the kernel ended', () => {
    let table = linkTableFromMessages([loopback])
    const perStep: Record<string, string[]> = {}
    for (const step of recording.steps) {
      const result = run(table, step.raw.flatMap(decode))
      table = result.table
      perStep[step.label] = result.brief
    }
    expect(perStep['veth h0 created (peer p0 in another namespace), down']).toEqual(['added h0'])
    expect(perStep['bridge br0 created, up']).toEqual(['added br0', 'changed br0 adminUp'])
    expect(perStep['p0 up (carrier on h0)']).toEqual(['changed h0 operstate,carrier'])
    expect(perStep['h0 enslaved to br0']).toContain('changed h0 master')
    expect(perStep['h0 enslaved to br0']).toContain('changed br0 members')
    expect(perStep['p0 down (carrier lost on h0)']).toEqual(expect.arrayContaining(['changed h0 operstate,carrier']))
    // the AF_BRIDGE DELLINK of a released port is not a removal
    expect(perStep['h0 released from br0']).toEqual(
      expect.arrayContaining(['changed h0 master', 'changed br0 members']),
    )
    expect(perStep['h0 released from br0']!.some((e) => e.startsWith('removed'))).toBe(false)
    // renaming a lower device re-derives the macvlan on top of it
    expect(perStep['h0 down and renamed to h0x']).toEqual([
      'changed h0 adminUp',
      'renamed h0x name',
      'changed mv0 lowerLink',
      'changed br0 operstate', // the bridge lost its last carrier earlier; linkwatch reported it late
    ])
    expect(perStep['mv0 deleted']).toEqual(['removed mv0'])
    expect(perStep['h0x deleted']).toEqual(['removed h0x'])
    const others = (links: Iterable<LinkInfo>) => [...links].filter((l) => l.name !== 'lo')
    expect(others(table.links.values())).toEqual(others(recording.finalLinks))
  })
})

describe('a bond with two slaves (synthesized: this kernel cannot create bonds)', () => {
  // ifindex order puts the slaves before the bond, as after a reboot: the dump must not depend on order
  const dump = [
    loopback,
    bondSlave(2, 'eth0', 9),
    bondSlave(3, 'eth1', 9, {backup: true}),
    nic(4, 'eth10'),
    bond(9, 'bond0', 2),
  ]

  it('resolves members, master, active slave and physical-ness from a dump in any order', () => {
    for (const order of [dump, [...dump].reverse()]) {
      const table = linkTableFromMessages(order)
      expect(byName(table, 'bond0')).toMatchObject({
        kind: 'bond',
        physical: false,
        members: ['eth0', 'eth1'],
        bondMembers: ['eth0', 'eth1'],
        bond: {mode: 'active-backup', activeSlave: 'eth0'},
      })
      expect(byName(table, 'eth0')).toMatchObject({
        kind: 'physical',
        physical: true,
        master: {index: 9, name: 'bond0', kind: 'bond'},
      })
      expect(byName(table, 'eth0').bondSlave).toEqual({state: 'active', miiStatus: 'up'})
      expect(byName(table, 'eth1').bondSlave).toEqual({state: 'backup', miiStatus: 'up'})
      expect(byName(table, 'eth10').master).toBeUndefined() // a name containing "eth1" is not eth1
      expect(byName(table, 'lo')).toMatchObject({kind: 'loopback', physical: false})
    }
  })

  it('follows a member losing carrier, the active slave moving, a release and an enslave', () => {
    const start = linkTableFromMessages(dump)
    const {brief, table, events} = run(start, [
      bondSlave(2, 'eth0', 9, {state: 'no-carrier', mii: 2}), // eth0 loses carrier; the driver marks it down
      bondSlave(3, 'eth1', 9), // eth1 becomes active
      bond(9, 'bond0', 3),
      nic(3, 'eth1'), // eth1 released: no master any more
      bondSlave(4, 'eth10', 9, {backup: true}), // eth10 enslaved
    ])
    expect(brief).toEqual([
      'changed eth0 operstate,carrier,bondSlave',
      'changed eth1 bondSlave',
      'changed bond0 bond',
      'changed eth1 master,bondSlave',
      'changed bond0 members,bondMembers,bond',
      'changed eth10 master,bondSlave',
      'changed bond0 members,bondMembers',
    ])
    expect(events[0]).toMatchObject({previous: {carrier: true}, link: {carrier: false, bondSlave: {miiStatus: 'down'}}})
    expect(byName(table, 'bond0').bondMembers).toEqual(['eth0', 'eth10'])
    expect(byName(table, 'bond0').bond?.activeSlave).toBeUndefined() // the bond still points at eth1, which left
  })

  it('renames: the bond sees the member by its new name, the members see the renamed bond', () => {
    const start = linkTableFromMessages(dump)
    const {brief, table} = run(start, [bondSlave(2, 'uplink0', 9), bond(9, 'bond-up', 2)])
    expect(brief).toEqual([
      'renamed uplink0 name',
      'changed bond0 members,bondMembers,bond',
      'renamed bond-up name',
      'changed uplink0 master',
      'changed eth1 master',
    ])
    expect(byName(table, 'uplink0').master?.name).toBe('bond-up')
  })

  it('deletes a bond: removed, and its members lose their master even before the kernel says so', () => {
    const {brief, table} = run(linkTableFromMessages(dump), [dellink({index: 9, name: 'bond0', kind: 'bond'})])
    expect(brief).toEqual(['removed bond0', 'changed eth0 master', 'changed eth1 master'])
    expect(byName(table, 'eth0').master).toBeUndefined()
    expect(table.links.has(9)).toBe(false)
  })

  it('reports nothing for a notification that changes nothing visible (e.g. statistics)', () => {
    const start = linkTableFromMessages(dump)
    expect(run(start, [bondSlave(2, 'eth0', 9)]).events).toEqual([])
  })
})

describe('bridge ports and the AF_BRIDGE family', () => {
  const bridge = newlink({index: 5, name: 'br0', kind: 'bridge'})
  const port = newlink({index: 6, name: 'vh0', kind: 'veth', master: 5, slaveKind: 'bridge'})

  it('treats a family-7 DELLINK as the port leaving the bridge, and ignores family-7 NEWLINK', () => {
    const start = linkTableFromMessages([bridge, port])
    const ignored = run(start, [{...port, family: 7}])
    expect(ignored.events).toEqual([])
    const {brief, table} = run(start, [{...port, family: 7, type: 'dellink'}])
    expect(brief).toEqual(['changed vh0 master', 'changed br0 members'])
    expect(table.links.has(6)).toBe(true)
    // the family-0 NEWLINK that follows in the kernel changes nothing more
    expect(run(table, [newlink({index: 6, name: 'vh0', kind: 'veth'})]).events).toEqual([])
  })

  it('ignores a family-7 DELLINK naming another master, or for an unknown link', () => {
    const start = linkTableFromMessages([bridge, port])
    expect(run(start, [{...port, family: 7, type: 'dellink', master: 99}]).events).toEqual([])
    expect(run(start, [{...port, index: 77, family: 7, type: 'dellink'}]).events).toEqual([])
  })

  it('gives a bridge an empty member list, and ignores a DELLINK of something never seen', () => {
    const table = linkTableFromMessages([bridge])
    expect(byName(table, 'br0').members).toEqual([])
    expect(run(table, [dellink({index: 42, name: 'ghost'})]).events).toEqual([])
  })
})

describe('physical', () => {
  it('is a bus device (IFLA_PARENT_DEV_NAME), or on older kernels an Ethernet link without a kind', () => {
    expect(isPhysical(nic(2, 'eth0'))).toBe(true)
    expect(isPhysical(newlink({index: 2, name: 'eth0'}))).toBe(true) // kernel < 5.16: no parent attribute
    expect(isPhysical(newlink({index: 3, name: 'veth0', kind: 'veth'}))).toBe(false)
    expect(isPhysical(newlink({index: 4, name: 'ib0', kind: 'ipoib', parentDevice: '0000:5e:00.0'}))).toBe(true)
    expect(isPhysical(loopback)).toBe(false)
    expect(isPhysical(newlink({index: 5, name: 'gre0', linkType: 778}))).toBe(false)
  })
})

describe('diffLinkTables', () => {
  it('reports additions, removals and changes between two dumps, in ifindex order, as resync events', () => {
    const before = linkTableFromMessages([loopback, nic(2, 'eth0'), nic(3, 'eth1')])
    const after = linkTableFromMessages([loopback, nic(2, 'eth0', {state: 'no-carrier'}), nic(4, 'eth2')])
    expect(diffLinkTables(before, after).map((e) => [e.type, e.link.name, e.changes, e.source])).toEqual([
      ['changed', 'eth0', ['operstate', 'carrier'], 'resync'],
      ['removed', 'eth1', [], 'resync'],
      ['added', 'eth2', [], 'resync'],
    ])
    expect(diffLinkTables(before, before)).toEqual([])
    expect(diffLinkTables(emptyLinkTable, before).map((e) => e.type)).toEqual(['added', 'added', 'added'])
  })
})
