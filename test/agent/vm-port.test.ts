import {describe, expect, it} from 'vitest'

import {parsePortUuid, parseVmBulk, parseVmUp} from '../../src/agent/vm-port.js'

const good = {
  portUuid: 'A7B5C4D2-1111-4222-8333-123456789ABC',
  mac: '52:54:00:AA:BB:01',
  netUuid: '00000000-1111-2222-3333-444455556666',
  segmentationId: 20000,
}

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
      expect(() => parseVmUp({...good, ...change})).toThrow(
        expect.objectContaining({code: 'BAD_ARGUMENT', message: expect.stringMatching(message)}),
      )
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
    expect(parseVmBulk({up: [good], down: ['00000000-1111-2222-3333-444455556667']})).toMatchObject({
      up: [{portUuid: 'a7b5c4d2-1111-4222-8333-123456789abc'}],
      down: ['00000000-1111-2222-3333-444455556667'],
    })
  })
  it('names the bad item and rejects duplicates', () => {
    expect(() => parseVmBulk({up: [good, {...good, portUuid: 'x'}]})).toThrow(/up\[1\]/)
    expect(() => parseVmBulk({up: [good], down: [good.portUuid]})).toThrow(/each port once per request/)
    expect(() => parseVmBulk({up: 'all'})).toThrow(/up = "all": expected an array of ports/)
  })

  // Issue 10 item 10: each of these was accepted as an empty bulk ("recorded 0 up", exit 0).
  const shapes: [string, unknown, RegExp][] = [
    ['{"ports": [...]}', {ports: [good]}, /key = "ports": expected only the keys up, down \(unknown key\)/],
    ['{"Up": [...]}', {Up: [good]}, /key = "Up": expected only the keys up, down/],
    [
      '{}',
      {},
      /the bulk list = an empty object \{\}: expected an object \{"up": \[ports\.\.\.\], "down": \[port UUIDs\.\.\.\]\}/,
    ],
    ['a JSON array', [good], /the bulk list = an array of 1 item: expected an object/],
    ['a string', 'up', /the bulk list = "up": expected an object/],
    ['down not a list', {down: {a: 1}}, /down = an object with key "a": expected an array of port UUIDs/],
    [
      'an item with a misspelt key',
      {up: [{...good, vlanId: 100}]},
      /up\[0\] = an object with keys .*: expected key = "vlanId": expected only the keys portUuid, mac/,
    ],
  ]
  for (const [name, input, message] of shapes) {
    it(`refuses ${name} with BAD_ARGUMENT`, () => {
      expect(() => parseVmBulk(input)).toThrow(
        expect.objectContaining({code: 'BAD_ARGUMENT', message: expect.stringMatching(message)}),
      )
    })
  }
  it('still takes an explicitly empty list', () => {
    expect(parseVmBulk({up: []})).toEqual({up: [], down: []})
  })
})

describe('error messages about bad values (issue 10 item 11)', () => {
  it('never echo the whole value, and survive a value nested 10,000 deep', () => {
    let deep: unknown = 'x'
    for (let i = 0; i < 10_000; i++) deep = {a: deep}
    let err: Error | undefined
    try {
      parseVmUp({...good, vmName: deep})
    } catch (e) {
      err = e as Error
    }
    expect(err?.message).toBe('vmName = an object with key "a": expected a printable name of at most 100 characters')
    const long = 'z'.repeat(100_000)
    expect(() => parseVmUp({...good, netUuid: long})).toThrow(
      /^netUuid = "z{60}"… \(100000 characters\): expected a UUID$/,
    )
  })
})
