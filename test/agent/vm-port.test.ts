import {describe, expect, it} from 'vitest'

import {parsePortUuid, parseVmBulk, parseVmUp} from '../../src/agent/vm-port.js'

const good = {portUuid: 'A7B5C4D2-1111-4222-8333-123456789ABC', mac: '52:54:00:AA:BB:01', netUuid: '00000000-1111-2222-3333-444455556666', segmentationId: 20000}

describe('VM port validation', () => {
  it('accepts a good port and normalises case', () => {
    expect(parseVmUp({...good, vmName: 'web-1', ipv4: '10.1.2.3', vlan: 100})).toEqual({
      portUuid: 'a7b5c4d2-1111-4222-8333-123456789abc',
      mac: '52:54:00:aa:bb:01',
      netUuid: '00000000-1111-2222-3333-444455556666',
      segmentationId: 20000,
      vmName: 'web-1',
      vmUuid: null,
      ipv4: '10.1.2.3',
      vlan: 100,
    })
  })

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['port not a UUID', {portUuid: 'x'}, /portUuid = "x": expected a UUID/],
    ['multicast MAC', {mac: '01:00:5e:00:00:01'}, /expected a unicast MAC/],
    ['all-zero MAC', {mac: '00:00:00:00:00:00'}, /expected a unicast MAC/],
    ['MAC garbage', {mac: '52:54:00:aa:bb'}, /expected a MAC address/],
    ['segment 0', {segmentationId: 0}, /segmentationId = 0: expected an integer from 1 to 16777215/],
    ['segment as text', {segmentationId: '20000'}, /expected an integer/],
    ['segment too large', {segmentationId: 2 ** 24}, /expected an integer from 1 to 16777215/],
    ['VLAN 1', {vlan: 1}, /vlan = 1: expected an integer from 2 to 4094/],
    ['VLAN 4095', {vlan: 4095}, /vlan = 4095/],
    ['VM name with a newline', {vmName: 'a\nb'}, /vmName/],
    ['bad IPv4', {ipv4: '10.1.2.300'}, /ipv4 = "10.1.2.300": expected an IPv4 address/],
    ['injection attempt in net', {netUuid: "x'; DROP TABLE vsi; --"}, /netUuid/],
  ]
  for (const [name, change, message] of bad) {
    it(`rejects ${name} with a typed error`, () => {
      expect(() => parseVmUp({...good, ...change})).toThrow(expect.objectContaining({code: 'BAD_ARGUMENT', message: expect.stringMatching(message)}))
    })
  }

  it('rejects non-objects and missing fields', () => {
    expect(() => parseVmUp(null)).toThrow(/params = null: expected an object/)
    expect(() => parseVmUp({...good, mac: undefined})).toThrow(/mac = undefined: expected a MAC/)
    expect(parsePortUuid({portUuid: good.portUuid})).toBe('a7b5c4d2-1111-4222-8333-123456789abc')
    expect(() => parsePortUuid({portUuid: 7})).toThrow(/expected a UUID/)
  })
})

describe('bulk VM list validation', () => {
  it('accepts up and down lists', () => {
    expect(parseVmBulk({up: [good], down: ['00000000-1111-2222-3333-444455556667']})).toMatchObject({up: [{portUuid: 'a7b5c4d2-1111-4222-8333-123456789abc'}], down: ['00000000-1111-2222-3333-444455556667']})
  })
  it('names the bad item and rejects duplicates', () => {
    expect(() => parseVmBulk({up: [good, {...good, portUuid: 'x'}]})).toThrow(/up\[1\]/)
    expect(() => parseVmBulk({up: [good], down: [good.portUuid]})).toThrow(/each port once per request/)
    expect(() => parseVmBulk({up: 'all'})).toThrow(/arrays/)
  })
})
