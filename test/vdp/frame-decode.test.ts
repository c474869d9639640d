/**
 * The offline ECP22/VDP22 decoder (`vdp decode`) against independent oracles: the VSI parameters the lldpad
 * captures were made with (recorded with the captures, not read back from them), lldpad's own qbg22 ECP
 * vectors (the ACK lldpad must send for each request), and Wireshark's ecp21 dissector for the ECP header
 * (stored tshark text, and tshark run now on captures it has no stored text for). Then against frames our
 * station and ToR simulator produce, checked with their own counters and tables.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ETHERTYPE_ECP, ethertypeOffset} from '../../src/core/ethernet.js'
import {PcapWriter, readPcapRecords} from '../../src/pcap/index.js'
import {encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import {EcpDecodeError} from '../../src/vdp/errors.js'
import {
  decodeEcpVdpFrame,
  EcpExchangeTracker,
  type DecodedEcpVdpFrame,
  type EcpExchange,
} from '../../src/vdp/frame-decode.js'
import {ecpFrameJson, formatEcpSummary, formatEcpTree} from '../../src/vdp/format.js'
import {managerIdText} from '../../src/vdp/manager-id.js'
import {encodeVdpdu, type VsiTlv} from '../../src/vdp/vdp-codec.js'
import {uuidVsiid, vsiidKey} from '../../src/vdp/vsiid.js'
import {
  ASSOC_DEASSOC_PCAP,
  BRIDGE_MAC,
  CORPUS,
  ECP22_VECTORS,
  KEEPALIVE_PCAP,
  LLDPD_PLUS_LLDPAD_PCAP,
  STATION_MAC,
} from './helpers/corpus.js'
import {HAVE_THIRD_PARTY, thirdPartyPath} from '../helpers/corpus.js'
import {backToBack, dfaRequest, vsiidFor} from './helpers/link.js'
import {parseTsharkEcp, tsharkEcpLive, type TsharkEcpHeader} from './helpers/tshark-ecp.js'

const HAVE_CORPUS = existsSync(ASSOC_DEASSOC_PCAP)
if (!HAVE_CORPUS) console.log(`skipping the corpus oracles of vdp decode: ${CORPUS} is absent`)

interface Decoded {
  number: number
  timeNs: bigint
  frame: DecodedEcpVdpFrame
  exchange: EcpExchange
}

/** Decode every ECP frame of a capture the way `vdp decode` does. */
async function decodeCapture(path: string): Promise<{frames: Decoded[]; tracker: EcpExchangeTracker}> {
  const tracker = new EcpExchangeTracker()
  const frames: Decoded[] = []
  let number = 0
  for await (const r of readPcapRecords(path)) {
    number++
    if (ethertypeOffset(r.data, ETHERTYPE_ECP) < 0) continue
    const frame = decodeEcpVdpFrame(Buffer.from(r.data))
    frames.push({number, timeNs: r.timestampNs, frame, exchange: tracker.observe(number, r.timestampNs, frame)})
  }
  return {frames, tracker}
}

function vsiTlvs(d: Decoded): VsiTlv[] {
  return (d.frame.vdp?.tlvs ?? []).filter((t): t is VsiTlv => t.kind === 'vsi')
}

const ops = ['request', 'ack', 'reserved-2', 'reserved-3']

/** Oracle facts checked, for the report line at the end. */
const agreed: Record<string, number> = {}
const agree = (oracle: string, n = 1) => (agreed[oracle] = (agreed[oracle] ?? 0) + n)
afterAll(() => console.log(`vdp decode oracle agreement: ${JSON.stringify(agreed)}`))

describe.skipIf(!HAVE_CORPUS)('vdp decode against the VSI parameters the lldpad captures were made with', () => {
  // docs/vdp.md and the corpus notes: vdptool assoc/deassoc with mgrid2=0 typeid=4711 typeidver=1,
  // uuid a7b5c4d2-1111-4222-8333-123456789abc, filter 100-52:54:00:aa:bb:01 (format 2, MAC/VID).
  it('assoc/deassoc: type ID 4711 v1, the UUID, MAC/VID 52:54:00:aa:bb:01 VID 100, every request ACKed and answered', async () => {
    const {frames, tracker} = await decodeCapture(ASSOC_DEASSOC_PCAP)
    const vdp = frames.filter((d) => d.frame.vdp)
    expect(
      vdp.map((d) =>
        vsiTlvs(d)
          .map((t) => `${t.mode} ${t.status.kind}`)
          .join(),
      ),
    ).toEqual(['assoc request', 'assoc response', 'deassoc request', 'deassoc response'])
    for (const d of vdp) {
      const manager = d.frame.vdp!.tlvs[0]
      expect(manager.kind === 'manager-id' && managerIdText(manager.managerId)).toBe('0')
      const [t] = vsiTlvs(d)
      expect(t).toMatchObject({
        typeId: 4711,
        typeVersion: 1,
        vsiid: {format: 'uuid', uuid: 'a7b5c4d2-1111-4222-8333-123456789abc'},
      })
      expect(t.filter).toEqual({format: 2, entries: [{ps: false, pcp: 0, vid: 100, mac: '52:54:00:aa:bb:01'}]})
      if (t.status.kind === 'response') expect(t.status).toMatchObject({error: 0, hard: false, keep: false})
      agree('lldpad capture parameters', 8)
    }
    expect(vdp.filter((d) => d.frame.src === STATION_MAC)).toHaveLength(2)
    expect(tracker.totals()).toEqual({
      requests: 4,
      retransmissions: 0,
      acks: 4,
      unmatchedAcks: 0,
      unacknowledged: 0,
      answered: 2,
    })
    agree('lldpad capture parameters', 2)
  })

  // Corpus notes: several assocs (VID 0 and 100, type IDs 205 and 208) and a deassoc, keep-alives about every
  // 10.5 s, then the bridge is killed and the station's assocs are retransmitted 4× at 164 ms with no ACK.
  it('keep-alive and bridge loss: keep-alives ~10.5 s apart, the last requests sent 4 times 164 ms apart, never ACKed', async () => {
    const {frames, tracker} = await decodeCapture(KEEPALIVE_PCAP)
    const requests = frames.filter((d) => d.frame.src === STATION_MAC && d.frame.operation === 'request')
    const tlvs = requests.flatMap(vsiTlvs)
    expect([...new Set(tlvs.map((t) => t.typeId))]).toEqual(expect.arrayContaining([205, 208]))
    expect([...new Set(tlvs.flatMap((t) => t.filter.entries.map((e) => e.vid)))].sort()).toEqual([0, 100])
    expect(tlvs.filter((t) => t.mode === 'deassoc')).toHaveLength(1)
    agree('lldpad capture parameters', 3)

    // Keep-alives: the same VSI re-associated (a new sequence number, not a retransmission) while answered.
    const firstTransmissions = requests.filter((d) => d.exchange.transmission === 1)
    const byVsi = new Map<string, bigint[]>()
    for (const d of firstTransmissions)
      for (const t of vsiTlvs(d))
        if (t.mode === 'assoc') byVsi.set(vsiidKey(t.vsiid), [...(byVsi.get(vsiidKey(t.vsiid)) ?? []), d.timeNs])
    const gaps = [...byVsi.values()]
      .flatMap((times) => times.slice(1).map((t, i) => Number(t - times[i]) / 1e9))
      .filter((s) => s > 5)
    expect(gaps.length).toBeGreaterThanOrEqual(5)
    console.log(`keep-alive gaps (s): ${gaps.map((g) => g.toFixed(2)).join(' ')}`)
    for (const s of gaps) (expect(s).toBeGreaterThan(10.3), expect(s).toBeLessThan(11))
    agree('lldpad capture timing', gaps.length)

    // Bridge loss: the trailing requests go out 1 + 3 times, 164 ms apart, and nothing acknowledges them.
    const lost = requests.filter((d) => d.exchange.transmission === 4)
    expect(lost.length).toBeGreaterThanOrEqual(3)
    for (const last of lost) {
      const all = requests.filter(
        (d) =>
          d.number === last.exchange.retransmissionOf || d.exchange.retransmissionOf === last.exchange.retransmissionOf,
      )
      expect(all).toHaveLength(4)
      const spacing = all.slice(1).map((d, i) => Number(d.timeNs - all[i].timeNs) / 1e6)
      expect(spacing.filter((ms) => Math.abs(ms - 164) < 2).length).toBeGreaterThanOrEqual(2)
      agree('lldpad capture timing')
    }
    expect(tracker.totals()).toMatchObject({
      unacknowledged: lost.length,
      retransmissions: 3 * lost.length,
      unmatchedAcks: 0,
    })
  })

  it('lldpd + lldpad on one link: the one Associate with VID 100 and its answer', async () => {
    const {frames} = await decodeCapture(LLDPD_PLUS_LLDPAD_PCAP)
    const tlvs = frames.flatMap(vsiTlvs)
    expect(tlvs.map((t) => `${t.mode} ${t.status.kind} ${t.filter.entries[0].vid}`)).toEqual([
      'assoc request 100',
      'assoc response 100',
    ])
    agree('lldpad capture parameters', 2)
  })
})

interface QbgFrame {
  t: number
  ethertype: string
  payload_hex: string
  expected_reply_tlvs_hex: string[]
  frame_hex_with_placeholder_src: string
}

describe.skipIf(!HAVE_THIRD_PARTY)("vdp decode against lldpad's qbg22 ECP vectors", () => {
  it('each request: the header fields, and the ACK lldpad must send decodes as an ACK of the same sequence number', () => {
    const tests = (JSON.parse(readFileSync(ECP22_VECTORS, 'utf8')) as {tests: {test: string; frames: QbgFrame[]}[]})
      .tests
    let requests = 0
    let acks = 0
    let dropped = 0
    for (const test of tests) {
      for (const v of test.frames.filter((f) => f.ethertype === '8940')) {
        const f = decodeEcpVdpFrame(Buffer.from(v.frame_hex_with_placeholder_src, 'hex'))
        const word = parseInt(v.payload_hex.slice(0, 4), 16)
        expect([f.version, f.operation, f.subtype, f.sequence]).toEqual([
          word >> 12,
          ops[(word >> 10) & 3],
          word & 0x3ff,
          parseInt(v.payload_hex.slice(4, 8), 16),
        ])
        // Nothing a request needs is missing: a payload beyond the header is either a VDPDU or a reported error.
        if (f.subtype === 1 && f.operation === 'request') expect(Boolean(f.vdp) !== Boolean(f.vdpError)).toBe(true)
        requests++
        const acksExpected = v.expected_reply_tlvs_hex.filter((h) => h.length === 8)
        for (const hex of acksExpected) {
          const ack = decodeEcpVdpFrame(Buffer.from(`0180c2000000020000000002${'8940'}${hex}`, 'hex'))
          expect(ack).toMatchObject({version: 1, operation: 'ack', subtype: f.subtype, sequence: f.sequence, notes: []})
          expect(ack.dropReason).toBeUndefined()
          acks++
        }
        // We say when a receiver must drop a frame; lldpad then sends nothing.
        if (f.dropReason) {
          expect(acksExpected).toEqual([])
          dropped++
        }
        if (acksExpected.length > 0) expect(f.dropReason).toBeUndefined()
      }
    }
    console.log(`qbg22 vectors: ${requests} requests, ${acks} expected ACKs, ${dropped} to be dropped`)
    expect({requests, acks, dropped}).toEqual({requests: 19, acks: 10, dropped: 6})
    agree('lldpad qbg22 vectors', requests + acks)
  })
})

/** The ECP header of our decode in tshark's terms. */
function header(d: Decoded): TsharkEcpHeader {
  return {
    frame: d.number,
    version: d.frame.version,
    operation: ops.indexOf(d.frame.operation),
    subtype: d.frame.subtype,
    sequence: d.frame.sequence,
  }
}

async function compareWithTshark(pcap: string, tshark: Map<number, TsharkEcpHeader>, oracle: string): Promise<number> {
  const {frames} = await decodeCapture(pcap)
  expect(frames.map((d) => d.number)).toEqual([...tshark.keys()])
  for (const d of frames) expect(header(d)).toEqual(tshark.get(d.number))
  agree(oracle, frames.length)
  return frames.length
}

describe.skipIf(!HAVE_THIRD_PARTY)("vdp decode's ECP header against Wireshark's ecp21 dissector", () => {
  const constructed = thirdPartyPath('openlldp-qbg22/constructed-pcap')
  const names = ['1', '2', '3', '4', '5', '10', '11', '30'].map((n) => `ecp22-${n}.constructed.pcap`)

  it('stored tshark 4.0.17 text of the qbg22 constructed captures', async () => {
    let n = 0
    for (const name of names)
      n += await compareWithTshark(
        `${constructed}/${name}`,
        parseTsharkEcp(readFileSync(`${constructed}/${name}.tshark.txt`, 'utf8')),
        'tshark ecp21 (stored)',
      )
    expect(n).toBe(19)
  })

  it('tshark run now on the lldpad captures', async (ctx) => {
    for (const pcap of [ASSOC_DEASSOC_PCAP, KEEPALIVE_PCAP, LLDPD_PLUS_LLDPAD_PCAP]) {
      const live = await tsharkEcpLive(pcap)
      if (!live) return ctx.skip()
      await compareWithTshark(pcap, live, 'tshark ecp21 (live)')
    }
  })
})

describe('vdp decode against our station and ToR simulator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vdp-decode-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  /** The wire of a back-to-back station and simulator, as a pcap (timestamps from the manual clock). */
  function capture(t: ReturnType<typeof backToBack>, name: string): string {
    const writer = new PcapWriter({nanosecond: true})
    const base = 1_800_000_000_000_000_000n
    const records = t.wire.map((w) =>
      writer.record(encodeEcpFrame({...w.frame}), base + BigInt(Math.round(w.at * 1e6))),
    )
    const path = join(dir, name)
    writeFileSync(path, Buffer.concat([writer.fileHeader(), ...records]))
    return path
  }

  it("every request, ACK and response, checked against the requests made and the simulator's VSI table", async () => {
    const t = backToBack()
    for (let n = 1; n <= 20; n++) t.station.associate(dfaRequest(n, 20000 + n))
    t.clock.advance(100)
    t.station.deassociate(vsiidFor(3))
    t.clock.advance(100)
    const pcap = capture(t, 'station-bridge.pcap')
    const {frames, tracker} = await decodeCapture(pcap)

    const stationVsis = frames.filter((d) => d.frame.src === t.transport.localMac).flatMap(vsiTlvs)
    expect(stationVsis.filter((v) => v.mode === 'assoc')).toHaveLength(20)
    for (let n = 1; n <= 20; n++) {
      const request = dfaRequest(n, 20000 + n)
      const tlv = stationVsis.find((v) => v.mode === 'assoc' && vsiidKey(v.vsiid) === vsiidKey(request.vsiid))
      expect(tlv).toMatchObject({typeId: request.typeId, typeVersion: request.typeVersion, filter: request.filter})
    }
    const responses = frames.filter((d) => d.frame.src !== t.transport.localMac).flatMap(vsiTlvs)
    for (const r of responses.filter((v) => v.mode === 'assoc')) {
      const held = t.bridge.get(r.vsiid)
      if (vsiidKey(r.vsiid) === vsiidKey(vsiidFor(3))) continue // de-associated since
      expect(r.filter.entries.map((e) => e.vid)).toEqual(held!.vids) // the VLAN the simulator assigned
      expect(r.status).toEqual({kind: 'response', keep: false, hard: false, error: 0})
    }
    expect(responses.filter((v) => v.mode === 'deassoc')).toHaveLength(1)
    expect(t.bridge.get(vsiidFor(3))).toBeUndefined()
    const totals = tracker.totals()
    const counters = t.transport.counters
    expect(totals).toMatchObject({retransmissions: counters.retransmissions, unacknowledged: 0, unmatchedAcks: 0})
    expect(totals.acks).toBe(counters.acksReceived + counters.acksSent)
    expect(totals.answered).toBe(21)
    expect(frames.filter((d) => d.frame.src !== t.transport.localMac && d.frame.vdp).length).toBe(
      t.bridge.counters.pdusSent,
    )
    agree('our station and simulator', frames.length)

    const live = await tsharkEcpLive(pcap)
    if (live) await compareWithTshark(pcap, live, 'tshark ecp21 (live, our frames)')
  })

  it('dropped ACKs: the retransmissions the decoder finds are the ones the station counted', async () => {
    const t = backToBack({bridge: {faults: {dropAckRate: 0.5}}})
    for (let n = 1; n <= 12; n++) {
      t.station.associate(dfaRequest(n))
      t.clock.advance(50)
    }
    t.clock.advance(2000)
    const {tracker} = await decodeCapture(capture(t, 'dropped-acks.pcap'))
    expect(t.bridge.counters.droppedAcks).toBeGreaterThan(0)
    expect(tracker.totals().retransmissions).toBe(
      t.transport.counters.retransmissions + t.bridge.transport.counters.retransmissions,
    )
    expect(tracker.totals().retransmissions).toBeGreaterThan(0)
    agree('our station and simulator')
  })
})

describe('vdp decode rendering', () => {
  const uuid = '00000000-1111-2222-3333-444455556666'
  const frameOf = (ulpdu: Buffer, extra: Partial<Parameters<typeof encodeEcpFrame>[0]> = {}) =>
    encodeEcpFrame({
      dst: '01:80:c2:00:00:00',
      src: STATION_MAC,
      operation: 'request',
      subtype: 1,
      sequence: 7,
      ulpdu,
      ...extra,
    })
  const request = encodeVdpdu(
    [
      {kind: 'manager-id', managerId: Buffer.from('6f70656e737461636b31000000000000', 'hex')},
      {
        kind: 'vsi',
        mode: 'assoc',
        status: {kind: 'request', migratingTo: true, migratingFrom: false, reason: 0},
        typeId: 0x123456,
        typeVersion: 2,
        vsiid: uuidVsiid(uuid),
        filter: {
          format: 4,
          entries: [
            {ps: true, pcp: 5, vid: 0, mac: '52:54:00:aa:bb:01', groupId: 20000},
            {ps: false, pcp: 0, vid: 3003, mac: '52:54:00:aa:bb:02', groupId: 20001},
          ],
        },
      },
      {
        kind: 'cisco-vm-name',
        vsiid: uuidVsiid(uuid),
        vmIdFormat: 5,
        vmUuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da',
        vmName: 'web-1',
      },
      {kind: 'cisco-ipv4-address', vsiid: uuidVsiid(uuid), ipv4: '10.1.2.3'},
    ],
    {endTlv: true},
  )

  it('-v shows every field of every TLV: mode, status bits, type ID and version, VSIID, filter format and each entry', () => {
    const f = decodeEcpVdpFrame(frameOf(request, {padTo: 200}))
    const tree = formatEcpTree(f)
    expect(tree).toBe(
      [
        '  ECP header: version 1, operation request (0), subtype VDP (1), sequence 7',
        '  VSI Manager ID (5), length 16: openstack1',
        '    octets 6f70656e737461636b31000000000000',
        '  Associate (3), length 49: request, M-bit (migrating to)',
        '    status 0x10: M 1, S 0, reason 0',
        '    VSI type ID 1193046 (0x123456), version 2',
        `    VSIID format UUID (5): ${uuid}`,
        '    filter format GroupID/MAC/VID (4), 2 entries',
        '      entry 1: GroupID 20000, MAC 52:54:00:aa:bb:01, VID 0 (null: bridge assigns), PS 1, PCP 5',
        '      entry 2: GroupID 20001, MAC 52:54:00:aa:bb:02, VID 3003',
        '  Cisco VM name (127/00-00-0c/0xf1), length 43: "web-1"',
        `    VSIID UUID ${uuid}`,
        '    VM ID format 5, VM UUID 67f338a6-0925-42aa-b2df-e8114e9fd0da',
        '  Cisco L3 address (127/00-00-0c/0xf2), length 27: IPv4 10.1.2.3',
        `    VSIID UUID ${uuid}`,
        `  End TLV, VDPDU ${request.length} octets, ${200 - 18 - request.length} octets of padding`,
      ].join('\n'),
    )
    expect(formatEcpSummary(f)).toBe(
      `ECP ${STATION_MAC} > 01:80:c2:00:00:00, request VDP seq 7, assoc request UUID ${uuid} type 1193046/2 GroupID/MAC/VID [gid 20000 52:54:00:aa:bb:01 vid 0; gid 20001 52:54:00:aa:bb:02 vid 3003] mgr openstack1, 4 TLVs`,
    )
  })

  it('names a response error with its hard and keep bits', () => {
    const response = Buffer.from(request)
    response[18 + 2] = 0x40 | 0x20 | 0x10 | 2 // first VSI TLV's status: response, keep, hard, error 2
    const f = decodeEcpVdpFrame(frameOf(response))
    expect(formatEcpTree(f)).toContain(
      'Associate (3), length 49: response: insufficient resources at the bridge (error 2, hard, keep)',
    )
    const tlvs = (ecpFrameJson(f).vdp as {tlvs: Record<string, unknown>[]}).tlvs
    expect(tlvs[0]).toMatchObject({managerIdText: 'openstack1'})
    expect(tlvs[1].status).toEqual({
      kind: 'response',
      keep: true,
      hard: true,
      error: 2,
      octet: 0x72,
      errorText: 'insufficient resources at the bridge',
    })
  })

  it('keeps the TLVs before a malformed one and names the fault; VLAN tags and odd headers are shown, not dropped', () => {
    const broken = Buffer.concat([request.subarray(0, 18 + 35), Buffer.from([0x09])]) // the VSI TLV cut short
    const tagged = frameOf(broken, {version: 2})
    const withTag = Buffer.concat([tagged.subarray(0, 12), Buffer.from('88a8a00a', 'hex'), tagged.subarray(12)])
    const f = decodeEcpVdpFrame(withTag)
    expect(f.vlanTags).toEqual([{tpid: 0x88a8, pcp: 5, dei: false, vid: 10}])
    expect(f.vdpError).toMatchObject({code: 'VDP_TLV_TRUNCATED', offset: 18})
    expect(f.vdpError!.tlvs.map((t) => t.kind)).toEqual(['manager-id'])
    expect(formatEcpSummary(f)).toMatch(
      /vlan 10, request VDP seq 7 version 2, VDPDU MALFORMED \[VDP_TLV_TRUNCATED\] at offset 18, DROPPED by a receiver: ECP version 2 is not 1/,
    )
    expect(formatEcpTree(f)).toContain('  VSI Manager ID (5), length 16: openstack1')
    expect(() => decodeEcpVdpFrame(Buffer.from('0180c200000002000000000188cc', 'hex'))).toThrow(EcpDecodeError)
    expect(() => decodeEcpVdpFrame(Buffer.from('0180c20000000200000000018940', 'hex'))).toThrow(
      expect.objectContaining({code: 'ECP_TRUNCATED'}),
    )
  })

  it("links a response to the other end's request and an ACK to its request, never to the sender's own", () => {
    const tracker = new EcpExchangeTracker()
    const req = decodeEcpVdpFrame(frameOf(request))
    const ownAck = decodeEcpVdpFrame(frameOf(Buffer.alloc(0), {operation: 'ack'}))
    const peerAck = decodeEcpVdpFrame(frameOf(Buffer.alloc(0), {operation: 'ack', src: BRIDGE_MAC}))
    expect(tracker.observe(1, 0n, req)).toEqual({transmission: 1})
    expect(tracker.observe(2, 10n, ownAck)).toEqual({})
    expect(tracker.observe(3, 1_000_000n, req)).toEqual({transmission: 2, retransmissionOf: 1})
    expect(tracker.observe(4, 1_500_000n, peerAck)).toEqual({acknowledges: 3, ackDelayNs: 500_000n})
    const response = Buffer.from(request)
    response[18 + 2] = 0x40
    const answer = decodeEcpVdpFrame(frameOf(response, {src: BRIDGE_MAC, sequence: 1}))
    expect(tracker.observe(5, 2_000_000n, answer)).toEqual({
      transmission: 1,
      answers: [{frame: 1, delayNs: 2_000_000n}],
    })
    expect(tracker.totals()).toEqual({
      requests: 3,
      retransmissions: 1,
      acks: 2,
      unmatchedAcks: 1,
      unacknowledged: 1,
      answered: 1,
    })
  })
})
