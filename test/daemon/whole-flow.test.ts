/**
 * The whole agent in one process (issue 8): the real Daemon wiring on the in-memory wire, facing the ToR
 * simulator's LLDP/EVB and VDP bridge engine, on a manual clock and an in-memory database. Each test tells one
 * part of a compute node's life: the uplink found by LLDP, VM ports associated, a VLAN changed by the switch,
 * a De-Associate from the switch, the cable pulled and plugged back, the daemon restarted from its database.
 * Protocol time moves by the clock (minutes of it cost milliseconds); the flow harness is in flow-harness.ts.
 */
import {afterEach, describe, expect, it} from 'vitest'

import type {VsiRecord} from '../../src/model/vsi.js'
import {uuidVsiid, vsiidKey} from '../../src/vdp/vsiid.js'
import {type FlowHarness, type FlowOptions, HOST_MAC, TOR_MAC, UPLINK, flowHarness} from './flow-harness.js'

/** The switch assigns VLANs from a pool, one per network segment: the agent cannot guess them. */
const POOL = {kind: 'pool', from: 700, to: 799} as const

const NET_A = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'
const NET_B = '9d0e8c3a-5b7f-4e21-8c64-2a1b3c4d5e6f'
/** Two ports on segment 5001, one on 5002. */
const P1 = {
  portUuid: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01',
  mac: '52:54:00:12:34:01',
  netUuid: NET_A,
  segmentationId: 5001,
  vmName: 'web-1',
}
const P2 = {
  portUuid: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e02',
  mac: '52:54:00:12:34:02',
  netUuid: NET_A,
  segmentationId: 5001,
  vmName: 'web-2',
}
const P3 = {
  portUuid: '7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e03',
  mac: '52:54:00:12:34:03',
  netUuid: NET_B,
  segmentationId: 5002,
  vmName: 'db-1',
}
const PORTS = [P1, P2, P3]

let open: FlowHarness | undefined
afterEach(async () => {
  const h = open
  open = undefined
  if (!h) return
  await h.close()
  // every story here is one the agent handles: none of it is worth an error in the operator's log
  expect(h.errors()).toEqual([])
})

async function harness(opts: FlowOptions = {}): Promise<FlowHarness> {
  open = await flowHarness({...opts, tor: {vlanPolicy: POOL, ...opts.tor}})
  await open.start()
  await open.until(
    'the uplink is up',
    () => open!.daemon.status().uplink.state === 'up' && open!.daemon.status().vdp?.evb === 'negotiated',
    5_000,
  )
  return open
}

const vsi = (h: FlowHarness, port: {portUuid: string}): VsiRecord | undefined => h.store.vsis.get(port.portUuid)
/** The VLANs the switch holds for a port (its VSI table), undefined when it holds none. */
const switchVids = (h: FlowHarness, port: {portUuid: string}) => h.tor.vsi(uuidVsiid(port.portUuid))?.vids
const allAssociated = (h: FlowHarness) => PORTS.every((p) => vsi(h, p)?.state === 'associated')
/** How many times the switch took a port as a new association (a refresh or re-association is not one). */
const firstAssociations = (h: FlowHarness, port: {portUuid: string}) =>
  h.torOf('associated').filter((e) => e.vsiid === vsiidKey(uuidVsiid(port.portUuid)) && e.first).length

/** VSI requests the switch received (associations, keep-alives, De-Associates), since its start. */
const switchRequests = (h: FlowHarness) => h.tor.status().counters.bridge.requests
/** Times the daemon took the switch for restarted from its LLDPDUs and re-sent every VSI. */
const restartResyncs = (h: FlowHarness) =>
  h.logs.filter((l) => l.msg.includes('it restarted; re-associating everything')).length

/** P1 by `vm up`, P2 and P3 in one bulk, all associated. */
async function associateAll(h: FlowHarness): Promise<void> {
  expect(h.daemon.intake.up(P1)).toMatchObject({portUuid: P1.portUuid, desired: 'up', queued: true})
  expect(h.daemon.intake.bulk({up: [P2, P3]})).toEqual({
    up: 2,
    alreadyAssociated: 0,
    down: 0,
    unknownDown: 0,
    queued: 2,
  })
  await h.until('every port is associated', () => allAssociated(h), 5_000)
}

describe('the whole agent on the in-memory wire', () => {
  it('finds its uplink by LLDP: the EVB bridge neighbour on eth0, EVB negotiated, VDP running', async () => {
    const h = await harness()
    const status = h.daemon.status()
    expect(status.uplink).toMatchObject({
      ifname: UPLINK,
      source: 'lldp',
      state: 'up',
      detectedOn: UPLINK,
      reason: expect.stringContaining('EVB bridge tor-sim'),
    })
    // the values both sides run with: each the larger of the station's and the bridge's proposal
    expect(status.uplink.evb).toMatchObject({retries: 3, rte: 8, rwd: 20, rka: 20})
    expect(status.vdp).toMatchObject({
      uplink: UPLINK,
      evb: 'negotiated',
      held: null,
      acceptFrom: TOR_MAC,
      refusedFrames: 0,
    })
    expect(status.neighbors).toEqual({total: 1, evbBridges: 1})
    expect(await h.control('lldp.stats')).toMatchObject({listening: [UPLINK], transmitting: [UPLINK]})
    // the switch heard our EVB station TLV (it ignores ECP until then)
    expect(h.tor.status().station?.mac).toBe(HOST_MAC)
    expect(h.journal('uplink').at(-1)?.detail).toMatchObject({state: 'up', source: 'lldp'})
    // recorded: a CLI reading the database sees the same uplink
    expect(h.store.uplink.get()).toMatchObject({ifname: UPLINK, source: 'lldp', state: 'up'})
  })

  it('without a switch there is no uplink and VM ports wait; the switch appears: uplink found, the waiting port associated', async () => {
    const h = (open = await flowHarness({torRunning: false, tor: {vlanPolicy: POOL}}))
    await h.start()
    await h.settle(5_000)
    expect(h.daemon.status().uplink).toMatchObject({
      ifname: null,
      state: 'none',
      reason: expect.stringContaining('waiting for an LLDP neighbour'),
    })
    expect(await h.control('lldp.stats')).toMatchObject({listening: [UPLINK], transmitting: []})
    h.daemon.intake.up(P1)
    await h.settle(1_000)
    expect(vsi(h, P1)).toMatchObject({state: 'pending', failReason: 'waiting for the uplink'})

    await h.startTor()
    await h.until('P1 is associated', () => vsi(h, P1)?.state === 'associated', 5_000)
    expect(h.daemon.status().uplink).toMatchObject({ifname: UPLINK, source: 'lldp', state: 'up'})
    expect(switchVids(h, P1)).toEqual([vsi(h, P1)!.vdpVlan])
    expect(h.journal('uplink').map((e) => e.detail.state)).toEqual(['none', 'up'])
  })

  it('associates VM ports (vm up, then a bulk) with the VLANs the switch assigned, and keeps them alive', async () => {
    const h = await harness()
    await associateAll(h)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)
    // one VLAN per segment, from the switch's pool: P1 and P2 share one, P3 has another
    expect(vlans[0]).toBe(vlans[1])
    expect(vlans[2]).not.toBe(vlans[0])
    for (const [i, p] of PORTS.entries()) {
      expect(vlans[i]).toBeGreaterThanOrEqual(POOL.from)
      expect(vlans[i]).toBeLessThanOrEqual(POOL.to)
      expect(switchVids(h, p)).toEqual([vlans[i]])
      expect(vsi(h, p)).toMatchObject({state: 'associated', uplink: UPLINK, attempts: 0, failReason: null})
      expect(h.tor.vsi(uuidVsiid(p.portUuid))?.vmName).toBe(p.vmName)
    }
    expect(
      h
        .journal('vsi-associated')
        .map((e) => [e.subject, e.detail.vlan, e.detail.uplink])
        .sort(),
    ).toEqual(PORTS.map((p, i) => [p.portUuid, vlans[i], UPLINK]).sort())
    expect(h.journal('vm-bulk').at(-1)?.detail).toEqual({up: 2, down: 0})
    // each sent once: the switch's EVB TLV echoing our station status once it heard us is no restart
    await h.settle(1_000)
    expect(switchRequests(h)).toBe(PORTS.length)
    expect(restartResyncs(h)).toBe(0)
    expect(h.journal('vdp-bridge-restarted')).toEqual([])
    expect(h.daemon.status().vsis).toEqual({total: 3, byState: {associated: 3}})
    expect(await h.control('vsi.get', {portUuid: P3.portUuid})).toMatchObject({state: 'associated', vdpVlan: vlans[2]})

    // a minute later: kept alive, neither expired by the switch nor associated again
    const keepalives = h.tor.status().counters.bridge.keepalives
    await h.settle(60_000)
    expect(allAssociated(h)).toBe(true)
    expect(h.tor.vsis()).toHaveLength(3)
    expect(h.tor.status().counters.bridge.keepalives).toBeGreaterThan(keepalives)
    expect(h.torOf('deassociated')).toEqual([])
    for (const p of PORTS) expect(firstAssociations(h, p)).toBe(1)
  })

  it('follows a VLAN the switch changes: recorded, journaled, the other ports untouched', async () => {
    const h = await harness()
    await associateAll(h)
    await h.settle(2_000) // past the start-up exchanges: the next answer the station gets is a keep-alive's
    const before = vsi(h, P1)!.vdpVlan
    const changedAt = h.clock.now()
    expect(h.tor.changeVlan(uuidVsiid(P1.portUuid), 901)).toBe(1)
    // the station hears it in the answer to its next keep-alive: within T(RKA) = 10 µs × 2^20 ≈ 10.5 s
    await h.until('P1 is on VLAN 901', () => vsi(h, P1)?.vdpVlan === 901, 30_000)
    expect(h.clock.now() - changedAt).toBeGreaterThan(1_000)
    expect(h.clock.now() - changedAt).toBeLessThanOrEqual(10_486 + 20)
    expect(vsi(h, P1)).toMatchObject({state: 'associated', vdpVlan: 901})
    expect(h.journal('vsi-vlan-changed')).toEqual([
      expect.objectContaining({subject: P1.portUuid, detail: {from: before, to: 901}}),
    ])
    expect(vsi(h, P2)!.vdpVlan).toBe(before)
    expect(switchVids(h, P1)).toEqual([901])
    expect(switchVids(h, P2)).toEqual([before])
  })

  it('a De-Associate from the switch loses the port, which is retried after retry_initial and associated again', async () => {
    const h = await harness()
    await associateAll(h)
    expect(h.tor.deassociate(uuidVsiid(P3.portUuid))).toBe(1)
    await h.until('P3 is lost', () => vsi(h, P3)?.state !== 'associated', 1_000)
    const [lost] = h.journal('vsi-lost')
    expect(lost).toMatchObject({
      subject: P3.portUuid,
      detail: {attempts: 1, reason: expect.stringContaining('de-associated by the switch')},
    })
    // retry_initial = 1 s, with the retry policy's ±25 % jitter
    const retryInMs = lost!.detail.retryInMs as number
    expect(retryInMs).toBeGreaterThanOrEqual(750)
    expect(retryInMs).toBeLessThanOrEqual(1250)
    expect(vsi(h, P3)).toMatchObject({
      state: 'pending',
      attempts: 1,
      vdpVlan: null,
      nextRetryAt: lost!.at + retryInMs,
      failReason: expect.stringContaining('de-associated by the switch'),
    })
    expect(h.tor.vsi(uuidVsiid(P3.portUuid))).toBeUndefined()
    expect(h.torOf('deassociated')).toEqual([
      {type: 'deassociated', vsiid: vsiidKey(uuidVsiid(P3.portUuid)), initiator: 'bridge'},
    ])
    // nothing happens before the retry is due
    await h.settle(lost!.at + retryInMs - 5 - h.clock.now())
    expect(vsi(h, P3)?.state).toBe('pending')
    await h.until('P3 is associated again', () => vsi(h, P3)?.state === 'associated', 1_000)
    expect(h.clock.now()).toBeGreaterThanOrEqual(lost!.at + retryInMs)
    expect(vsi(h, P3)).toMatchObject({attempts: 0, failReason: null, nextRetryAt: null})
    expect(switchVids(h, P3)).toEqual([vsi(h, P3)!.vdpVlan])
    expect(h.journal('vsi-associated').filter((e) => e.subject === P3.portUuid)).toHaveLength(2)
    // the others were never touched
    for (const p of [P1, P2]) expect(firstAssociations(h, p)).toBe(1)
  })

  it('uplink loss (carrier down) leaves the ports pending; its return re-associates them on the same VLANs', async () => {
    const h = await harness()
    await associateAll(h)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)
    const restartsBefore = h.journal('vdp-bridge-restarted').length
    await h.cable(false)
    // our own carrier loss is no switch restart: nothing is journaled as one
    expect(h.journal('vdp-bridge-restarted')).toHaveLength(restartsBefore)
    const status = h.daemon.status()
    expect(status.uplink).toMatchObject({ifname: UPLINK, state: 'down', reason: `${UPLINK} lost carrier`})
    expect(status.vdp).toBeNull()
    for (const p of PORTS)
      expect(vsi(h, p)).toMatchObject({state: 'pending', failReason: expect.stringContaining('waiting for the uplink')})
    expect(h.journal('vdp-session-closed').at(-1)).toMatchObject({subject: UPLINK})
    expect(h.journal('uplink').at(-1)?.detail).toMatchObject({state: 'down'})

    await h.settle(2_000)
    const requests = switchRequests(h)
    const restartNotices = h.journal('vdp-bridge-restarted').length
    await h.cable(true)
    await h.until('the uplink is up again', () => h.daemon.status().uplink.state === 'up', 30_000)
    await h.until('every port is associated again', () => allAssociated(h), 5_000)
    expect(PORTS.map((p) => vsi(h, p)!.vdpVlan)).toEqual(vlans)
    // each re-associated once at the switch; no restart taken from its TLV (it only heard us again)
    await h.settle(1_000)
    expect(switchRequests(h) - requests).toBe(PORTS.length)
    expect(restartResyncs(h)).toBe(0)
    expect(h.journal('vdp-bridge-restarted')).toHaveLength(restartNotices)
    expect(h.journal('uplink').at(-1)?.detail).toMatchObject({state: 'up', source: 'lldp'})
    // the switch kept them through the short outage: re-associated, never new, never dropped
    expect(h.tor.vsis()).toHaveLength(3)
    for (const p of PORTS) expect(firstAssociations(h, p)).toBe(1)
    expect(h.torOf('deassociated')).toEqual([])
  })

  it('a long outage: the switch expires the VSIs; back, each is associated anew on its recorded VLAN', async () => {
    const h = await harness()
    await associateAll(h)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)
    await h.cable(false)
    // nothing refreshes them: the switch drops each at its keep-alive timeout (toutKeepAlive, about 12 s here)
    await h.settle(60_000)
    expect(h.tor.vsis()).toEqual([])
    expect(h.torOf('deassociated').map((e) => e.initiator)).toEqual(['expired', 'expired', 'expired'])
    for (const p of PORTS) expect(vsi(h, p)?.state).toBe('pending')

    await h.cable(true)
    await h.until('every port is associated again', () => allAssociated(h) && h.tor.vsis().length === 3, 30_000)
    expect(PORTS.map((p) => vsi(h, p)!.vdpVlan)).toEqual(vlans)
    expect(PORTS.map((p) => switchVids(h, p)?.[0])).toEqual(vlans)
    for (const p of PORTS) expect(firstAssociations(h, p)).toBe(2)
  })

  it('vm down de-associates the port at the switch and forgets it; the others stay', async () => {
    const h = await harness()
    await associateAll(h)
    expect(h.daemon.intake.down({portUuid: P2.portUuid})).toMatchObject({
      portUuid: P2.portUuid,
      desired: 'down',
      queued: true,
    })
    await h.until('P2 is gone', () => vsi(h, P2) === undefined, 5_000)
    expect(h.tor.vsi(uuidVsiid(P2.portUuid))).toBeUndefined()
    expect(h.torOf('deassociated')).toEqual([
      {type: 'deassociated', vsiid: vsiidKey(uuidVsiid(P2.portUuid)), initiator: 'station'},
    ])
    expect(h.journal('vsi-deassociated')).toEqual([
      expect.objectContaining({subject: P2.portUuid, detail: {reason: null}}),
    ])
    // P1 shares P2's segment: its VLAN stays held for it
    expect(switchVids(h, P1)).toEqual([vsi(h, P1)!.vdpVlan])
    expect(h.daemon.status().vsis).toEqual({total: 2, byState: {associated: 2}})
  })

  it('a restarted daemon resumes from its database: the recorded VLANs, exactly once at the switch', async () => {
    const h = await harness()
    await associateAll(h)
    h.tor.changeVlan(uuidVsiid(P1.portUuid), 901) // so the recorded VLANs are not what a fresh allocation gives
    await h.until('P1 is on VLAN 901', () => vsi(h, P1)?.vdpVlan === 901, 30_000)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)
    const journaled = h.journal().length
    const requests = switchRequests(h)

    await h.restartDaemon()
    await h.until(
      'every port is associated after the restart',
      () => allAssociated(h) && h.daemon.status().vsis.byState.associated === 3,
      30_000,
    )
    expect(h.daemon.status().uplink).toMatchObject({ifname: UPLINK, source: 'lldp', state: 'up'})
    expect(PORTS.map((p) => vsi(h, p)!.vdpVlan)).toEqual(vlans)
    expect(PORTS.map((p) => switchVids(h, p)?.[0])).toEqual(vlans)
    // the switch holds each VSI once, as it was: nothing new, nothing ignored as a mismatch (lldpad's rule)
    expect(h.tor.vsis()).toHaveLength(3)
    for (const p of PORTS) expect(firstAssociations(h, p)).toBe(1)
    expect(h.tor.status().counters.bridge.ignoredMismatches).toBe(0)
    // the bridge forgetting our previous run (its shutdown LLDPDU) is no restart of the bridge: each sent once
    await h.settle(1_000)
    expect(restartResyncs(h)).toBe(0)
    expect(switchRequests(h) - requests).toBe(PORTS.length)
    // the new daemon re-sent each port (it cannot know what the switch kept) and recorded the answers
    const resumed = h
      .journal()
      .slice(journaled)
      .filter((e) => e.kind === 'vsi-associated')
    expect(resumed.map((e) => [e.subject, e.detail.vlan]).sort()).toEqual(
      PORTS.map((p, i) => [p.portUuid, vlans[i]]).sort(),
    )
  })

  it('the switch killed and started again (no shutdown LLDPDU, every VSI forgotten): one re-send of each port, on its VLAN', async () => {
    const h = await harness()
    await associateAll(h)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)
    await h.settle(1_000)
    await h.crashTor()
    // its first LLDPDU has not heard us (no echo): taken for the restart it is; our LLDPDU, then every VSI
    await h.until('the switch holds every port again', () => h.tor.vsis().length === PORTS.length, 5_000)
    await h.settle(1_000)
    expect(PORTS.map((p) => switchVids(h, p)?.[0])).toEqual(vlans)
    expect(allAssociated(h)).toBe(true)
    // once: its echo of our station status coming back afterwards is not a second restart
    expect(restartResyncs(h)).toBe(1)
    expect(h.journal('vdp-bridge-restarted')).toHaveLength(1)
    expect(switchRequests(h)).toBe(PORTS.length)
    for (const p of PORTS) expect(firstAssociations(h, p)).toBe(2)
  })

  it('a restarted daemon facing a reloaded switch (it forgot every VSI) associates each port once, on its recorded VLAN', async () => {
    const h = await harness()
    await associateAll(h)
    h.tor.changeVlan(uuidVsiid(P1.portUuid), 901)
    await h.until('P1 is on VLAN 901', () => vsi(h, P1)?.vdpVlan === 901, 30_000)
    const vlans = PORTS.map((p) => vsi(h, p)!.vdpVlan)

    await h.daemon.stop()
    await h.restartTor()
    expect(h.tor.vsis()).toEqual([])
    const before = h.torEvents.length
    await h.restartDaemon()
    await h.until(
      'every port is associated after both restarts',
      () => allAssociated(h) && h.tor.vsis().length === 3,
      60_000,
    )
    expect(PORTS.map((p) => vsi(h, p)!.vdpVlan)).toEqual(vlans)
    expect(PORTS.map((p) => switchVids(h, p)?.[0])).toEqual(vlans)
    const fresh = h.torEvents.slice(before).filter((e) => e.type === 'associated' && e.first)
    expect(fresh.map((e) => (e as {vsiid: string}).vsiid).sort()).toEqual(
      PORTS.map((p) => vsiidKey(uuidVsiid(p.portUuid))).sort(),
    )
  })
})
