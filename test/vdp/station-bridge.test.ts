import {describe, expect, it} from 'vitest'
import {segmentVid} from '../../src/lab/vdp-bridge.js'
import {ciscoTlvs} from '../../src/vdp/cisco-oui.js'
import {decodeVdpdu} from '../../src/vdp/vdp-codec.js'
import {lldpadPeerProfile} from '../../src/vdp/peer-profile.js'
import {LLDPAD_DEFAULT_EVB, reinitKeepAlive, respWaitDelay, toutKeepAlive} from '../../src/vdp/timers.js'
import {backToBack, dfaRequest, vsiidFor} from './helpers/link.js'

const RKA = reinitKeepAlive(LLDPAD_DEFAULT_EVB.rka)
const RESP_WAIT = respWaitDelay(3, 8, 20)

describe('station ⇄ bridge: associate, keep alive, deassociate', () => {
  it('associates with VID 0 and learns the VLAN the bridge assigns from the segment id', () => {
    const t = backToBack()
    const org = ciscoTlvs(vsiidFor(1), {name: 'web-1', uuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da', ipv4: '10.1.2.3'})
    const view = t.station.associate(dfaRequest(1, 20000, 0, {org}))
    expect(view).toMatchObject({state: 'associating', pending: 'awaiting-response', operation: 'assoc'})
    t.clock.advance(1)
    expect(t.events).toEqual([
      expect.objectContaining({
        type: 'associated',
        mode: 'assoc',
        vids: [3628],
        requestedVids: [0],
        key: 'uuid:00000000-0000-4000-8000-000000000001',
      }),
    ])
    expect(segmentVid(20000)).toBe(3628)
    expect(t.station.get(vsiidFor(1))).toMatchObject({state: 'associated', vids: [3628]})
    expect(t.bridge.get(vsiidFor(1))).toMatchObject({mode: 'assoc', vids: [3628], vmName: 'web-1'})
    expect(t.vdpRequests('station')).toHaveLength(1)
    expect(t.vdpRequests('bridge')).toHaveLength(1)
  })

  it('associates with a known VID and keeps it', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(2, 20000, 100))
    t.clock.advance(1)
    expect(t.of('associated')[0]).toMatchObject({vids: [100], requestedVids: [100]})
  })

  it('sends a keep-alive every T(RKA) carrying the assigned VID; the bridge never expires the VSI', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(3))
    t.clock.advance(1)
    t.clock.advance(5 * RKA)
    expect(t.station.counters.keepalivesSent).toBe(5)
    expect(t.bridge.counters.keepalives).toBe(5)
    expect(t.bridge.counters.expired).toBe(0)
    expect(t.events).toHaveLength(1) // nothing to report while the VLAN stays the same
    const lastKeepalive = t.vdpRequests('station').at(-1)
    const tlv = decodeVdpdu(lastKeepalive!.frame.ulpdu).tlvs[1]
    expect(tlv).toMatchObject({mode: 'assoc', filter: {entries: [{vid: 3628}]}})
    const kaTimes = t.vdpRequests('station').map((w) => w.at)
    for (let i = 2; i < kaTimes.length; i++) expect(kaTimes[i] - kaTimes[i - 1]).toBeCloseTo(RKA, 0)
  })

  it('deassociates with the assigned VID', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(4))
    t.clock.advance(1)
    t.station.deassociate(vsiidFor(4))
    expect(t.station.get(vsiidFor(4))?.state).toBe('deassociating')
    t.clock.advance(1)
    expect(t.of('deassociated')).toEqual([expect.objectContaining({initiator: 'station', text: 'de-associated'})])
    expect(t.station.size).toBe(0)
    expect(t.bridge.size).toBe(0)
    const deassoc = decodeVdpdu(t.vdpRequests('station')[1].frame.ulpdu).tlvs[1]
    expect(deassoc).toMatchObject({mode: 'deassoc', filter: {entries: [{vid: 3628}]}})
  })

  it('pre-associates, then associates', () => {
    const t = backToBack()
    t.station.preassociate(dfaRequest(5), {rr: true})
    t.clock.advance(1)
    expect(t.events[0]).toMatchObject({type: 'preassociated', mode: 'preassoc-rr'})
    expect(() => t.station.preassociate(dfaRequest(5))).toThrow(/going back from preassoc-rr to preassoc/)
    t.station.associate(dfaRequest(5))
    t.clock.advance(1)
    expect(t.events[1]).toMatchObject({type: 'associated', vids: [3628]})
    expect(() => t.station.preassociate(dfaRequest(5))).toThrow(
      expect.objectContaining({code: 'VSI_INVALID_TRANSITION'}),
    )
  })

  it('treats a repeated associate (VID 0 or the assigned VID) as a no-op: nothing sent', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(6))
    t.clock.advance(1)
    t.station.associate(dfaRequest(6))
    t.station.associate(dfaRequest(6, 20000, 3628))
    t.clock.advance(1)
    expect(t.vdpRequests('station')).toHaveLength(1)
    t.station.associate(dfaRequest(6, 20000, 200)) // a different VLAN asked for explicitly: sent
    t.clock.advance(1)
    expect(t.of('associated').map((e) => e.type === 'associated' && e.vids)).toEqual([[3628], [200]])
  })
})

describe('station ⇄ bridge: faults', () => {
  it('lost ECP ACKs: retransmission wins and every VSI associates', () => {
    const t = backToBack({bridge: {faults: {dropAckRate: 0.5}}})
    t.station.associateMany(Array.from({length: 200}, (_, i) => dfaRequest(100 + i)))
    t.clock.advance(2000)
    expect(t.of('associated')).toHaveLength(200)
    expect(t.transport.counters.retransmissions).toBeGreaterThan(0)
    expect(t.bridge.counters.droppedAcks).toBeGreaterThan(0)
  })

  it('every ACK lost: ECP gives up, but the responses still arrive and complete the associations', () => {
    const t = backToBack({bridge: {faults: {dropAckRate: 1}}})
    t.station.associate(dfaRequest(7))
    t.clock.advance(100)
    expect(t.transport.counters.giveUps).toBe(1)
    expect(t.of('associated')).toHaveLength(1) // the retransmissions were duplicates to the bridge: processed once
    expect(t.bridge.counters.requests).toBe(1)
  })

  it('silent bridge: the VSI fails after respWaitDelay with a clear reason', () => {
    const t = backToBack({bridge: {faults: {dropResponseRate: 1}}})
    t.station.associate(dfaRequest(8))
    t.clock.advance(RESP_WAIT - 1)
    expect(t.events).toHaveLength(0)
    t.clock.advance(2)
    expect(t.events).toEqual([
      expect.objectContaining({type: 'failed', operation: 'assoc', reason: 'timeout', state: 'removed', hard: false}),
    ])
    const text = t.events[0].type === 'failed' ? t.events[0].text : ''
    expect(text).toContain('no VDP response within 15.76 s (respWaitDelay for R=3, RTE=8, RWD=20)')
    expect(text).toContain('the bridge acknowledged the ECPDU but sent no VDP response')
    expect(t.station.size).toBe(0)
  })

  it('dead link: the reason says ECP got no acknowledgement', () => {
    const t = backToBack()
    t.link.up = false
    t.station.associate(dfaRequest(9))
    t.clock.advance(RESP_WAIT + 1)
    const failed = t.of('failed')[0]
    expect(failed.type === 'failed' && failed.text).toMatch(
      /no ECP acknowledgement for sequence 1 after 4 transmissions 2.56 ms apart/,
    )
  })

  it('reject with a code: failed with the text, hard and keep bits', () => {
    const t = backToBack({bridge: {faults: {reject: {code: 2, hard: true}}}})
    t.station.associate(dfaRequest(10))
    t.clock.advance(1)
    expect(t.events).toEqual([
      expect.objectContaining({
        type: 'failed',
        operation: 'assoc',
        reason: 'rejected',
        code: 2,
        hard: true,
        keep: false,
        state: 'removed',
      }),
    ])
    expect(t.events[0].type === 'failed' && t.events[0].text).toContain(
      'the bridge rejected assoc: insufficient resources at the bridge (error 2, hard)',
    )
    // As lldpad's bridge does, the error travels in a De-Associate TLV (status 0x52 here).
    const answer = decodeVdpdu(t.vdpRequests('bridge')[0].frame.ulpdu).tlvs[1]
    expect(answer).toMatchObject({mode: 'deassoc', status: {kind: 'response', error: 2, hard: true, keep: false}})
  })

  it('reject only the matching VSIs of a batch', () => {
    const t = backToBack({bridge: {faults: {reject: {code: 5, match: {vsiids: [vsiidFor(12)]}}}}})
    t.station.associateMany([dfaRequest(11), dfaRequest(12), dfaRequest(13)])
    t.clock.advance(1)
    expect(t.of('associated').map((e) => e.key)).toEqual([
      'uuid:00000000-0000-4000-8000-00000000000b',
      'uuid:00000000-0000-4000-8000-00000000000d',
    ])
    expect(t.of('failed')).toEqual([
      expect.objectContaining({
        code: 5,
        text: expect.stringContaining('invalid VID, group ID or MAC address (error 5, soft)'),
      }),
    ])
  })

  it('a Keep error on a keep-alive leaves the VSI associated', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(14))
    t.clock.advance(1)
    t.bridge.setFaults({reject: {code: 3, keep: true}})
    t.clock.advance(RKA + 1)
    expect(t.of('failed')).toEqual([
      expect.objectContaining({operation: 'keepalive', code: 3, keep: true, state: 'associated', reason: 'rejected'}),
    ])
    expect(t.station.get(vsiidFor(14))).toMatchObject({state: 'associated', vids: [3628]})
    t.bridge.setFaults({})
    t.clock.advance(RKA + 1)
    expect(t.of('failed')).toHaveLength(1)
  })

  it('a Keep error to a brand-new VSI leaves nothing to keep: removed', () => {
    const t = backToBack({bridge: {faults: {reject: {code: 4, keep: true}}}})
    t.station.associate(dfaRequest(15))
    t.clock.advance(1)
    expect(t.of('failed')).toEqual([
      expect.objectContaining({keep: true, state: 'removed', text: expect.stringContaining('other failure')}),
    ])
  })

  it('unsolicited De-Associate from the bridge', () => {
    const t = backToBack()
    t.station.associateMany([dfaRequest(16), dfaRequest(17)])
    t.clock.advance(1)
    expect(t.bridge.deassociate([vsiidFor(16), vsiidFor(17)])).toBe(2)
    t.clock.advance(1)
    expect(t.of('deassociated')).toEqual([
      expect.objectContaining({initiator: 'bridge', reasonCode: 0, text: 'the bridge de-associated the VSI'}),
      expect.objectContaining({initiator: 'bridge'}),
    ])
    expect(t.station.size).toBe(0)
    expect(t.vdpRequests('bridge')).toHaveLength(2) // one batched response, one batched De-Associate
  })

  it('the processor can re-associate from the event listener', () => {
    const t = backToBack()
    t.station.setListener((e) => {
      t.events.push(e)
      if (e.type === 'deassociated' && e.initiator === 'bridge') t.station.associate(dfaRequest(18))
    })
    t.station.associate(dfaRequest(18))
    t.clock.advance(1)
    t.bridge.deassociate(vsiidFor(18))
    t.clock.advance(1)
    expect(t.events.map((e) => e.type)).toEqual(['associated', 'deassociated', 'associated'])
    expect(t.station.counters.listenerErrors).toBe(0)
  })

  it('VLAN change: adopted at the next keep-alive and reported once', () => {
    const t = backToBack()
    t.station.associateMany([dfaRequest(19, 5000), dfaRequest(20, 5000), dfaRequest(21, 6000)])
    t.clock.advance(1)
    expect(t.bridge.changeVlan({groupId: 5000}, 777)).toBe(2)
    t.clock.advance(RKA + 1)
    const before = segmentVid(5000) // 907
    expect(t.of('vlan-changed')).toEqual([
      expect.objectContaining({key: 'uuid:00000000-0000-4000-8000-000000000013', from: [before], to: [777]}),
      expect.objectContaining({key: 'uuid:00000000-0000-4000-8000-000000000014', from: [before], to: [777]}),
    ])
    t.clock.advance(2 * RKA)
    expect(t.of('vlan-changed')).toHaveLength(2)
    expect(t.station.get(vsiidFor(19))?.vids).toEqual([777])
    expect(t.bridge.get(vsiidFor(19))?.vids).toEqual([777])
    expect(t.station.counters.vlanChanges).toBe(2)
    // A new VSI of that group gets the new VLAN straight away.
    t.station.associate(dfaRequest(22, 5000))
    t.clock.advance(1)
    expect(t.of('associated').at(-1)).toMatchObject({vids: [777]})
  })

  it('VLAN change of one VSI', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(23))
    t.clock.advance(1)
    t.bridge.changeVlan(vsiidFor(23), 42)
    t.clock.advance(RKA + 1)
    expect(t.of('vlan-changed')).toEqual([expect.objectContaining({from: [3628], to: [42]})])
  })

  it('the bridge expires a VSI that stops refreshing and tells the station', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(24))
    t.clock.advance(1)
    t.link.up = false
    t.clock.advance(toutKeepAlive(3, 8, 20) + 1)
    expect(t.bridge.counters.expired).toBe(1)
    expect(t.bridge.counters.unsolicitedDeassociations).toBe(1) // lost on the dead link
    expect(t.bridge.size).toBe(0)
    t.clock.advance(RESP_WAIT) // the station's keep-alive, sent at T(RKA), goes unanswered
    expect(t.of('failed')).toEqual([
      expect.objectContaining({operation: 'keepalive', reason: 'timeout', state: 'removed'}),
    ])
  })

  it('response delay below respWaitDelay is just latency', () => {
    const t = backToBack({bridge: {faults: {responseDelayMs: 5000}}})
    t.station.associate(dfaRequest(25))
    t.clock.advance(4999)
    expect(t.events).toHaveLength(0)
    t.clock.advance(2)
    expect(t.of('associated')).toHaveLength(1)
  })
})

describe('station ⇄ bridge: local request ordering', () => {
  it('a De-Associate asked while the Associate is on the wire waits for its answer', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(30))
    expect(t.station.deassociate(vsiidFor(30))).toMatchObject({state: 'associating', deferred: 'deassoc'})
    t.clock.advance(1)
    expect(t.events.map((e) => e.type)).toEqual(['associated', 'deassociated'])
    expect(t.bridge.size).toBe(0)
  })

  it('a new identity for a live VSI (another MAC) de-associates the old one first', () => {
    const t = backToBack()
    t.station.associate(dfaRequest(35))
    t.clock.advance(1)
    const moved = dfaRequest(35)
    const entry = {...moved.filter.entries[0], mac: '52:54:00:99:99:99'}
    t.station.associate({...moved, filter: {format: 4, entries: [entry]}})
    expect(t.station.get(vsiidFor(35))).toMatchObject({state: 'deassociating', deferred: 'assoc'})
    t.clock.advance(1)
    expect(t.events.map((e) => e.type)).toEqual(['associated', 'deassociated', 'associated'])
    expect(t.bridge.get(vsiidFor(35))?.filter.entries[0].mac).toBe('52:54:00:99:99:99')
  })

  it('a VSI withdrawn before it was sent costs nothing on the wire', () => {
    const t = backToBack({station: {peer: {maxVsisPerPdu: 1, maxPdusAwaitingResponse: 1, endTlv: true}}})
    t.station.associateMany([dfaRequest(31), dfaRequest(32)])
    expect(t.station.get(vsiidFor(32))?.pending).toBe('queued')
    expect(t.station.deassociate(vsiidFor(32))).toBeUndefined()
    t.clock.advance(1)
    expect(t.events).toEqual([
      expect.objectContaining({type: 'deassociated', initiator: 'station', text: 'withdrawn before anything was sent'}),
      expect.objectContaining({type: 'associated'}),
    ])
    expect(t.vdpRequests('station')).toHaveLength(1)
  })

  it('refuses what it cannot do, with typed errors and nothing sent', () => {
    const t = backToBack()
    expect(() => t.station.deassociate(vsiidFor(99))).toThrow(expect.objectContaining({code: 'VSI_UNKNOWN'}))
    expect(() => t.station.associate(dfaRequest(33, 20000, 1))).toThrow(
      expect.objectContaining({code: 'VSI_INVALID_REQUEST'}),
    )
    expect(() =>
      t.station.associate({
        ...dfaRequest(33),
        filter: {format: 4, entries: [{ps: false, pcp: 0, vid: 0, mac: 'ff:ff:ff:ff:ff:ff', groupId: 1}]},
      }),
    ).toThrow(/unicast MAC/)
    const entries = Array.from({length: 40}, (_, i) => ({
      ps: false,
      pcp: 0,
      vid: 0,
      mac: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`,
      groupId: 1,
    }))
    const big = {...dfaRequest(34), filter: {format: 4 as const, entries}}
    const name = ciscoTlvs(vsiidFor(34), {name: 'x'.repeat(100), ipv4: '10.0.0.1'})
    t.station.associate(big) // 505 octets: fits
    expect(() =>
      t.station.associate({
        ...dfaRequest(35),
        org: [...name, ...name, ...name, ...name, ...name, ...name, ...name, ...name, ...name, ...name],
      }),
    ).toThrow(expect.objectContaining({code: 'VSI_TOO_LARGE'}))
    const bulk = t.station.associateMany([dfaRequest(36), dfaRequest(37, 20000, 4095)])
    expect(bulk.accepted).toHaveLength(1)
    expect(bulk.rejected[0].error.code).toBe('VSI_INVALID_REQUEST')
  })

  it('bounds the VSI table', () => {
    const t = backToBack({station: {maxVsis: 2}})
    t.station.associateMany([dfaRequest(40), dfaRequest(41)])
    expect(() => t.station.associate(dfaRequest(42))).toThrow(expect.objectContaining({code: 'VSI_TABLE_FULL'}))
  })
})

describe('station ⇄ bridge: bulk', () => {
  it('associates 4,000 VSIs in ⌈4000 / 37⌉ = 109 ECPDUs each way, and keeps them alive in as many', () => {
    const t = backToBack()
    const result = t.station.associateMany(Array.from({length: 4000}, (_, i) => dfaRequest(1000 + i, 10000 + (i % 50))))
    expect(result.rejected).toHaveLength(0)
    t.clock.advance(1000)
    expect(t.of('associated')).toHaveLength(4000)
    // A format-4 VSI TLV with one entry is 2 + 25 + 12 = 39 octets; (1494 − 18) / 39 → 37 per VDPDU.
    expect(t.station.counters.pdusSent).toBe(109)
    expect(t.bridge.counters.pdusSent).toBe(109)
    expect(t.vdpRequests('station')).toHaveLength(109)
    expect(Math.max(...t.vdpRequests('station').map((w) => w.frame.ulpdu.length))).toBeLessThanOrEqual(1496)
    t.clock.advance(RKA)
    expect(t.station.counters.keepalivesSent).toBe(4000)
    expect(t.station.counters.pdusSent).toBe(2 * 109)
    expect(t.events).toHaveLength(4000)
  })

  it('with the Cisco org TLVs each VSI takes 115 octets: 12 per VDPDU, 334 ECPDUs', () => {
    const t = backToBack()
    const requests = Array.from({length: 4000}, (_, i) =>
      dfaRequest(1000 + i, 20000, 0, {
        org: ciscoTlvs(vsiidFor(1000 + i), {
          name: `vm-${String(i).padStart(4, '0')}`,
          uuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da',
          ipv4: '10.0.0.1',
        }),
      }),
    )
    t.station.associateMany(requests)
    t.clock.advance(1000)
    expect(t.of('associated')).toHaveLength(4000)
    expect(t.station.counters.pdusSent).toBe(Math.ceil(4000 / 12))
  })

  it('with the lldpad peer profile only one VDPDU is unanswered at a time', () => {
    const evb = {retries: 3, rte: 14, rwd: 20, rka: 20}
    const peer = lldpadPeerProfile(evb)
    expect(peer).toEqual({
      maxVsisPerPdu: 53,
      maxPdusAwaitingResponse: 1,
      parseGraceMs: 50,
      maxVsisAwaitingResponse: 53,
      deassocLingerMs: 1.5 * toutKeepAlive(3, 14, 20),
      fullKeepaliveWait: true,
      endTlv: true,
    }) // ⌊17.45 s / (2 × 163.84 ms)⌋
    const t = backToBack({evb, station: {peer}, bridge: {faults: {responseDelayMs: 3}}})
    t.station.associateMany(Array.from({length: 120}, (_, i) => dfaRequest(i + 1)))
    t.clock.advance(10_000)
    expect(t.of('associated')).toHaveLength(120)
    const order = t.wire.filter((w) => w.frame.operation === 'request').map((w) => w.from)
    // 120 VSIs → 37 + 37 + 37 + 9 (MTU-bound): each VDPDU is answered before the next leaves.
    expect(order).toEqual(['station', 'bridge', 'station', 'bridge', 'station', 'bridge', 'station', 'bridge'])
    expect(decodeVdpdu(t.vdpRequests('station')[0].frame.ulpdu).tlvs).toHaveLength(1 + 37)
  })
})
