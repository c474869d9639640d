import {describe, expect, it} from 'vitest'

import {
  type LinkFacts,
  type UplinkPolicy,
  type UplinkWorld,
  UplinkDecider,
  isCandidatePort,
  resolveBond,
} from '../../src/uplink/decide.js'
import {globToRegExp} from '../../src/uplink/glob.js'

const policy: UplinkPolicy = {
  mode: 'auto',
  staticInterface: '',
  include: ['*'],
  exclude: [],
  candidateKinds: ['physical'],
  downDebounceMs: 10_000,
}

let nextIndex = 1
function link(name: string, extra: Partial<LinkFacts> = {}): LinkFacts {
  return {name, index: nextIndex++, kind: 'physical', physical: true, operstate: 'up', carrier: true, ...extra}
}
function world(links: LinkFacts[], evb: Record<string, string> = {}, now = 0, override?: string): UplinkWorld {
  return {links: new Map(links.map((l) => [l.name, l])), evbBridges: new Map(Object.entries(evb)), now, override}
}

describe('uplink decision', () => {
  it('auto: finds the one port whose neighbour is an EVB bridge among several', () => {
    const d = new UplinkDecider(undefined)
    const links = [link('eth0'), link('eth1'), link('eth2'), link('eth3')]
    expect(d.decide(world(links), policy).record).toMatchObject({ifname: null, state: 'none'})
    expect(d.decide(world(links, {eth2: 'tor1 Ethernet1/7'}, 5), policy).record).toMatchObject({
      ifname: 'eth2',
      source: 'lldp',
      state: 'up',
      detectedOn: 'eth2',
      reason: 'EVB bridge tor1 Ethernet1/7 on eth2',
      changedAt: 5,
    })
  })

  it('precedence: override file > config static interface > LLDP', () => {
    const links = [link('eth1'), link('eth2'), link('eth3')]
    const evb = {eth3: 'tor1'}
    const staticPolicy = {...policy, mode: 'static' as const, staticInterface: 'eth2'}
    expect(new UplinkDecider(undefined).decide(world(links, evb), policy).record).toMatchObject({
      ifname: 'eth3',
      source: 'lldp',
    })
    expect(new UplinkDecider(undefined).decide(world(links, evb), staticPolicy).record).toMatchObject({
      ifname: 'eth2',
      source: 'config',
    })
    expect(new UplinkDecider(undefined).decide(world(links, evb, 0, 'eth1'), staticPolicy).record).toMatchObject({
      ifname: 'eth1',
      source: 'override',
      reason: 'pinned by the override file',
    })
  })

  it('a bond slave resolves to its bond by exact name, never by substring (eth1 vs eth10)', () => {
    const links = [
      link('bond0', {kind: 'bond', physical: false, bondMembers: ['eth10', 'eth11']}),
      link('eth10', {master: {name: 'bond0', kind: 'bond'}}),
      link('eth11', {master: {name: 'bond0', kind: 'bond'}}),
      link('eth1'),
    ]
    const m = new Map(links.map((l) => [l.name, l]))
    expect(resolveBond('eth1', m)).toEqual({uplink: 'eth1', members: []})
    expect(resolveBond('eth10', m)).toEqual({uplink: 'bond0', members: ['eth10', 'eth11']})
    const d = new UplinkDecider(undefined)
    expect(d.decide(world(links, {eth11: 'tor2'}), policy).record).toMatchObject({
      ifname: 'bond0',
      detectedOn: 'eth11',
      bondMembers: ['eth10', 'eth11'],
      state: 'up',
    })
    // the other member hears the switch: still bond0, no transition
    const before = d.record!.changedAt
    expect(d.decide(world(links, {eth10: 'tor2'}, 50), policy).record).toMatchObject({
      ifname: 'bond0',
      detectedOn: 'eth10',
      state: 'up',
      changedAt: before,
    })
  })

  it('candidates: kind, include/exclude globs; ports of a bridge, OVS or a bond stay candidates, other masters do not', () => {
    const p = {...policy, include: ['eth*', 'ens*'], exclude: ['eth9']}
    expect(isCandidatePort(link('eth1'), p)).toBe(true)
    expect(isCandidatePort(link('eth9'), p)).toBe(false)
    expect(isCandidatePort(link('wlan0'), p)).toBe(false)
    expect(isCandidatePort(link('eth2', {kind: 'veth', physical: false}), p)).toBe(false)
    expect(
      isCandidatePort(link('eth2', {kind: 'veth', physical: false}), {...p, candidateKinds: ['physical', 'veth']}),
    ).toBe(true)
    expect(isCandidatePort(link('eth3', {master: {name: 'br0', kind: 'bridge'}}), p)).toBe(true)
    expect(isCandidatePort(link('eth5', {master: {name: 'ovs-system', kind: 'openvswitch'}}), p)).toBe(true)
    expect(isCandidatePort(link('eth6', {master: {name: 'team0', kind: 'team'}}), p)).toBe(false)
    expect(isCandidatePort(link('eth7', {master: {name: 'vrf-blue', kind: 'vrf'}}), p)).toBe(false)
    expect(isCandidatePort(link('eth4', {master: {name: 'bond0', kind: 'bond'}}), p)).toBe(true)
    // only a bond changes which name is the uplink
    expect(resolveBond('eth3', new Map([['eth3', link('eth3', {master: {name: 'br0', kind: 'bridge'}})]])).uplink).toBe(
      'eth3',
    )
    expect(isCandidatePort(link('lo', {kind: 'loopback', physical: false}), {...p, include: ['*']})).toBe(false)
  })

  it('carrier loss is down at once; carrier back with the neighbour heard again is up', () => {
    const d = new UplinkDecider(undefined)
    d.decide(world([link('eth1')], {eth1: 'tor1'}, 0), policy)
    expect(
      d.decide(world([link('eth1', {carrier: false, operstate: 'lowerlayerdown'})], {eth1: 'tor1'}, 10), policy).record,
    ).toMatchObject({ifname: 'eth1', state: 'down', reason: 'eth1 lost carrier', changedAt: 10})
    expect(d.decide(world([link('eth1')], {}, 20), policy).record).toMatchObject({state: 'down'})
    expect(d.decide(world([link('eth1')], {eth1: 'tor1'}, 30), policy).record).toMatchObject({
      state: 'up',
      changedAt: 30,
    })
  })

  it('EVB neighbour loss is debounced: still up within the window (with a recheck time), down after it', () => {
    const d = new UplinkDecider(undefined)
    const links = [link('eth1')]
    d.decide(world(links, {eth1: 'tor1'}, 0), policy)
    const during = d.decide(world(links, {}, 1000), policy)
    expect(during.record).toMatchObject({state: 'up', changedAt: 0})
    expect(during.record.reason).toMatch(/EVB neighbour missing for 0s; down after 10s/)
    expect(during.recheckAt).toBe(11_000)
    expect(d.decide(world(links, {}, 10_999), policy).record.state).toBe('up')
    expect(d.decide(world(links, {}, 11_000), policy).record).toMatchObject({
      ifname: 'eth1',
      state: 'down',
      reason: 'EVB neighbour on eth1 lost for 10s',
      changedAt: 11_000,
    })
  })

  it('the neighbour coming back within the window cancels the debounce', () => {
    const d = new UplinkDecider(undefined)
    const links = [link('eth1')]
    d.decide(world(links, {eth1: 'tor1'}, 0), policy)
    d.decide(world(links, {}, 5000), policy)
    expect(d.decide(world(links, {eth1: 'tor1'}, 6000), policy).record).toMatchObject({state: 'up', changedAt: 0})
    expect(d.decide(world(links, {}, 7000), policy).recheckAt).toBe(17_000) // a fresh window
  })

  it('after an LLDP uplink is lost, another port with an EVB bridge takes over', () => {
    const d = new UplinkDecider(undefined)
    const links = [link('eth1'), link('eth2')]
    d.decide(world(links, {eth1: 'tor1'}, 0), policy)
    d.decide(world(links, {eth2: 'tor2'}, 1000), policy) // eth1 silent: debounce, even though eth2 is heard
    expect(d.record).toMatchObject({ifname: 'eth1', state: 'up'})
    expect(d.decide(world(links, {eth2: 'tor2'}, 11_000), policy).record).toMatchObject({
      ifname: 'eth2',
      state: 'up',
      source: 'lldp',
    })
  })

  it('a static uplink that does not exist is down, with the reason', () => {
    const d = new UplinkDecider(undefined)
    expect(d.decide(world([link('eth1')]), {...policy, mode: 'static', staticInterface: 'eth7'}).record).toMatchObject({
      ifname: 'eth7',
      source: 'config',
      state: 'down',
      reason: 'set by [uplink] static_interface; interface eth7 does not exist',
    })
  })

  it('resumes from a persisted record without a transition', () => {
    const persisted = {
      ifname: 'eth1',
      source: 'lldp' as const,
      state: 'up' as const,
      detectedOn: 'eth1',
      bondMembers: [],
      reason: 'x',
      changedAt: 42,
      updatedAt: 42,
    }
    const d = new UplinkDecider(persisted)
    expect(d.decide(world([link('eth1')], {eth1: 'tor1'}, 100), policy).record).toMatchObject({
      ifname: 'eth1',
      state: 'up',
      changedAt: 42,
    })
  })
})

describe('interface globs', () => {
  it('matches like a shell', () => {
    expect(globToRegExp('eth*').test('eth10')).toBe(true)
    expect(globToRegExp('eth?').test('eth10')).toBe(false)
    expect(globToRegExp('ens[0-3]f?').test('ens2f1')).toBe(true)
    expect(globToRegExp('eth[!0]').test('eth0')).toBe(false)
    expect(globToRegExp('eth.1').test('ethx1')).toBe(false)
    expect(globToRegExp('eth.1').test('eth.1')).toBe(true)
  })
})
