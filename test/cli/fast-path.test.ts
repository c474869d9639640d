import {describe, expect, it} from 'vitest'

import type {StatusView} from '../../src/control/views.js'
import {parseFastPath, renderFromDaemon} from '../../src/cli/fast-path.js'
import {outputWidth, renderTable} from '../../src/cli/table.js'
import {filterVsis} from '../../src/cli/views.js'
import type {VsiRecord} from '../../src/model/vsi.js'

describe('parseFastPath: only what it fully understands', () => {
  it('takes the four read-only commands with their known flags', () => {
    expect(parseFastPath(['status', '--json'], {})).toMatchObject({command: 'status', json: true})
    expect(parseFastPath(['uplink', 'show', '-c', '/x.ini'], {})).toMatchObject({
      command: 'uplink:show',
      config: '/x.ini',
    })
    expect(parseFastPath(['neighbors', '-v', '--config=/y.ini'], {})).toMatchObject({
      command: 'neighbors',
      verbose: true,
      config: '/y.ini',
    })
    expect(
      parseFastPath(['vsi', 'list', '--state', 'failed', '--state=pending', '--network', 'n', '--port', 'ab'], {}),
    ).toMatchObject({
      command: 'vsi:list',
      filter: {state: ['failed', 'pending'], network: 'n', port: 'ab'},
    })
    expect(parseFastPath(['status'], {VDP_AGENT_CONFIG: '/env.ini'})).toMatchObject({config: '/env.ini'})
    expect(parseFastPath(['status'], {VDP_AGENT_CONFIG: ''})?.config).toBeUndefined()
  })

  it('declines everything else, so oclif answers (help, errors, other commands)', () => {
    for (const argv of [
      ['status', '--help'],
      ['status', '-h'],
      ['status', '--frobnicate'],
      ['status', '--config'],
      ['status', '--config', '--json'],
      ['status', '--json=1'],
      ['uplink', 'set', 'eth0'],
      ['uplink'],
      ['vsi', 'list', '--state', 'asleep'],
      ['vsi', 'list', '-v'],
      ['vsi', 'list', '--port='],
      ['vsi', 'list', '--network', 'a', '--network', 'b'],
      ['status', '--json', '--json'],
      ['status', '-c', 'a', '--config', 'b'],
      ['neighbors', 'extra'],
      ['daemon'],
      [],
    ]) {
      expect(parseFastPath(argv, {}), argv.join(' ')).toBeUndefined()
    }
  })

  it('renders status like the command: the source is set to daemon', async () => {
    const p = parseFastPath(['status', '--json'], {})!
    const status: StatusView = {
      source: 'daemon',
      daemon: {running: true, pid: 7, startedAt: '2026-01-01T00:00:00.000Z'},
      uplink: {
        ifname: null,
        source: null,
        state: 'none',
        detectedOn: null,
        bondMembers: [],
        reason: 'x',
        changedAt: null,
        evb: null,
      },
      neighbors: {total: 0, evbBridges: 0},
      vsis: {total: 0, byState: {}},
      outbox: {pending: 0},
    }
    const out = await renderFromDaemon(p, {command: 'status', data: status}, 0)
    expect(out.result).toEqual(status)
    expect(out.text.split('\n')[0]).toBe('daemon:    running (pid 7, since 2026-01-01T00:00:00.000Z)')
  })
})

describe('renderTable fits a width, cutting only the columns allowed', () => {
  const rows = [['0b6f2c3e-1d4a-4e5f-8a9b-0c1d2e3f4000', 'associated', 'the switch refused the filter (reason 3)']]
  it('leaves a table that fits alone', () => {
    expect(renderTable(['PORT', 'STATE', 'REASON'], rows, {maxWidth: 200, shrink: [2, 0]})).not.toMatch(/cut/)
  })
  it('cuts the reason first, then the port, marks the cut and says how to see more', () => {
    const out = renderTable(['PORT', 'STATE', 'REASON'], rows, {maxWidth: 50, shrink: [2, 0], more: '--json'}).split(
      '\n',
    )
    expect(out.slice(0, 2).every((l) => l.length <= 50)).toBe(true)
    expect(out[1]).toMatch(/…/)
    expect(out[2]).toBe('(values cut to fit 50 columns: --json shows them whole)')
  })
  it('the width: $COLUMNS, else the terminal, else none for a pipe', () => {
    expect(outputWidth({isTTY: false}, {COLUMNS: '80'})).toBe(80)
    expect(outputWidth({isTTY: true, columns: 120}, {})).toBe(120)
    expect(outputWidth({isTTY: false}, {})).toBeUndefined()
  })
})

describe('filterVsis', () => {
  const vsi = (portUuid: string, netUuid: string, state: VsiRecord['state']) =>
    ({portUuid, netUuid, state}) as VsiRecord
  const list = [
    vsi('aa11-1', 'net-a', 'associated'),
    vsi('aa22-2', 'net-b', 'failed'),
    vsi('bb33-3', 'net-a', 'pending'),
  ]
  it('by state (any of several), network and port prefix, combined', () => {
    expect(filterVsis(list, {state: ['failed', 'pending']}).map((v) => v.portUuid)).toEqual(['aa22-2', 'bb33-3'])
    expect(filterVsis(list, {network: 'NET-A'}).map((v) => v.portUuid)).toEqual(['aa11-1', 'bb33-3'])
    expect(filterVsis(list, {port: 'aa', network: 'net-a'}).map((v) => v.portUuid)).toEqual(['aa11-1'])
    expect(filterVsis(list, {})).toHaveLength(3)
  })
})
