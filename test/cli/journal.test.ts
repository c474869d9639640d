import {describe, expect, it} from 'vitest'

import {journalLine, parseSince} from '../../src/cli/journal.js'
import {parseJournalQuery} from '../../src/store/journal-repo.js'
import {Store} from '../../src/store/store.js'

const NOW = Date.parse('2026-11-30T16:00:00Z')

describe('journal --since', () => {
  it('takes a duration back from now, or an ISO 8601 time', () => {
    expect(parseSince('90s', NOW)).toBe(NOW - 90_000)
    expect(parseSince('10m', NOW)).toBe(NOW - 600_000)
    expect(parseSince('2h', NOW)).toBe(NOW - 7_200_000)
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000)
    expect(parseSince('2026-11-30T15:00:00Z', NOW)).toBe(NOW - 3_600_000)
    expect(parseSince('2026-11-30T17:00:00+02:00', NOW)).toBe(NOW - 3_600_000)
  })

  it('refuses anything else with BAD_ARGUMENT naming what it expects', () => {
    for (const bad of ['', '10', '10y', '-5m', 'yesterday', '2026-13-45T99:00:00Z', '1e3s']) {
      expect(() => parseSince(bad, NOW), bad).toThrow(
        expect.objectContaining({code: 'BAD_ARGUMENT', message: expect.stringContaining('expected a duration')}),
      )
    }
  })
})

describe('journal control method', () => {
  it('validates its params: since in epoch ms, limit 1..10000, nothing else', () => {
    expect(parseJournalQuery(undefined)).toEqual({limit: 50})
    expect(parseJournalQuery({since: 5, limit: 7})).toEqual({since: 5, limit: 7})
    for (const bad of [[], 'x', {limit: 0}, {limit: 10_001}, {limit: 1.5}, {since: -1}, {since: '1h'}, {tail: 5}]) {
      expect(() => parseJournalQuery(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({code: 'BAD_ARGUMENT'}))
    }
  })

  it('lists the newest entries at or after since, oldest first', () => {
    const store = Store.open(':memory:')
    for (let i = 1; i <= 6; i++) store.journal.add(`k${i}`, i % 2 ? `port-${i}` : null, {i}, NOW + i * 1000)
    expect(store.journal.list({limit: 3}).map((e) => e.kind)).toEqual(['k4', 'k5', 'k6'])
    expect(store.journal.list({since: NOW + 2000, limit: 100}).map((e) => e.kind)).toEqual([
      'k2',
      'k3',
      'k4',
      'k5',
      'k6',
    ])
    expect(store.journal.list({since: NOW + 60_000, limit: 100})).toEqual([])
    store.close()
  })

  it('prints one line per entry: UTC time, kind, subject, details', () => {
    const line = journalLine({
      id: 1,
      at: NOW + 123,
      kind: 'vsi-associated',
      subject: 'p1',
      detail: {vlan: 3617, uplink: 'eth1', why: 'two words', empty: ''},
    })
    expect(line).toBe('2026-11-30 16:00:00.123  vsi-associated  p1  vlan=3617 uplink=eth1 why="two words" empty=""')
    expect(journalLine({id: 2, at: NOW, kind: 'vm-bulk', subject: null, detail: {}})).toBe(
      '2026-11-30 16:00:00.000  vm-bulk  -',
    )
  })
})
