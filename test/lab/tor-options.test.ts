import {describe, expect, it} from 'vitest'
import {faultsFromFlags} from '../../src/lab/tor-flags.js'
import {
  faultsToJson,
  parseFaults,
  parseInteger,
  parseRejectSpec,
  parseShare,
  parseVlanPool,
  parseVsiid,
  TorOptionError,
} from '../../src/lab/tor-options.js'

const UUID = 'a7b5c4d2-1111-4222-8333-123456789abc'

function problem(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(TorOptionError)
    expect((err as TorOptionError).code).toBe('BAD_ARGUMENT')
    return (err as Error).message
  }
  throw new Error('expected a TorOptionError')
}

describe('ToR simulator settings', () => {
  it('reads a VLAN pool FROM-TO within 2..4094', () => {
    expect(parseVlanPool('100-199')).toEqual({kind: 'pool', from: 100, to: 199})
    expect(parseVlanPool('2-2')).toEqual({kind: 'pool', from: 2, to: 2})
    for (const bad of ['1-10', '100-4095', '200-100', '100', '100-', 'a-b', '100 - 199', '-5-10', '0x10-0x20']) {
      expect(problem(() => parseVlanPool(bad))).toContain('FROM-TO')
    }
  })

  it('reads --reject CODE[,hard][,keep]', () => {
    expect(parseRejectSpec('2')).toEqual({code: 2, hard: false, keep: false})
    expect(parseRejectSpec('5,hard')).toEqual({code: 5, hard: true, keep: false})
    expect(parseRejectSpec('3,keep,hard')).toEqual({code: 3, hard: true, keep: true})
    expect(problem(() => parseRejectSpec('0'))).toContain('1 to 15')
    expect(problem(() => parseRejectSpec('16'))).toContain('1 to 15')
    expect(problem(() => parseRejectSpec('2,soft'))).toContain('CODE[,hard][,keep]')
    expect(problem(() => parseRejectSpec('2,hard,hard'))).toContain('CODE[,hard][,keep]')
    expect(problem(() => parseRejectSpec(''))).toContain('reject code')
  })

  it('takes shares from 0 to 1 and integers in range, as numbers or text', () => {
    expect(parseShare('x', '0.25')).toBe(0.25)
    expect(parseShare('x', 1)).toBe(1)
    expect(parseShare('x', '.5')).toBe(0.5)
    for (const bad of ['1.5', '-0.1', 'NaN', '', 'half', Number.POSITIVE_INFINITY, null])
      expect(problem(() => parseShare('--drop-acks', bad))).toContain('--drop-acks')
    expect(parseInteger('n', ' 42 ', 0, 50)).toBe(42)
    for (const bad of ['4.5', 51, -1, '1e3', true])
      expect(problem(() => parseInteger('n', bad, 0, 50))).toContain('n must be an integer from 0 to 50')
  })

  it('reads a VSIID as a bare UUID or as a key', () => {
    expect(parseVsiid(UUID.toUpperCase())).toEqual({format: 'uuid', uuid: UUID})
    expect(parseVsiid(`uuid:${UUID}`)).toEqual({format: 'uuid', uuid: UUID})
    expect(parseVsiid('mac:52:54:00:AA:BB:01')).toEqual({format: 'mac', mac: '52:54:00:aa:bb:01'})
    expect(parseVsiid('ipv4:192.0.2.7')).toEqual({format: 'ipv4', address: '192.0.2.7'})
    expect(parseVsiid('ipv6:2001:db8::1')).toEqual({format: 'ipv6', address: '2001:db8::1'})
    expect(parseVsiid(`local:${'ab'.repeat(16)}`)).toEqual({format: 'local', id: 'ab'.repeat(16)})
    for (const bad of ['', 'uuid:nope', 'mac:52:54:00', 'ipv4:300.1.1.1', 'local:abc', 'serial:1', 42]) {
      expect(problem(() => parseVsiid(bad))).toMatch(/VSIID/)
    }
  })

  it('reads a fault set from JSON, refusing unknown keys and bad values', () => {
    const faults = parseFaults({
      dropAckRate: 0.1,
      dropResponseRate: 0,
      responseDelayMs: 250,
      reject: {code: 2, hard: true, rate: 0.5, match: {vsiids: [UUID], groupId: 20000, typeId: 7, modes: ['assoc']}},
    })
    expect(faults).toEqual({
      dropAckRate: 0.1,
      dropResponseRate: 0,
      responseDelayMs: 250,
      reject: {
        code: 2,
        hard: true,
        rate: 0.5,
        match: {vsiids: [{format: 'uuid', uuid: UUID}], groupId: 20000, typeId: 7, modes: ['assoc']},
      },
    })
    expect(faultsToJson(faults).reject?.match).toEqual({
      groupId: 20000,
      typeId: 7,
      modes: ['assoc'],
      vsiids: [`uuid:${UUID}`],
    })
    expect(parseFaults({})).toEqual({})
    expect(parseFaults({reject: null})).toEqual({})
    expect(problem(() => parseFaults({dropAcks: 0.1}))).toContain('unknown keys dropAcks')
    expect(problem(() => parseFaults({reject: {code: 2, match: {group: 5}}}))).toContain('unknown keys group')
    expect(problem(() => parseFaults({reject: {code: 2, keep: 'yes'}}))).toContain('reject.keep')
    expect(problem(() => parseFaults({reject: {code: 2, match: {modes: ['bogus']}}}))).toContain('reject.match.modes')
    expect(problem(() => parseFaults({responseDelayMs: 10_000_000}))).toContain('responseDelayMs')
    expect(problem(() => parseFaults([]))).toContain('JSON object')
    // JSON round trip: what status shows can be fed back to set-faults
    expect(parseFaults(JSON.parse(JSON.stringify(faultsToJson(faults))))).toEqual(faults)
  })

  it('turns the FAULTS flags into the same fault set', () => {
    expect(faultsFromFlags({})).toEqual({})
    expect(
      faultsFromFlags({
        'drop-acks': '0.1',
        'delay-ms': '30',
        reject: '2,keep',
        'reject-vsiid': [UUID],
        'reject-group': '20000',
        'reject-rate': '0.5',
      }),
    ).toEqual({
      dropAckRate: 0.1,
      responseDelayMs: 30,
      reject: {
        code: 2,
        hard: false,
        keep: true,
        rate: 0.5,
        match: {vsiids: [{format: 'uuid', uuid: UUID}], groupId: 20000},
      },
    })
    expect(problem(() => faultsFromFlags({'drop-responses': '2'}))).toContain('--drop-responses')
    expect(problem(() => faultsFromFlags({reject: '2', 'reject-type-id': '16777216'}))).toContain('--reject-type-id')
  })
})
