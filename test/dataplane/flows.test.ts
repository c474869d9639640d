import {describe, expect, it} from 'vitest'

import {
  AGENT_COOKIE_FILTER,
  DataplaneValueError,
  FlowKind,
  addLine,
  controlDropFlows,
  cookieOf,
  deleteLine,
  desiredFlows,
  isAgentCookie,
  parseDumpFlows,
  planAudit,
  translationFlows,
} from '../../src/dataplane/flows.js'
import {JsonStreamSplitter} from '../../src/dataplane/ovsdb-monitor.js'
import {findPatchPair, localVlanOf, ofportOf} from '../../src/dataplane/ovs-topology.js'

const patch = {integration: 1, external: 1}

describe('cookies', () => {
  it('name the agent in the upper 32 bits, the kind and the lvid below', () => {
    expect(cookieOf(FlowKind.outbound, 5)).toBe(0x7664706101000005n)
    expect(cookieOf(FlowKind.inbound, 4094)).toBe(0x7664706102000ffen)
    expect(isAgentCookie(0x7664706103000001n)).toBe(true)
    expect(isAgentCookie(0x1234n)).toBe(false)
    expect(AGENT_COOKIE_FILTER).toBe('cookie=0x7664706100000000/0xffffffff00000000')
    expect(() => cookieOf(FlowKind.outbound, 4096)).toThrow(DataplaneValueError)
  })
})

describe('translation flows (dfa-agent §4.4, with cookies)', () => {
  it('outbound on the external bridge, inbound on the integration bridge, as ovs-ofctl prints them', () => {
    const [out, inb] = translationFlows({lvid: 5, vdpVlan: 3628}, {integration: 7, external: 3})
    expect(out).toEqual({
      bridge: 'external',
      cookie: 0x7664706101000005n,
      match: 'priority=4,in_port=3,dl_vlan=5',
      actions: 'mod_vlan_vid:3628,NORMAL',
    })
    expect(inb).toEqual({
      bridge: 'integration',
      cookie: 0x7664706102000005n,
      match: 'priority=3,in_port=7,dl_vlan=3628',
      actions: 'mod_vlan_vid:5,NORMAL',
    })
    expect(addLine(out)).toBe(
      'add cookie=0x7664706101000005,table=0,priority=4,in_port=3,dl_vlan=5,actions=mod_vlan_vid:3628,NORMAL',
    )
    expect(deleteLine(inb)).toBe('delete_strict cookie=0x7664706102000005/-1,table=0,priority=3,in_port=7,dl_vlan=3628')
  })

  it('every number is validated before it can reach a command', () => {
    for (const bad of [0, 4095, -1, 1.5, Number.NaN, '5' as unknown as number]) {
      expect(() => translationFlows({lvid: bad, vdpVlan: 100}, patch)).toThrow(DataplaneValueError)
      expect(() => translationFlows({lvid: 5, vdpVlan: bad}, patch)).toThrow(DataplaneValueError)
    }
    expect(() => translationFlows({lvid: 5, vdpVlan: 100}, {integration: 0, external: 1})).toThrow(/OpenFlow port/)
    expect(() => controlDropFlows(0xff00)).toThrow(/OpenFlow port/)
  })

  it('drops the switch LLDP and ECP frames from the uplink', () => {
    expect(controlDropFlows(2).map((f) => `${f.match} ${f.actions}`)).toEqual([
      'priority=100,in_port=2,dl_type=0x88cc drop',
      'priority=100,in_port=2,dl_type=0x8940 drop',
    ])
  })
})

describe('desired state and the audit plan', () => {
  it('one bad network is reported and the others are still desired', () => {
    const d = desiredFlows({
      patch,
      uplinkOfport: 2,
      translations: [
        {network: 'a', lvid: 5, vdpVlan: 100},
        {network: 'bad', lvid: 6, vdpVlan: 5000},
        {network: 'dup', lvid: 5, vdpVlan: 101},
        {network: 'c', lvid: 7, vdpVlan: 102},
      ],
    })
    expect(d.errors.map((e) => e.network)).toEqual(['bad', 'dup'])
    expect(d.flows).toHaveLength(2 + 2 + 2)
  })

  it('adds what is missing or different, deletes stale flows of ours only, counts what is in place', () => {
    const desired = desiredFlows({
      patch,
      uplinkOfport: 2,
      translations: [
        {network: 'a', lvid: 5, vdpVlan: 100},
        {network: 'b', lvid: 6, vdpVlan: 200},
      ],
    }).flows
    const dump = [
      'NXST_FLOW reply (xid=0x4):',
      ' cookie=0x7664706103000000, priority=100,in_port=2,dl_type=0x88cc actions=drop',
      ' cookie=0x7664706103000001, priority=100,in_port=2,dl_type=0x8940 actions=drop',
      ' cookie=0x7664706101000005, priority=4,in_port=1,dl_vlan=5 actions=mod_vlan_vid:999,NORMAL', // wrong VLAN
      ' cookie=0x7664706101000009, priority=4,in_port=1,dl_vlan=9 actions=mod_vlan_vid:300,NORMAL', // stale
      ' cookie=0x1234, priority=1,in_port=1,dl_vlan=9 actions=drop', // the operator's
      ' cookie=0x7664706101000006, table=3, priority=4,in_port=1,dl_vlan=6 actions=NORMAL', // another table: not ours to judge
      ' priority=0 actions=NORMAL',
    ].join('\n')
    const installed = [
      ...parseDumpFlows('external', dump),
      ...parseDumpFlows(
        'integration',
        ' cookie=0x7664706102000005, priority=3,in_port=1,dl_vlan=100 actions=mod_vlan_vid:5,NORMAL\n',
      ),
    ]
    const plan = planAudit(desired, installed)
    expect(plan.ok).toBe(3)
    expect(plan.add.map((f) => `${f.bridge} ${f.match} ${f.actions}`).sort()).toEqual([
      'external priority=4,in_port=1,dl_vlan=5 mod_vlan_vid:100,NORMAL',
      'external priority=4,in_port=1,dl_vlan=6 mod_vlan_vid:200,NORMAL',
      'integration priority=3,in_port=1,dl_vlan=200 mod_vlan_vid:6,NORMAL',
    ])
    expect(plan.remove.map((f) => f.match)).toEqual(['priority=4,in_port=1,dl_vlan=9'])
  })
})

describe('OVSDB stream framing', () => {
  it('splits back-to-back JSON texts across chunks, with braces inside strings', () => {
    const s = new JsonStreamSplitter()
    expect(s.push('{"id":1,"result":{"a":"}{"}}{"method":"up')).toEqual(['{"id":1,"result":{"a":"}{"}}'])
    expect(s.push('date","params":[null,{"x":"\\"}"}]}')).toEqual(['{"method":"update","params":[null,{"x":"\\"}"}]}'])
    expect(s.push('  ')).toEqual([])
  })
})

describe('the OVS layout, from an OVSDB view', () => {
  // a view as the OVSDB monitor builds it: br-int (patch int-br-ethd ofport 1, vm port tagged 5), br-ethd (patch, eth0)
  const ifaces = {
    i1: {uuid: 'i1', name: 'int-br-ethd', type: 'patch', ofport: 1, externalIds: {}, options: {peer: 'phy-br-ethd'}},
    i2: {uuid: 'i2', name: 'tap0', type: '', ofport: 2, externalIds: {'iface-id': 'p-uuid'}, options: {}},
    e1: {uuid: 'e1', name: 'phy-br-ethd', type: 'patch', ofport: 3, externalIds: {}, options: {peer: 'int-br-ethd'}},
    e2: {uuid: 'e2', name: 'eth0', type: '', ofport: -1, externalIds: {}, options: {}},
    e3: {uuid: 'e3', name: 'phy-other', type: 'patch', ofport: 4, externalIds: {}, options: {peer: 'nowhere'}},
  }
  const bridges = {'br-int': ['i1', 'i2'], 'br-ethd': ['e3', 'e1', 'e2']}
  const view = {
    bridgeByName: (name: string) =>
      name in bridges ? {uuid: name, name, ports: bridges[name as keyof typeof bridges]} : undefined,
    interfacesOf: (b: {ports: string[]}) => b.ports.map((p) => ifaces[p as keyof typeof ifaces]),
    portOfIfaceId: (id: string) =>
      id === 'p-uuid' ? {iface: ifaces.i2, port: {uuid: 'p2', name: 'tap0', tag: 5, interfaces: ['i2']}} : undefined,
    bridgeOfPort: (name: string) =>
      name === 'tap0' ? {uuid: 'br-int', name: 'br-int', ports: bridges['br-int']} : undefined,
  }

  it('finds the patch pair pointing both ways, the ofports, and the local VLAN', () => {
    expect(findPatchPair(view, 'br-int', 'br-ethd')).toEqual({
      integration: 1,
      integrationName: 'int-br-ethd',
      external: 3,
      externalName: 'phy-br-ethd',
    })
    expect(findPatchPair(view, 'br-int', 'br-missing')).toBeUndefined()
    expect(ofportOf(view, 'br-ethd', 'eth0')).toBeUndefined() // not attached (ofport -1)
    expect(ofportOf(view, 'br-ethd', 'phy-br-ethd')).toBe(3)
    expect(localVlanOf(view, 'br-int', 'p-uuid')).toBe(5)
    expect(localVlanOf(view, 'br-ethd', 'p-uuid')).toBeUndefined() // only on the integration bridge
    expect(localVlanOf(view, 'br-int', 'unknown')).toBeUndefined()
  })
})
