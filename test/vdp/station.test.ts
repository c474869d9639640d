import {describe, expect, it} from 'vitest'
import {ManualClock} from '../../src/core/clock.js'
import {decodeEcpFrame, encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {EcpTransport} from '../../src/vdp/ecp-transport.js'
import {managerIdFromText, NULL_MANAGER_ID} from '../../src/vdp/manager-id.js'
import {VdpStation, type VsiEvent} from '../../src/vdp/station.js'
import {LLDPAD_DEFAULT_EVB, respWaitDelay} from '../../src/vdp/timers.js'
import {decodeVdpdu, encodeVdpdu, type VsiTlv} from '../../src/vdp/vdp-codec.js'
import {uuidVsiid} from '../../src/vdp/vsiid.js'
import type {VsiRequest} from '../../src/vdp/vsi-request.js'
import {ASSOC_DEASSOC_PCAP, BRIDGE_MAC, ecpFrames, STATION_MAC} from './helpers/corpus.js'
import {dfaRequest, vsiidFor} from './helpers/link.js'

/** A station whose peer is scripted by the test: frames it sends are collected, frames we craft are fed in. */
function scripted(options: {padFrames?: boolean; endTlv?: boolean} = {}) {
  const clock = new ManualClock()
  const sent: Buffer[] = []
  const events: VsiEvent[] = []
  const transport = new EcpTransport({
    clock,
    send: (f) => sent.push(f),
    localMac: STATION_MAC,
    params: {retries: 3, rte: 8},
    firstSequence: 1,
    padFrames: options.padFrames ?? true,
  })
  const station = new VdpStation({
    clock,
    transport,
    evb: LLDPAD_DEFAULT_EVB,
    peer: {maxVsisPerPdu: Infinity, maxPdusAwaitingResponse: 8, endTlv: options.endTlv ?? true},
    onEvent: (e) => events.push(e),
  })
  let bridgeSeq = 0
  const lastRequest = () => {
    const requests = sent.map((f) => decodeEcpFrame(f)).filter((f) => f.operation === 'request')
    return requests[requests.length - 1]
  }
  /** ACK the station's last request and answer with `tlvs` under `managerId`. */
  const reply = (tlvs: VsiTlv[], managerId = NULL_MANAGER_ID) => {
    const req = lastRequest()
    transport.receive(
      encodeEcpFrame({dst: STATION_MAC, src: BRIDGE_MAC, operation: 'ack', subtype: 1, sequence: req.sequence}),
    )
    transport.receive(
      encodeEcpFrame({
        dst: STATION_MAC,
        src: BRIDGE_MAC,
        operation: 'request',
        subtype: 1,
        sequence: ++bridgeSeq,
        ulpdu: encodeVdpdu([{kind: 'manager-id', managerId}, ...tlvs]),
      }),
    )
  }
  const sentVsiTlvs = () => decodeVdpdu(lastRequest().ulpdu).tlvs.filter((t): t is VsiTlv => t.kind === 'vsi')
  return {clock, sent, events, transport, station, reply, sentVsiTlvs}
}

const response = (tlv: VsiTlv, changes: Partial<VsiTlv> = {}): VsiTlv => ({
  ...tlv,
  status: {kind: 'response', keep: false, hard: false, error: 0},
  ...changes,
})

describe('VdpStation speaks lldpad byte for byte (assoc/deassoc capture replay)', () => {
  it('sends the frames lldpad sent, accepts the bridge frames lldpad received, and ACKs them identically', () => {
    const capture = ecpFrames(ASSOC_DEASSOC_PCAP).map((r) => r.frame)
    const t = scripted({padFrames: false, endTlv: false})
    const request: VsiRequest = {
      typeId: 4711,
      typeVersion: 1,
      vsiid: uuidVsiid('a7b5c4d2-1111-4222-8333-123456789abc'),
      filter: {format: 2, entries: [{ps: false, pcp: 0, vid: 100, mac: '52:54:00:aa:bb:01'}]},
    }
    t.station.associate(request)
    expect(t.sent[0].toString('hex')).toBe(capture[0].toString('hex'))
    t.transport.receive(capture[1]) // bridge ACK
    t.transport.receive(capture[2]) // bridge response, status 0x40
    expect(t.sent[1].toString('hex')).toBe(capture[3].toString('hex')) // our ACK, 18 octets like lldpad's
    expect(t.events).toEqual([expect.objectContaining({type: 'associated', vids: [100], requestedVids: [100]})])
    t.station.deassociate(request.vsiid)
    expect(t.sent[2].toString('hex')).toBe(capture[4].toString('hex'))
    t.transport.receive(capture[5])
    t.transport.receive(capture[6])
    expect(t.sent[3].toString('hex')).toBe(capture[7].toString('hex'))
    expect(t.events[1]).toMatchObject({type: 'deassociated', initiator: 'station'})
  })
})

describe('VdpStation response handling', () => {
  it('a response whose MAC differs fails the VSI with error 5, as lldpad does', () => {
    const t = scripted()
    t.station.associate(dfaRequest(1))
    const [sent] = t.sentVsiTlvs()
    t.reply([response(sent, {filter: {format: 4, entries: [{...sent.filter.entries[0], mac: '52:54:00:00:00:99'}]}})])
    expect(t.events).toEqual([
      expect.objectContaining({
        type: 'failed',
        reason: 'mismatch',
        code: 5,
        state: 'removed',
        text: expect.stringContaining('entry 1 MAC 52:54:00:00:00:99 instead of 52:54:00:00:00:01'),
      }),
    ])
  })

  it('ignores TLVs about other VSIs (other manager, type or VSIID) and keeps waiting', () => {
    const t = scripted()
    t.station.associate(dfaRequest(2))
    const [sent] = t.sentVsiTlvs()
    t.reply([response(sent)], managerIdFromText('openstack1'))
    t.reply([response(sent, {typeId: 9}), response(sent, {vsiid: vsiidFor(77)})])
    expect(t.events).toHaveLength(0)
    expect(t.station.counters.unmatched).toBe(3)
    expect(t.station.get(vsiidFor(2))?.pending).toBe('awaiting-response')
    t.reply([response(sent)])
    expect(t.events).toHaveLength(1)
  })

  it('answers from many VSIs in one VDPDU, in any order', () => {
    const t = scripted()
    t.station.associateMany([dfaRequest(3), dfaRequest(4), dfaRequest(5)])
    const sent = t.sentVsiTlvs()
    expect(sent).toHaveLength(3)
    t.reply(
      [response(sent[2]), response(sent[0]), response(sent[1])].map((r, i) => ({
        ...r,
        filter: {format: 4 as const, entries: [{...r.filter.entries[0], vid: 10 + i}]},
      })),
    )
    expect(t.events.map((e) => e.type === 'associated' && [e.key.slice(-1), e.vids[0]])).toEqual([
      ['5', 10],
      ['3', 11],
      ['4', 12],
    ])
  })

  it('ignores a response that comes after the timeout (the VSI is gone)', () => {
    const t = scripted()
    t.station.associate(dfaRequest(6))
    const [sent] = t.sentVsiTlvs()
    t.clock.advance(respWaitDelay(3, 8, 20) + 1)
    expect(t.events[0]).toMatchObject({type: 'failed', reason: 'timeout'})
    t.reply([response(sent)])
    expect(t.station.counters.unmatched).toBe(1) // the VSI is gone
  })

  it('an Associate answered with a successful De-Associate ends the VSI, initiated by the bridge', () => {
    const t = scripted()
    t.station.associate(dfaRequest(7))
    const [sent] = t.sentVsiTlvs()
    t.reply([response(sent, {mode: 'deassoc'})])
    expect(t.events).toEqual([
      expect.objectContaining({
        type: 'deassociated',
        initiator: 'bridge',
        text: 'the bridge answered the assoc request with De-Associate',
      }),
    ])
  })

  it('while De-Associating, a late Associate answer is stale and a Keep error leaves it associated', () => {
    const t = scripted()
    t.station.associate(dfaRequest(8))
    const [assoc] = t.sentVsiTlvs()
    t.reply([response(assoc, {filter: {format: 4, entries: [{...assoc.filter.entries[0], vid: 300}]}})])
    t.station.deassociate(vsiidFor(8))
    const [deassoc] = t.sentVsiTlvs()
    expect(deassoc).toMatchObject({mode: 'deassoc', filter: {entries: [{vid: 300}]}})
    t.reply([response(assoc)])
    expect(t.station.counters.staleResponses).toBe(1)
    t.reply([response(deassoc, {status: {kind: 'response', keep: true, hard: false, error: 4}})])
    expect(t.events.at(-1)).toMatchObject({type: 'failed', operation: 'deassoc', keep: true, state: 'associated'})
    expect(t.station.get(vsiidFor(8))).toMatchObject({state: 'associated', vids: [300]})
  })

  it('ignores bridge requests other than De-Associate, and counts malformed VDPDUs', () => {
    const t = scripted()
    t.station.associate(dfaRequest(9))
    const [sent] = t.sentVsiTlvs()
    t.reply([sent]) // a request-status Associate from the bridge
    expect(t.station.counters.ignoredRequests).toBe(1)
    t.transport.receive(
      encodeEcpFrame({
        dst: STATION_MAC,
        src: BRIDGE_MAC,
        operation: 'request',
        subtype: 1,
        sequence: 50,
        ulpdu: Buffer.from('0a0f00', 'hex'),
      }),
    )
    expect(t.station.counters.malformedPdus).toBe(1)
  })

  it('an unsolicited De-Associate carrying a reason code reports it', () => {
    const t = scripted()
    t.station.associate(dfaRequest(10))
    const [sent] = t.sentVsiTlvs()
    t.reply([response(sent)])
    t.reply([
      {...sent, mode: 'deassoc', status: {kind: 'request', migratingTo: false, migratingFrom: false, reason: 2}},
    ])
    expect(t.events.at(-1)).toMatchObject({
      type: 'deassociated',
      initiator: 'bridge',
      reasonCode: 2,
      text: expect.stringContaining('insufficient resources'),
    })
  })

  it('uses renegotiated EVB values for later deadlines', () => {
    const t = scripted()
    t.station.setParams({retries: 3, rte: 8, rwd: 14, rka: 20})
    expect(t.transport.ecpParams).toEqual({retries: 3, rte: 8})
    t.station.associate(dfaRequest(11))
    const wait = respWaitDelay(3, 8, 14)
    expect(t.station.get(vsiidFor(11))?.deadline).toBeCloseTo(wait, 6)
    t.clock.advance(wait + 0.01)
    expect(t.events[0]).toMatchObject({type: 'failed', text: expect.stringContaining('RWD=14')})
  })

  it('ends every VDPDU with an End TLV unless told not to', () => {
    const t = scripted()
    t.station.associate(dfaRequest(12))
    const ulpdu = decodeEcpFrame(t.sent[0]).ulpdu
    expect(decodeVdpdu(ulpdu).endTlv).toBe(true)
    expect(ulpdu.subarray(18 + 39, 18 + 41).toString('hex')).toBe('0000')
  })

  it('lists VSIs with their state for status output', () => {
    const t = scripted()
    t.station.associateMany([dfaRequest(13), dfaRequest(14)])
    const [a] = t.sentVsiTlvs()
    t.reply([response(a, {filter: {format: 4, entries: [{...a.filter.entries[0], vid: 55}]}})])
    expect(t.station.list()).toEqual([
      expect.objectContaining({
        key: 'uuid:00000000-0000-4000-8000-00000000000d',
        state: 'associated',
        vids: [55],
        managerId: '0',
      }),
      expect.objectContaining({state: 'associating', pending: 'awaiting-response', operation: 'assoc', vids: [0]}),
    ])
    t.station.close()
    expect(t.station.size).toBe(0)
    expect(() => t.station.associate(dfaRequest(15))).toThrow(expect.objectContaining({code: 'STATION_CLOSED'}))
  })
})
