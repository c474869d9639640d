import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {callControl} from '../../src/control/client.js'
import {ControlServer} from '../../src/control/server.js'
import {torControlHandlers} from '../../src/lab/tor-control.js'
import {silentLogger} from '../../src/log/logger.js'
import {reinitKeepAlive} from '../../src/vdp/timers.js'
import {vsiidKey} from '../../src/vdp/vsiid.js'
import {dfaRequest, vsiidFor} from '../vdp/helpers/link.js'
import {torHarness} from './tor-harness.js'

const RKA = reinitKeepAlive(20)

async function associated(groups: number[]) {
  const t = torHarness()
  t.sim.start()
  t.announce()
  await t.settle()
  const {station} = t.newStation()
  station.associateMany(groups.map((g, i) => dfaRequest(i + 1, g)))
  await t.settle(20)
  expect(t.stationOf('associated')).toHaveLength(groups.length)
  return {...t, station, control: torControlHandlers(t.sim)}
}

describe('ToR simulator control methods', () => {
  it('deassociate: the station hears an unsolicited De-Associate; unknown VSIs count 0', async () => {
    const t = await associated([100, 200])
    // a bare UUID (as vdptool writes it) and a key of a VSI the bridge does not hold
    const bare = '00000000-0000-4000-8000-000000000001'
    expect(vsiidKey(vsiidFor(1))).toBe(`uuid:${bare}`)
    expect(await t.control.deassociate({vsiid: [bare, 'uuid:00000000-0000-4000-8000-00000000ffff']})).toEqual({
      deassociated: 1,
    })
    await t.settle(10)
    expect(t.stationOf('deassociated')).toMatchObject([{key: vsiidKey(vsiidFor(1)), initiator: 'bridge'}])
    expect(t.of('deassociated')).toEqual([{type: 'deassociated', vsiid: vsiidKey(vsiidFor(1)), initiator: 'bridge'}])
    expect(t.sim.vsis().map((v) => v.key)).toEqual([vsiidKey(vsiidFor(2))])
  })

  it('change-vlan: a VSI or a whole group moves, and the station learns it at its next keep-alive', async () => {
    const t = await associated([100, 200, 200])
    expect(await t.control['change-vlan']({vsiid: vsiidKey(vsiidFor(1)), vid: 101})).toEqual({changed: 1})
    expect(await t.control['change-vlan']({groupId: 200, vid: 201})).toEqual({changed: 2})
    expect(t.stationOf('vlan-changed')).toEqual([]) // nothing travels before the keep-alives
    await t.settle(RKA + 20, 5)
    expect(t.stationOf('vlan-changed').map((e) => [e.key, e.from, e.to])).toEqual([
      [vsiidKey(vsiidFor(1)), [100], [101]],
      [vsiidKey(vsiidFor(2)), [200], [201]],
      [vsiidKey(vsiidFor(3)), [200], [201]],
    ])
    expect(t.of('vlan-changed')).toEqual([
      {type: 'vlan-changed', target: vsiidKey(vsiidFor(1)), vid: 101, vsis: 1},
      {type: 'vlan-changed', target: 'group:200', vid: 201, vsis: 2},
    ])
  })

  it('set-faults replaces the fault set: a reject reaches the station, {} clears it', async () => {
    const t = await associated([100])
    const reply = (await t.control['set-faults']({reject: {code: 2, hard: true, match: {groupId: 300}}})) as {
      faults: unknown
    }
    expect(reply).toEqual({faults: {reject: {code: 2, hard: true, match: {groupId: 300}}}})
    expect(t.sim.status().faults).toEqual(reply.faults)
    t.station.associateMany([dfaRequest(5, 300), dfaRequest(6, 301)])
    await t.settle(20)
    expect(t.stationOf('failed')).toMatchObject([
      {key: vsiidKey(vsiidFor(5)), reason: 'rejected', code: 2, hard: true, keep: false},
    ])
    expect(t.stationOf('associated').map((e) => e.key)).toContain(vsiidKey(vsiidFor(6)))
    expect(await t.control['set-faults']({})).toEqual({faults: {}})
    t.station.associate(dfaRequest(7, 300))
    await t.settle(20)
    expect(t.stationOf('associated').map((e) => e.key)).toContain(vsiidKey(vsiidFor(7)))
    expect(t.of('faults-changed')).toHaveLength(2)
  })

  it('refuses bad parameters with BAD_ARGUMENT and changes nothing', async () => {
    const t = await associated([100])
    const bad: [string, unknown][] = [
      ['deassociate', undefined],
      ['deassociate', {}],
      ['deassociate', {vsiid: 'not-a-uuid'}],
      ['deassociate', {vsiid: []}],
      ['deassociate', {vsiid: vsiidKey(vsiidFor(1)), extra: 1}],
      ['change-vlan', {vid: 5}],
      ['change-vlan', {vsiid: vsiidKey(vsiidFor(1)), groupId: 100, vid: 5}],
      ['change-vlan', {vsiid: vsiidKey(vsiidFor(1)), vid: 1}],
      ['change-vlan', {groupId: 0, vid: 5}],
      ['set-faults', {dropAckRate: 2}],
      ['set-faults', {reject: {code: 0}}],
      ['set-faults', 'all'],
    ]
    for (const [method, params] of bad) {
      await expect(
        Promise.resolve().then(() => t.control[method as keyof typeof t.control](params)),
        `${method} ${JSON.stringify(params)}`,
      ).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
      })
    }
    expect(t.sim.vsis().map((v) => v.vids)).toEqual([[100]])
    expect(t.sim.status().faults).toEqual({})
  })

  it('answers over a real control socket, errors included', async () => {
    const t = await associated([100])
    const dir = mkdtempSync(join(tmpdir(), 'tor-control-'))
    const path = join(dir, 'tor.sock')
    const server = new ControlServer(path, t.control, silentLogger)
    await server.listen()
    try {
      const status = (await callControl(path, 'status')) as {vsis: number; station: {mac: string}}
      expect(status).toMatchObject({vsis: 1, station: {mac: '02:00:00:00:01:01'}})
      expect(await callControl(path, 'vsis')).toMatchObject([{key: vsiidKey(vsiidFor(1)), vids: [100]}])
      await expect(callControl(path, 'change-vlan', {vid: 9999})).rejects.toMatchObject({code: 'BAD_ARGUMENT'})
      await expect(callControl(path, 'reboot')).rejects.toMatchObject({code: 'UNKNOWN_METHOD'})
    } finally {
      await server.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
