/** EVB and CDCP TLVs: the worked examples of docs/wire-notes.md, tcpdump's evb.pcap, and every bit pattern. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  decodeEvbTlv,
  decodeLldpFrame,
  encodeEvbTlv,
  encodeTlv,
  LldpDecodeError,
  type EvbTlv,
} from '../../src/lldp/index.js'
import {HAVE_THIRD_PARTY, readFrames, TCPDUMP_CAPTURES_DIR} from './corpus.js'

const evb = (body: string): EvbTlv => decodeEvbTlv(Buffer.from(`0080c20d${body}`, 'hex'))

const base: EvbTlv = {
  bgid: false,
  rrcap: false,
  rrctr: false,
  sgid: false,
  rrreq: false,
  rrstat: 0,
  retries: 0,
  rte: 0,
  mode: 'none',
  rolRwd: false,
  rwd: 0,
  rolRka: false,
  rka: 0,
}

describe('EVB TLV (802.1Qbg-2012, 00-80-C2/0x0D)', () => {
  it('wire-notes §EVB worked examples: lldpad station/bridge exchange', () => {
    expect(evb('0200004000')).toEqual({...base, rrcap: true, mode: 'bridge'})
    expect(evb('0204688808')).toEqual({
      ...base,
      rrcap: true,
      rrreq: true,
      rrstat: 0,
      retries: 3,
      rte: 8,
      mode: 'station',
      rwd: 8,
      rka: 8,
    })
    expect(evb('0304000000')).toEqual({...base, rrcap: true, rrctr: true, rrreq: true})
    expect(evb('0305688808')).toEqual({
      ...base,
      rrcap: true,
      rrctr: true,
      rrreq: true,
      rrstat: 1,
      retries: 3,
      rte: 8,
      mode: 'station',
      rwd: 8,
      rka: 8,
    })
  })

  it('wire-notes §EVB worked examples: the keepalive capture (RTE 14, RWD/RKA 20, ROL bits)', () => {
    expect(evb('00076e9414')).toMatchObject({
      rrreq: true,
      rrstat: 3,
      retries: 3,
      rte: 14,
      mode: 'station',
      rolRwd: false,
      rwd: 20,
      rka: 20,
    })
    expect(evb('03046e7434')).toMatchObject({
      rrcap: true,
      rrctr: true,
      mode: 'bridge',
      rolRwd: true,
      rwd: 20,
      rolRka: true,
      rka: 20,
    })
  })

  it.skipIf(!HAVE_THIRD_PARTY)('tcpdump evb.pcap: a real bridge TLV and CDCP TLV', async () => {
    const frames = await readFrames(`${TCPDUMP_CAPTURES_DIR}evb.pcap`)
    const f = decodeLldpFrame(frames[3].data, {strict: true})
    expect(f.evb).toEqual({...base, rrcap: true, retries: 7, rte: 20, mode: 'bridge', rwd: 31, rka: 31})
    const cdcp = f.tlvs.find((t) => t.kind === 'cdcp')
    expect(cdcp).toMatchObject({cdcp: {role: 0, scomp: false, channelCapacity: 167, channels: [{scid: 1, svid: 1}]}})
  })

  it('keeps reserved bits, so every 5-octet body round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({minLength: 5, maxLength: 5}), (body) => {
        const info = Buffer.concat([Buffer.from('0080c20d', 'hex'), body])
        expect(encodeEvbTlv(decodeEvbTlv(info))).toEqual(info)
      }),
      {numRuns: 2000},
    )
    expect(evb('f8f00000c0').reserved).toEqual({bridgeStatus: 0x1f, stationStatus: 0x0f, rka: 3})
    expect(evb('0204688808').reserved).toBeUndefined()
  })

  it('decodeEvbTlv rejects what is not a 9-octet EVB information string', () => {
    for (const hex of ['0080c20d02006854', '0080c20d0200685414ff', '0080c20e0200685414', '00120f0d0200685414']) {
      expect(() => decodeEvbTlv(Buffer.from(hex, 'hex'))).toThrow(LldpDecodeError)
    }
  })

  it('encodeEvbTlv validates its fields', () => {
    expect(() => encodeEvbTlv({...base, rte: 32})).toThrow(/RTE/)
    expect(() => encodeEvbTlv({...base, retries: 8})).toThrow(/retries/)
    expect(() => encodeEvbTlv({...base, mode: 'switch' as EvbTlv['mode']})).toThrow(/mode/)
  })
})

describe('CDCP TLV (00-80-C2/0x0E)', () => {
  it('wire-notes §CDCP TLV example, and channels and reserved bits round-trip', () => {
    const info = Buffer.from('0080c20e' + '000000a7' + '001001', 'hex')
    const f = decodeLldpFrame(
      Buffer.concat([
        Buffer.from('0180c2000000525400502440' + '88cc' + '02070452540050244004050565746830' + '06020078', 'hex'),
        Buffer.from('fe0b', 'hex'),
        info,
        Buffer.from('0000', 'hex'),
      ]),
      {strict: true},
    )
    const tlv = f.tlvs[3]
    expect(tlv).toMatchObject({
      kind: 'cdcp',
      cdcp: {role: 0, scomp: false, channelCapacity: 167, channels: [{scid: 1, svid: 1}]},
    })
    fc.assert(
      fc.property(
        fc.uint8Array({minLength: 4, maxLength: 4}),
        fc.array(fc.uint8Array({minLength: 3, maxLength: 3}), {maxLength: 5}),
        (head, channels) => {
          const body = Buffer.concat([Buffer.from('0080c20e', 'hex'), head, ...channels])
          const frame = Buffer.concat([
            Buffer.from('0180c2000000525400502440' + '88cc' + '02070452540050244004050565746830' + '06020078', 'hex'),
            Buffer.from([0xfe, body.length]),
            body,
            Buffer.from('0000', 'hex'),
          ])
          const t = decodeLldpFrame(frame, {strict: true}).tlvs[3]
          expect(t.kind).toBe('cdcp')
          expect(encodeTlv(t).subarray(2)).toEqual(body)
        },
      ),
      {numRuns: 1000},
    )
  })
})
