import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {decodeEcpFrame, encodeEcpFrame, type EcpOperation} from '../../src/vdp/ecp-codec.js'
import {EcpDecodeError, VdpDecodeError} from '../../src/vdp/errors.js'
import {formatMac} from '../../src/core/ethernet.js'
import {decodeVdpdu, encodeVdpdu} from '../../src/vdp/vdp-codec.js'
import {ASSOC_DEASSOC_PCAP, ecpFrames, KEEPALIVE_PCAP} from './helpers/corpus.js'
import {vdpduTlvsArb} from './helpers/arbitraries.js'

describe('VDP22 codec properties', () => {
  it('decode(encode(tlvs)) gives the TLVs back, End TLV or not', () => {
    fc.assert(
      fc.property(vdpduTlvsArb, fc.boolean(), (tlvs, endTlv) => {
        const bytes = encodeVdpdu(tlvs, {endTlv})
        const decoded = decodeVdpdu(bytes)
        expect(decoded.tlvs).toEqual(tlvs)
        expect(decoded.endTlv).toBe(endTlv)
        expect(decoded.length).toBe(bytes.length)
      }),
      {numRuns: 500},
    )
  })

  it('encode(decode(bytes)) gives the bytes back, with any zero padding after the End TLV', () => {
    fc.assert(
      fc.property(vdpduTlvsArb, fc.nat({max: 46}), (tlvs, padding) => {
        const bytes = Buffer.concat([encodeVdpdu(tlvs), Buffer.alloc(padding)])
        const decoded = decodeVdpdu(bytes)
        expect(encodeVdpdu(decoded.tlvs, {endTlv: decoded.endTlv}).equals(bytes.subarray(0, decoded.length))).toBe(true)
      }),
      {numRuns: 500},
    )
  })

  it('ECP frames round-trip for every header value', () => {
    const mac = fc.uint8Array({minLength: 6, maxLength: 6}).map((a) => formatMac(a))
    fc.assert(
      fc.property(
        fc.record({
          dst: mac,
          src: mac,
          version: fc.integer({min: 0, max: 15}),
          operation: fc.constantFrom<EcpOperation>('request', 'ack', 'reserved-2', 'reserved-3'),
          subtype: fc.integer({min: 0, max: 1023}),
          sequence: fc.integer({min: 0, max: 0xffff}),
          ulpdu: fc.uint8Array({maxLength: 64}).map((a) => Buffer.from(a)),
        }),
        (init) => {
          const frame = encodeEcpFrame(init)
          expect(decodeEcpFrame(frame)).toEqual(init)
          expect(encodeEcpFrame(decodeEcpFrame(frame)).equals(frame)).toBe(true)
        },
      ),
      {numRuns: 300},
    )
  })
})

describe('fuzz: decoding mutated frames only ever throws the typed errors', () => {
  const seeds = [...ecpFrames(ASSOC_DEASSOC_PCAP), ...ecpFrames(KEEPALIVE_PCAP)]
    .map((r) => r.frame)
    .filter((f) => f.length > 18)

  const mutation = fc.oneof(
    fc.record({kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({min: 0, max: 255})}),
    fc.record({kind: fc.constant('truncate' as const), at: fc.nat()}),
    fc.record({kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 8})}),
    fc.record({kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({min: 1, max: 8})}),
  )

  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

  function mutate(frame: Buffer, mutations: Mutation[]): Buffer {
    let out = Buffer.from(frame)
    for (const m of mutations) {
      const at = m.at % Math.max(1, out.length)
      if (m.kind === 'flip') out[at] = m.value
      else if (m.kind === 'truncate') out = out.subarray(0, at)
      else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)])
      else out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.count)])
    }
    return out
  }

  it('holds for captures and for generated VDPDUs', () => {
    const generated = vdpduTlvsArb.map((tlvs) =>
      encodeEcpFrame({
        dst: '01:80:c2:00:00:00',
        src: '02:00:00:00:01:01',
        operation: 'request',
        subtype: 1,
        sequence: 1,
        ulpdu: encodeVdpdu(tlvs),
      }),
    )
    const frameArb = fc.oneof(fc.constantFrom(...seeds), generated)
    let typedErrors = 0
    fc.assert(
      fc.property(frameArb, fc.array(mutation, {minLength: 1, maxLength: 4}), (frame, mutations) => {
        const bytes = mutate(frame, mutations)
        try {
          decodeVdpdu(decodeEcpFrame(bytes).ulpdu)
        } catch (error) {
          if (!(error instanceof EcpDecodeError || error instanceof VdpDecodeError)) throw error
          typedErrors++
        }
      }),
      {numRuns: 3000},
    )
    expect(typedErrors).toBeGreaterThan(100) // the mutations do reach the error paths
  })
})
