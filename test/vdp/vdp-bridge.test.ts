import {describe, expect, it} from 'vitest'
import {
  seededRandom,
  segmentVid,
  VdpBridge,
  VdpBridgeError,
  type BridgeEvent,
  type VdpBridgeOptions,
} from '../../src/lab/vdp-bridge.js'
import {ManualClock} from '../../src/core/clock.js'
import {decodeEcpFrame, encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {managerIdFromText, NULL_MANAGER_ID} from '../../src/vdp/manager-id.js'
import {LLDPAD_DEFAULT_EVB} from '../../src/vdp/timers.js'
import {decodeVdpdu, encodeVdpdu, type VsiTlv} from '../../src/vdp/vdp-codec.js'
import type {FilterEntry} from '../../src/vdp/vsi-filter.js'
import {BRIDGE, macFor, STATION, vsiidFor} from './helpers/link.js'

function bridgeUnderTest(options: Partial<VdpBridgeOptions> = {}) {
  const clock = new ManualClock()
  const sent: Buffer[] = []
  const events: BridgeEvent[] = []
  const bridge = new VdpBridge({
    clock,
    send: (f) => sent.push(f),
    localMac: BRIDGE,
    evb: LLDPAD_DEFAULT_EVB,
    onEvent: (e) => events.push(e),
    ...options,
  })
  let seq = 0
  /** Send one VDPDU from the station; returns the VSI TLVs of the bridge's VDP answers. */
  const request = (tlvs: VsiTlv[], managerId = NULL_MANAGER_ID) => {
    const before = sent.length
    bridge.receive(
      encodeEcpFrame({
        dst: BRIDGE,
        src: STATION,
        operation: 'request',
        subtype: 1,
        sequence: ++seq,
        ulpdu: encodeVdpdu([{kind: 'manager-id', managerId}, ...tlvs]),
      }),
    )
    return answers(before)
  }
  /** The bridge's VDPDUs sent since index `from`, ACKing each so the next one (stop-and-wait) follows. */
  const answers = (from: number) => {
    const out: {managerId: Buffer; endTlv: boolean; tlvs: VsiTlv[]}[] = []
    for (let i = from; i < sent.length; i++) {
      const frame = decodeEcpFrame(sent[i])
      if (frame.operation !== 'request') continue
      bridge.receive(
        encodeEcpFrame({dst: BRIDGE, src: STATION, operation: 'ack', subtype: 1, sequence: frame.sequence}),
      )
      const pdu = decodeVdpdu(frame.ulpdu)
      const mgr = pdu.tlvs[0]
      out.push({
        managerId: mgr.kind === 'manager-id' ? mgr.managerId : Buffer.alloc(0),
        endTlv: pdu.endTlv,
        tlvs: pdu.tlvs.filter((t): t is VsiTlv => t.kind === 'vsi'),
      })
    }
    return out
  }
  return {clock, sent, events, bridge, request, answers}
}

function assoc(n: number, entries: Partial<FilterEntry>[] = [{}], mode: VsiTlv['mode'] = 'assoc'): VsiTlv {
  return {
    kind: 'vsi',
    mode,
    status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 0},
    typeId: 7,
    typeVersion: 0,
    vsiid: vsiidFor(n),
    filter: {
      format: 4,
      entries: entries.map((e, i) => ({ps: false, pcp: 0, vid: 0, mac: macFor(n * 16 + i), groupId: 30000, ...e})),
    },
  }
}

describe('VdpBridge', () => {
  it('maps segment ids into 2..4094 (identity inside the range)', () => {
    expect([2, 100, 4094, 4095, 4096, 1, 0, 20000].map(segmentVid)).toEqual([2, 100, 4094, 2, 3, 4094, 4093, 3628])
  })

  it('answers a batch with one VDPDU: the same manager, status 0x40, assigned VIDs, End TLV', () => {
    const b = bridgeUnderTest()
    const mgr = managerIdFromText('openstack1')
    const [answer, ...more] = b.request([assoc(1), assoc(2, [{groupId: 100}]), assoc(3, [{vid: 55}])], mgr)
    expect(more).toHaveLength(0)
    expect(answer.managerId.equals(mgr)).toBe(true)
    expect(answer.endTlv).toBe(true)
    expect(answer.tlvs.map((t) => [t.mode, t.status, t.filter.entries[0].vid])).toEqual([
      ['assoc', {kind: 'response', keep: false, hard: false, error: 0}, segmentVid(30000)],
      ['assoc', {kind: 'response', keep: false, hard: false, error: 0}, 100],
      ['assoc', {kind: 'response', keep: false, hard: false, error: 0}, 55],
    ])
    expect(b.bridge.size).toBe(3)
    expect(b.events.map((e) => e.type)).toEqual(['associated', 'associated', 'associated'])
  })

  it('batches unsolicited De-Associates, split at the MTU (37 format-4 TLVs per VDPDU)', () => {
    const b = bridgeUnderTest()
    const vsis = Array.from({length: 80}, (_, i) => assoc(i + 1))
    for (let i = 0; i < 80; i += 20) b.request(vsis.slice(i, i + 20))
    const before = b.sent.length
    expect(b.bridge.deassociate(vsis.map((t) => t.vsiid))).toBe(80)
    const pdus = b.answers(before)
    expect(pdus.map((p) => p.tlvs.length)).toEqual([37, 37, 6])
    expect(pdus[0].tlvs[0]).toMatchObject({mode: 'deassoc', status: {kind: 'request', reason: 0}})
    expect(b.bridge.size).toBe(0)
  })

  it('sends TLVs in the order given, one VDPDU per run of one manager (A, B, A: three VDPDUs)', () => {
    const b = bridgeUnderTest()
    const [a, bee] = [managerIdFromText('managerA'), managerIdFromText('managerB')]
    b.request([assoc(1), assoc(2)], a)
    b.request([assoc(3)], bee)
    b.request([assoc(4)], a)
    const counted = b.bridge.counters
    const before = b.sent.length
    expect(b.bridge.deassociate([1, 3, 2, 4].map((n) => vsiidFor(n)))).toBe(4)
    const pdus = b.answers(before)
    expect(pdus.map((p) => [p.managerId.toString(), p.tlvs.map((t) => t.vsiid), p.endTlv])).toEqual([
      [a.toString(), [vsiidFor(1)], true],
      [bee.toString(), [vsiidFor(3)], true],
      [a.toString(), [vsiidFor(2), vsiidFor(4)], true],
    ])
    expect(b.bridge.counters.pdusSent - counted.pdusSent).toBe(3)
    expect(b.bridge.counters.tlvsSent - counted.tlvsSent).toBe(4)
  })

  it('fills a VDPDU up to the MTU exactly: Manager ID + VSI TLVs ≤ MTU − 6, End TLV on top', () => {
    // Manager ID TLV 18 octets, a one-entry format-4 VSI TLV 39: MTU 999 holds 18 + 25 · 39 = 993 = 999 − 6.
    const perPdu = (mtu: number) => {
      const b = bridgeUnderTest({mtu})
      b.request(Array.from({length: 60}, (_, i) => assoc(i + 1)))
      const frames = b.sent.map((f) => decodeEcpFrame(f)).filter((f) => f.operation === 'request')
      return frames.map((f) => [decodeVdpdu(f.ulpdu).tlvs.length - 1, decodeVdpdu(f.ulpdu).length])
    }
    expect(perPdu(999)).toEqual([
      [25, 18 + 25 * 39 + 2],
      [25, 18 + 25 * 39 + 2],
      [10, 18 + 10 * 39 + 2],
    ])
    expect(perPdu(998)).toEqual([
      [24, 18 + 24 * 39 + 2],
      [24, 18 + 24 * 39 + 2],
      [12, 18 + 12 * 39 + 2],
    ])
  })

  it('leaves the End TLV out when told (endTlv: false)', () => {
    const b = bridgeUnderTest({endTlv: false})
    const [answer] = b.request([assoc(1), assoc(2)])
    expect(answer.endTlv).toBe(false)
    expect(answer.tlvs).toHaveLength(2)
  })

  it('dropAckRate 1 withholds every ECP ACK and nothing else', () => {
    const b = bridgeUnderTest({faults: {dropAckRate: 1}})
    const answers = b.request([assoc(1)])
    expect(answers).toHaveLength(1)
    expect(b.sent.map((f) => decodeEcpFrame(f).operation)).toEqual(['request'])
    expect(b.bridge.counters.droppedAcks).toBe(1)
  })

  it('pool policy: one VID per group, shared, released with its last VSI, error 2 when exhausted', () => {
    const b = bridgeUnderTest({vlanPolicy: {kind: 'pool', from: 10, to: 11}})
    const vid = (n: number, groupId: number) => b.request([assoc(n, [{groupId}])])[0].tlvs[0]
    expect(vid(1, 500).filter.entries[0].vid).toBe(10)
    expect(vid(2, 500).filter.entries[0].vid).toBe(10)
    expect(vid(3, 600).filter.entries[0].vid).toBe(11)
    const refused = vid(4, 700)
    expect(refused).toMatchObject({mode: 'deassoc', status: {kind: 'response', error: 2, keep: false}})
    b.request([{...assoc(3, [{groupId: 600}]), mode: 'deassoc'}])
    expect(vid(5, 700).filter.entries[0].vid).toBe(11)
    // A keep-alive with the assigned VID keeps the allocation.
    expect(vid(1, 500).filter.entries[0].vid).toBe(10)
    b.request([{...assoc(1, [{groupId: 500}]), mode: 'deassoc'}])
    expect(vid(2, 500).filter.entries[0].vid).toBe(10) // still held by VSI 2
  })

  it("rejects what lldpad's checks reject: VID 1 or 4095, a multicast MAC, group 0 → error 5", () => {
    const b = bridgeUnderTest()
    const cases = [
      assoc(1, [{vid: 1}]),
      assoc(2, [{vid: 4095}]),
      assoc(3, [{mac: '01:00:5e:00:00:01'}]),
      assoc(4, [{groupId: 0}]),
    ]
    for (const tlv of cases) {
      expect(b.request([tlv])[0].tlvs[0]).toMatchObject({mode: 'deassoc', status: {error: 5, hard: true}})
    }
    expect(b.bridge.size).toBe(0)
  })

  it('answers a De-Associate for an unknown VSI with success, like lldpad', () => {
    const b = bridgeUnderTest()
    expect(b.request([assoc(9, [{}], 'deassoc')])[0].tlvs[0]).toMatchObject({
      mode: 'deassoc',
      status: {kind: 'response', error: 0},
    })
  })

  it('Keep rejections answer with the request type and leave the VSI as it was', () => {
    const b = bridgeUnderTest()
    b.request([assoc(1)])
    b.bridge.setFaults({reject: {code: 3, keep: true}})
    expect(b.request([assoc(1, [{vid: 99}])])[0].tlvs[0]).toMatchObject({
      mode: 'assoc',
      status: {error: 3, keep: true},
      filter: {entries: [{vid: segmentVid(30000)}]},
    })
    expect(b.bridge.get(vsiidFor(1))?.vids).toEqual([segmentVid(30000)])
  })

  it('refuses beyond maxVsis with error 2', () => {
    const b = bridgeUnderTest({maxVsis: 1})
    b.request([assoc(1)])
    expect(b.request([assoc(2)])[0].tlvs[0].status).toMatchObject({error: 2})
  })

  it('drops a seeded share of responses, reproducibly', () => {
    const run = () => {
      const b = bridgeUnderTest({faults: {dropResponseRate: 0.3}, random: seededRandom(42)})
      b.request(Array.from({length: 30}, (_, i) => assoc(i + 1)))
      return b.bridge.counters.droppedResponses
    }
    const first = run()
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThan(30)
    expect(run()).toBe(first)
  })

  it('ignores response-status TLVs and malformed VDPDUs', () => {
    const b = bridgeUnderTest()
    expect(b.request([{...assoc(1), status: {kind: 'response', keep: false, hard: false, error: 0}}])).toHaveLength(0)
    b.bridge.receive(
      encodeEcpFrame({
        dst: BRIDGE,
        src: STATION,
        operation: 'request',
        subtype: 1,
        sequence: 77,
        ulpdu: Buffer.from('0610', 'hex'),
      }),
    )
    expect(b.bridge.counters).toMatchObject({ignoredTlvs: 1, malformedPdus: 1})
  })

  it('validates its settings', () => {
    expect(() => bridgeUnderTest({vlanPolicy: {kind: 'pool', from: 1, to: 10}})).toThrow(VdpBridgeError)
    const b = bridgeUnderTest()
    expect(() => b.bridge.changeVlan({groupId: 1}, 4095)).toThrow(expect.objectContaining({code: 'VLAN_INVALID'}))
  })
})
