/**
 * LinkMonitor against the real kernel: a link-probe child runs it inside a lab namespace while the test
 * adds, changes and deletes veth, bridge and macvlan links there, and compares its inventory with what
 * `ip -j -d link` says in the same namespace.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, sweepStaleLabs, type IpLinkJson} from '../../../src/lab/netns.js'
import {startProbe, type ProbeClient, type ProbeMessage} from '../../helpers/probe-client.js'
import type {LinkEvent, LinkInfo} from '../../../src/net/links.js'

const isRoot = process.getuid?.() === 0

/** What LinkInfo should say about a link, by `ip -j -d link`. */
function expectedFromIp(ip: IpLinkJson, all: IpLinkJson[]) {
  const kind = ip.linkinfo?.info_kind ?? (ip.link_type === 'loopback' ? 'loopback' : 'physical')
  const members = all
    .filter((l) => l.master === ip.ifname)
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => l.ifname)
  return {
    index: ip.ifindex,
    name: ip.ifname,
    mac: ip.address ?? null,
    kind,
    adminUp: ip.flags.includes('UP'),
    carrier: ip.flags.includes('LOWER_UP'),
    operstate: ip.operstate.toLowerCase(),
    mtu: ip.mtu,
    master: ip.master,
    members: ['bridge', 'bond', 'team'].includes(kind) || members.length ? members : undefined,
    physical: ip.parentdev !== undefined,
  }
}

function summary(link: LinkInfo) {
  const {index, name, mac, kind, adminUp, carrier, operstate, mtu, members, physical} = link
  return {index, name, mac, kind, adminUp, carrier, operstate, mtu, master: link.master?.name, members, physical}
}

async function expectInventoryMatchesIp(lab: Lab, ns: string, probe: ProbeClient): Promise<void> {
  // operstate settles asynchronously (linkwatch): compare once both sides agree, within a bound
  let last: unknown
  await lab.waitFor(
    'inventory to match ip -j -d link',
    async () => {
      const ip = await lab.links(ns)
      const {links} = (await probe.request('list')) as unknown as {links: LinkInfo[]}
      const expected = ip.map((l) => expectedFromIp(l, ip))
      const actual = links.map(summary)
      last = {expected, actual}
      return JSON.stringify(expected) === JSON.stringify(actual)
    },
    {timeoutMs: 5000, intervalMs: 100, details: () => ({last})},
  )
}

const linkEvent =
  (type: LinkEvent['type'], name: string, also: (e: LinkEvent) => boolean = () => true) =>
  (m: ProbeMessage) => {
    const e = m.event as LinkEvent | undefined
    return m.ev === 'link' && e !== undefined && e.type === type && e.link.name === name && also(e)
  }

describe.skipIf(!isRoot)('LinkMonitor in a namespace', () => {
  const lab = new Lab()
  let host: string
  let peer: string
  let probe: ProbeClient

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    peer = await lab.addNamespace('peer')
    await lab.addVethPair(
      {ns: host, ifname: 'h0', mac: '02:00:00:00:01:01'},
      {ns: peer, ifname: 'p0', mac: '02:00:00:00:02:01'},
    )
    await lab.addBridge(host, 'br0', {mac: '02:00:00:00:01:fe'})
    await lab.addMacvlan(host, 'mv0', 'h0', {mode: 'vepa', mac: '02:00:00:00:01:10'})
    probe = await startProbe(lab, host, 'link-probe')
  })

  afterAll(async () => {
    await probe?.close()
    await lab.destroy()
  })

  it('starts with the inventory `ip -j -d link` shows: kinds, MACs, states, MTU, masters', async () => {
    await expectInventoryMatchesIp(lab, host, probe)
    const {links} = (await probe.request('list')) as unknown as {links: LinkInfo[]}
    expect(links.find((l) => l.name === 'mv0')).toMatchObject({
      kind: 'macvlan',
      lowerLink: {name: 'h0', kind: 'veth'},
      physical: false,
    })
    expect(links.find((l) => l.name === 'h0')?.lowerLink).toBeUndefined() // its peer is in another namespace
    expect(links.find((l) => l.name === 'lo')).toMatchObject({kind: 'loopback', physical: false})
  })

  it('reports a link added (down), then admin up without carrier, then carrier when the peer comes up', async () => {
    let from = probe.mark()
    await lab.addVethPair({ns: host, ifname: 'h1', mac: '02:00:00:00:01:02'}, {ns: peer, ifname: 'p1'}, {up: false})
    const added = await probe.waitFor(linkEvent('added', 'h1'), {from})
    expect((added.event as LinkEvent).link).toMatchObject({
      kind: 'veth',
      adminUp: false,
      carrier: false,
      mac: '02:00:00:00:01:02',
    })

    from = probe.mark()
    await lab.setLink(host, 'h1', {up: true})
    const up = await probe.waitFor(
      linkEvent('changed', 'h1', (e) => e.changes.includes('adminUp')),
      {from},
    )
    expect((up.event as LinkEvent).link).toMatchObject({adminUp: true, carrier: false})

    from = probe.mark()
    await lab.setLink(peer, 'p1', {up: true})
    await probe.waitFor(
      linkEvent('changed', 'h1', (e) => e.changes.includes('carrier') && e.link.carrier),
      {from},
    )
  })

  it('reports carrier loss caused by the peer going down', async () => {
    const from = probe.mark()
    await lab.setLink(peer, 'p1', {down: true})
    const lost = await probe.waitFor(
      linkEvent('changed', 'h1', (e) => e.changes.includes('carrier')),
      {from},
    )
    const event = lost.event as LinkEvent & {previous: LinkInfo}
    expect(event.previous.carrier).toBe(true)
    expect(event.link).toMatchObject({carrier: false, adminUp: true})
    await lab.setLink(peer, 'p1', {up: true})
  })

  it('reports enslaving to a bridge on both the port (master) and the bridge (members)', async () => {
    const from = probe.mark()
    await lab.setLink(host, 'h1', {master: 'br0'})
    const port = await probe.waitFor(
      linkEvent('changed', 'h1', (e) => e.changes.includes('master')),
      {from},
    )
    expect((port.event as LinkEvent).link.master).toMatchObject({name: 'br0', kind: 'bridge'})
    const bridge = await probe.waitFor(
      linkEvent('changed', 'br0', (e) => e.changes.includes('members')),
      {from},
    )
    expect((bridge.event as LinkEvent).link.members).toEqual(['h1'])
  })

  it('reports a release (the AF_BRIDGE DELLINK) as a master change, never as a removal', async () => {
    const from = probe.mark()
    await lab.setLink(host, 'h1', {nomaster: true})
    const port = await probe.waitFor(
      linkEvent('changed', 'h1', (e) => e.changes.includes('master')),
      {from},
    )
    expect((port.event as LinkEvent).link.master).toBeUndefined()
    const bridge = await probe.waitFor(
      linkEvent('changed', 'br0', (e) => e.changes.includes('members')),
      {from},
    )
    expect((bridge.event as LinkEvent).link.members).toEqual([])
    await expectInventoryMatchesIp(lab, host, probe)
    expect(probe.collect((m) => m.ev === 'link' && (m.event as LinkEvent).type === 'removed', from)).toEqual([])
  })

  it('reports a rename with the previous name, keeping the index', async () => {
    await lab.setLink(host, 'h1', {down: true})
    const from = probe.mark()
    await lab.setLink(host, 'h1', {name: 'uplink1'})
    const renamed = await probe.waitFor(linkEvent('renamed', 'uplink1'), {from})
    const event = renamed.event as LinkEvent & {previous: LinkInfo}
    expect(event.previous.name).toBe('h1')
    expect(event.link.index).toBe(event.previous.index)
    expect(event.changes).toContain('name')
  })

  it('reports a deletion, and ends with the inventory ip shows', async () => {
    const from = probe.mark()
    await lab.deleteLink(host, 'uplink1')
    await probe.waitFor(linkEvent('removed', 'uplink1'), {from})
    await expectInventoryMatchesIp(lab, host, probe)
  })
})

describe.skipIf(!isRoot)('LinkMonitor after a receive-queue overrun', () => {
  const lab = new Lab()
  let host: string
  let probe: ProbeClient

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    await lab.addBridge(host, 'br0')
    // a tiny receive buffer (the kernel's minimum) so a burst overflows it while the probe is blocked
    probe = await startProbe(lab, host, 'link-probe', ['--rcvbuf', '1'])
  })

  afterAll(async () => {
    await probe?.close()
    await lab.destroy()
  })

  it('gets ENOBUFS, re-dumps, emits the difference as resync events, and matches ip again', async () => {
    const from = probe.mark()
    const blocked = probe.request('block', {ms: 2000})
    await probe.waitFor((m) => m.ev === 'blocking', {from})
    // while the probe's event loop stands still: more notifications than its queue can hold
    for (let i = 0; i < 6; i++)
      await lab.addVethPair({ns: host, ifname: `o${i}`}, {ns: host, ifname: `q${i}`}, {up: false})
    for (let i = 0; i < 6; i++) await lab.setLink(host, `o${i}`, {master: 'br0'})
    await lab.deleteLink(host, 'o5')
    await blocked
    const resync = await probe.waitFor((m) => m.ev === 'resync' && m.reason === 'overrun', {from, timeoutMs: 10_000})
    expect(Number(resync.events)).toBeGreaterThan(0)
    const resyncEvents = probe.collect((m) => m.ev === 'link' && (m.event as LinkEvent).source === 'resync', from)
    expect(resyncEvents.length).toBeGreaterThan(0)
    await expectInventoryMatchesIp(lab, host, probe)
    const {links} = (await probe.request('list')) as unknown as {links: LinkInfo[]}
    expect(links.find((l) => l.name === 'br0')?.members).toEqual(['o0', 'o1', 'o2', 'o3', 'o4'])
  })
})
