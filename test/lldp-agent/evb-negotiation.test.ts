import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {
  bridgeRestartSign,
  echoesStation,
  negotiateEvb,
  negotiateEvbBridge,
} from '../../src/lldp-agent/evb-negotiation.js'
import {decodeEvbTlv, encodeEvbTlv} from '../../src/lldp/index.js'
import {describeWithThirdParty, HAVE_THIRD_PARTY, thirdPartyPath} from '../helpers/corpus.js'

interface EvbVectorTest {
  test: string
  description_from_README: string
  has_remote_shell_step: boolean
  lldpad_conf: {tlvid0080c20d?: Record<string, string>} | null
  frames: {payload_hex: string; expected_reply_tlvs_hex: string[]}[]
}

const vectors = (
  HAVE_THIRD_PARTY ? JSON.parse(readFileSync(thirdPartyPath('openlldp-qbg22/evb22.json'), 'utf8')) : {tests: []}
) as {tests: EvbVectorTest[]} // read at load: the suites below filter it

/** The info string of the first EVB TLV (OUI 00-80-C2, subtype 0x0D) in a TLV stream. */
function evbInfo(hex: string): Buffer | undefined {
  const b = Buffer.from(hex, 'hex')
  for (let off = 0; off + 2 <= b.length;) {
    const h = b.readUInt16BE(off)
    const type = h >> 9
    const len = h & 0x1ff
    const v = b.subarray(off + 2, off + 2 + len)
    if (type === 0) break
    if (type === 127 && v.length === 9 && v[0] === 0x00 && v[1] === 0x80 && v[2] === 0xc2 && v[3] === 0x0d) return v
    off += 2 + len
  }
  return undefined
}

// lldpad as a station, configured by the test's lldpad.conf, answers each bridge LLDPDU with its EVB TLV.
// Left out: tests with a mid-run reconfiguration step (the policy changes half-way) and tests with EVB
// transmission disabled (no station TLV to compare; our equivalent is [lldp] mode = rx).
const stationTests = vectors.tests.filter(
  (t) =>
    t.lldpad_conf?.tlvid0080c20d?.evbmode === 'station' &&
    t.lldpad_conf.tlvid0080c20d.enableTx !== 'false' &&
    !t.has_remote_shell_step,
)

describeWithThirdParty('EVB negotiation agrees with lldpad (openlldp test/qbg22/evb22 vectors)', () => {
  it('has station vectors to check', () => {
    expect(stationTests.length).toBeGreaterThan(10)
  })
  for (const t of stationTests) {
    it(`test ${t.test}: ${t.description_from_README.slice(0, 70)}`, () => {
      const c = t.lldpad_conf!.tlvid0080c20d!
      const policy = {
        retries: Number(c.ecpretries ?? 3),
        rte: Number(c.ecprte ?? 8),
        rwd: Number(c.vdprwd ?? 20),
        rka: Number(c.vdprka ?? 20),
        rrRequest: c.evbrrreq === 'true',
        groupId: c.evbgpid === 'true',
      }
      let checked = 0
      for (const frame of t.frames) {
        const bridgeInfo = evbInfo(frame.payload_hex)
        const expected = frame.expected_reply_tlvs_hex.map(evbInfo).find((v) => v !== undefined)
        if (!bridgeInfo || !expected) continue
        // lldpad negotiates with whatever EVB TLV its peer sends, even one whose mode is "not supported"
        // (test 9); which neighbour counts as the EVB bridge is the uplink detector's decision, not this one's.
        const bridge = decodeEvbTlv(bridgeInfo)
        expect(encodeEvbTlv(negotiateEvb(policy, bridge).station).toString('hex')).toBe(expected.toString('hex'))
        checked++
      }
      expect(checked).toBeGreaterThan(0)
    })
  }
})

const bridgeTests = vectors.tests.filter(
  (t) => t.lldpad_conf?.tlvid0080c20d?.evbmode === 'bridge' && !t.has_remote_shell_step,
)

describeWithThirdParty('bridge-side EVB negotiation agrees with lldpad as a bridge (tests 30-33)', () => {
  it('has bridge vectors to check', () => {
    expect(bridgeTests.map((t) => t.test)).toEqual(['30', '31', '32', '33'])
  })
  for (const t of bridgeTests) {
    it(`test ${t.test}: ${t.description_from_README.slice(0, 70)}`, () => {
      const c = t.lldpad_conf!.tlvid0080c20d!
      const policy = {
        retries: Number(c.ecpretries),
        rte: Number(c.ecprte),
        rwd: Number(c.vdprwd),
        rka: Number(c.vdprka),
        rrCapable: c.evbrrcap === 'true',
        groupId: c.evbgpid === 'true',
      }
      let checked = 0
      for (const frame of t.frames) {
        const stationInfo = evbInfo(frame.payload_hex)
        const expected = frame.expected_reply_tlvs_hex.map(evbInfo).find((v) => v !== undefined)
        if (!stationInfo || !expected) continue
        expect(encodeEvbTlv(negotiateEvbBridge(policy, decodeEvbTlv(stationInfo)).bridge).toString('hex')).toBe(
          expected.toString('hex'),
        )
        checked++
      }
      expect(checked).toBeGreaterThan(0)
    })
  }
})

describe('EVB negotiation rules', () => {
  const policy = {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: true, groupId: true}

  it('before any bridge TLV: our own values, RRSTAT 3, nothing negotiated', () => {
    const n = negotiateEvb(policy)
    expect(n.negotiated).toBeUndefined()
    expect(n.station).toMatchObject({
      rrstat: 3,
      retries: 3,
      rte: 8,
      rwd: 20,
      rka: 20,
      rolRwd: false,
      rolRka: false,
      mode: 'station',
      sgid: true,
      rrreq: true,
    })
  })

  it('a Cisco-like bridge (R7 RTE20 RWD31 RKA31) wins every value; group IDs need BGID and SGID', () => {
    const bridge = decodeEvbTlv(Buffer.from('0080c20d0200f45f1f', 'hex')) // tcpdump evb.pcap: RRCAP, R=7, RTE=20, bridge, RWD=31, RKA=31
    const n = negotiateEvb(policy, bridge)
    expect(n.negotiated).toEqual({retries: 7, rte: 20, rwd: 31, rka: 31, groupIds: false, reflectiveRelay: false})
    expect(n.station).toMatchObject({rolRwd: true, rolRka: true, rrstat: 0, rrcap: true})
    expect(negotiateEvb(policy, {...bridge, bgid: true}).negotiated?.groupIds).toBe(true)
    expect(negotiateEvb({...policy, groupId: false}, {...bridge, bgid: true}).negotiated?.groupIds).toBe(false)
  })
})

describe('a bridge restart told from the bridge hearing us (bridgeRestartSign)', () => {
  /** An EVB TLV from its 5 octets after OUI and subtype (docs/wire-notes.md §EVB worked examples). */
  const evb = (hex: string) => decodeEvbTlv(Buffer.from(`0080c20d${hex}`, 'hex'))
  // lldpad as a bridge (the keep-alive capture): before it heard the station, then once it has
  const lldpadUnheard = evb('02006e5414')
  const lldpadHeard = evb('03046e7434')

  it('a bridge that heard no station echoes nothing; once it has, it does', () => {
    expect(echoesStation(lldpadUnheard)).toBe(false)
    expect(echoesStation(lldpadHeard)).toBe(true)
    expect(echoesStation(evb('0200004000'))).toBe(false) // RRCAP, mode bridge, values 0
    expect(echoesStation(evb('0304004000'))).toBe(true) // ... having heard a station's RRREQ: RRCTR, RRREQ echoed
    expect(
      echoesStation(negotiateEvbBridge({retries: 3, rte: 8, rwd: 20, rka: 20, rrCapable: true, groupId: true}).bridge),
    ).toBe(false)
  })

  it('the echo appearing or following the station is no restart', () => {
    expect(bridgeRestartSign(lldpadUnheard, lldpadHeard)).toBeUndefined()
    expect(bridgeRestartSign(evb('0200004000'), evb('0304004000'))).toBeUndefined()
    expect(bridgeRestartSign(lldpadHeard, lldpadHeard)).toBeUndefined()
    // the station's RRSTAT 3 (it had not heard the bridge) then 1, echoed; values rising to the station's
    expect(bridgeRestartSign({...lldpadHeard, rrstat: 3}, {...lldpadHeard, rrstat: 1})).toBeUndefined()
    expect(bridgeRestartSign(lldpadHeard, {...lldpadHeard, rka: 22, rte: 16})).toBeUndefined()
    // a bridge that never echoes (tcpdump's evb.pcap) and says the same again
    expect(bridgeRestartSign(evb('0200f45f1f'), evb('0200f45f1f'))).toBeUndefined()
  })

  it("the echo going, or the bridge's own settings changing, is a restart", () => {
    expect(bridgeRestartSign(lldpadHeard, lldpadUnheard)).toMatch(/no longer echoes our station status/)
    expect(bridgeRestartSign(evb('0304004000'), evb('0200004000'))).toMatch(/no longer echoes/)
    expect(bridgeRestartSign(lldpadHeard, {...lldpadHeard, bgid: true})).toMatch(/own EVB settings changed/)
    expect(bridgeRestartSign(lldpadHeard, {...lldpadHeard, rrcap: false, rrctr: false})).toMatch(
      /own EVB settings changed/,
    )
    expect(bridgeRestartSign(lldpadUnheard, {...lldpadUnheard, rka: 22})).toMatch(/own R, RTE, RWD or RKA changed/)
  })
})
