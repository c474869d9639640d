import {describe, expect, it} from 'vitest'
import {VdpAgentError} from '../../src/errors.js'
import {InvalidInterfaceNameError, ifNameProblem, isValidIfName, validateIfName} from '../../src/net/ifname.js'

describe('validateIfName', () => {
  it.each([
    'eth0',
    'ens1f0np0',
    'bond0',
    'br-int',
    'veth-h0',
    'a',
    'x'.repeat(15),
    'vdpt-3fa9c1-h0',
    'eth0.100',
    'tap_1@x',
    'é1',
  ])('accepts %j', (name) => {
    expect(validateIfName(name)).toBe(name)
    expect(isValidIfName(name)).toBe(true)
  })

  it.each([
    ['', 'empty'],
    ['.', 'reserved'],
    ['..', 'reserved'],
    ['x'.repeat(16), 'longer than 15 bytes'],
    ['ééééééé12', 'longer than 15 bytes'], // 9 characters, 16 bytes: the limit is in bytes
    ['eth/0', "'/'"],
    ['eth:0', "':'"],
    ['eth 0', 'whitespace'],
    ['eth\t0', 'control character'],
    ['eth\n0', 'control character'],
    ['eth\u00000', 'control character'],
    ['eth\u007f', 'control character'],
    ['eth\u0085', 'control character'],
    ['eth\u00a0', '0xA0'], // NBSP is UTF-8 C2 A0
    ['à', '0xA0'], // UTF-8 C3 A0: the kernel's isspace() matches the byte 0xA0
    ['eth%d', "'%'"],
    ['-help', "starts with '-'"],
    ['eth\ud800', 'surrogate'],
  ])('rejects %j (%s)', (name, reason) => {
    expect(isValidIfName(name)).toBe(false)
    expect(() => validateIfName(name)).toThrow(InvalidInterfaceNameError)
    expect(ifNameProblem(name)).toContain(reason)
  })

  it('throws a VdpAgentError with code INVALID_IFNAME and the name in details', () => {
    try {
      validateIfName('bad/name')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(VdpAgentError)
      const e = err as InvalidInterfaceNameError
      expect(e.code).toBe('INVALID_IFNAME')
      expect(e.details).toMatchObject({name: 'bad/name'})
      expect(e.message).toContain('bad/name')
    }
  })

  it('rejects non-strings reaching it from untyped input', () => {
    expect(isValidIfName(undefined)).toBe(false)
    expect(isValidIfName(42)).toBe(false)
    expect(() => validateIfName(null as unknown as string)).toThrow(/not a string/)
  })

  it('keeps a surrogate pair (one code point) as valid input', () => {
    expect(isValidIfName('e\u{1F600}')).toBe(true) // 5 bytes
  })
})
