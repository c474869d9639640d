/**
 * The property both test/vdp/decode-fuzz.test.ts (modest run count) and bench/vdp-fuzz.ts (≥ 1 M cases) check
 * for `vdp decode`: whatever the octets, decodeEcpVdpFrame returns or throws EcpDecodeError (never anything
 * else), a decoded VDPDU re-encodes to the octets it came from (and the TLVs kept before a malformed one to
 * the octets before it), and the exchange tracker, the summary, the -v tree and the JSON rendering all
 * accept every decoded frame.
 */
import {readdirSync, readFileSync} from 'node:fs'
import fc from 'fast-check'
import {applyMutations, type Mutation} from './lldp-fuzz-harness.js'
import {ETHERTYPE_ECP, ethertypeOffset} from '../src/core/ethernet.js'
import {PcapStreamParser} from '../src/pcap/index.js'
import {ciscoTlvs} from '../src/vdp/cisco-oui.js'
import {encodeEcpFrame} from '../src/vdp/ecp-codec.js'
import {EcpDecodeError} from '../src/vdp/errors.js'
import {decodeEcpVdpFrame, EcpExchangeTracker} from '../src/vdp/frame-decode.js'
import {ecpFrameJson, formatEcpSummary, formatEcpTree} from '../src/vdp/format.js'
import {encodeVdpdu, type VdpTlv, type VsiTlv} from '../src/vdp/vdp-codec.js'
import type {FilterEntry, FilterFormat} from '../src/vdp/vsi-filter.js'
import {uuidVsiid, type Vsiid} from '../src/vdp/vsiid.js'

export interface VdpFuzzOutcome {
  cases: number
  decoded: number
  malformedVdpdus: number
  /** EcpDecodeError codes (frames that are not ECP or too short). */
  rejectedByCode: Record<string, number>
  /** VdpDecodeError codes reported for malformed VDPDUs. */
  vdpErrorByCode: Record<string, number>
  maxDecodeMicros: number
}

export function newVdpOutcome(): VdpFuzzOutcome {
  return {cases: 0, decoded: 0, malformedVdpdus: 0, rejectedByCode: {}, vdpErrorByCode: {}, maxDecodeMicros: 0}
}

const tally = (t: Record<string, number>, k: string) => (t[k] = (t[k] ?? 0) + 1)

/** Throws a plain Error if any invariant is broken for `data`. One tracker may follow many cases. */
export function checkVdpDecodeInvariants(
  data: Buffer,
  tracker: EcpExchangeTracker,
  outcome: VdpFuzzOutcome = newVdpOutcome(),
): void {
  outcome.cases++
  const t0 = process.hrtime.bigint()
  let frame
  try {
    frame = decodeEcpVdpFrame(data)
  } catch (err) {
    if (!(err instanceof EcpDecodeError))
      throw new Error(`decoder threw something other than EcpDecodeError: ${String((err as Error)?.stack ?? err)}`)
    tally(outcome.rejectedByCode, err.code)
    return
  } finally {
    const micros = Number(process.hrtime.bigint() - t0) / 1000
    if (micros > outcome.maxDecodeMicros) outcome.maxDecodeMicros = micros
  }
  outcome.decoded++
  const at = ethertypeOffset(data, ETHERTYPE_ECP)
  if (at < 0) throw new Error('decoded a frame the EtherType scan does not call ECP')
  const ulpdu = data.subarray(at + 2 + 4)
  if (frame.vdp) {
    // The End TLV (2 octets) may carry a non-zero length field, which the decoder notes and the encoder never writes.
    const again = encodeVdpdu(frame.vdp.tlvs)
    const endNoted = frame.notes.some((n) => n.startsWith("the End TLV's length"))
    if (
      endNoted !== (frame.vdp.endTlv && !ulpdu.subarray(frame.vdp.length - 2, frame.vdp.length).equals(Buffer.alloc(2)))
    )
      throw new Error('End TLV length note wrong')
    const sent = ulpdu.subarray(0, frame.vdp.length - (frame.vdp.endTlv ? 2 : 0))
    if (JSON.stringify(vsiStatusOctets(sent)) !== JSON.stringify(frame.vdp.statusOctets))
      throw new Error('status octets not reported as sent')
    if (!again.equals(withoutReservedStatusBit(sent)))
      throw new Error(
        `VDPDU round trip changed the octets:\n in  ${ulpdu.toString('hex')}\n out ${again.toString('hex')}`,
      )
  }
  if (frame.vdpError) {
    outcome.malformedVdpdus++
    tally(outcome.vdpErrorByCode, frame.vdpError.code)
    const before = encodeVdpdu(frame.vdpError.tlvs)
    if (
      !before.equals(withoutReservedStatusBit(ulpdu.subarray(0, before.length))) ||
      before.length > frame.vdpError.offset
    )
      throw new Error('the TLVs kept before a malformed one are not its prefix')
  }
  const exchange = tracker.observe(outcome.cases, BigInt(outcome.cases) * 1000n, frame)
  formatEcpSummary(frame, exchange)
  formatEcpTree(frame)
  JSON.stringify(ecpFrameJson(frame, exchange))
}

/** Offsets of the VSI TLV status octets of well-formed TLVs. */
function statusOffsets(tlvs: Buffer): number[] {
  const out: number[] = []
  for (let off = 0; off + 2 < tlvs.length; off += 2 + (tlvs.readUInt16BE(off) & 0x1ff)) {
    const type = tlvs[off] >> 1
    if (type >= 1 && type <= 4) out.push(off + 2)
  }
  return out
}

function vsiStatusOctets(tlvs: Buffer): number[] {
  return statusOffsets(tlvs).map((o) => tlvs[o])
}

/** Reserved bit 7 of a VSI status octet is noted and dropped by the decoder (ignored on receive). */
function withoutReservedStatusBit(tlvs: Buffer): Buffer {
  const out = Buffer.from(tlvs)
  for (const o of statusOffsets(out)) out[o] &= 0x7f
  return out
}

/** ECP-aware TLV length rewrites (TLVs start after the 18-octet Ethernet + ECP header), else the LLDP mutations. */
export function applyVdpMutations(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = seed
  for (const m of mutations) {
    if (m.kind !== 'tlvLength') {
      b = applyMutations(b, [m])
      continue
    }
    b = Buffer.from(b)
    const offsets: number[] = []
    for (let off = 18; off + 2 <= b.length && offsets.length < 64; off += 2 + (((b[off] & 1) << 8) | b[off + 1]))
      offsets.push(off)
    if (offsets.length === 0) continue
    const at = offsets[m.tlv % offsets.length]
    b[at] = (b[at] & 0xfe) | (m.length >> 8)
    b[at + 1] = m.length & 0xff
  }
  return b
}

/** Put 0–2 VLAN tags in front of the ECP EtherType. */
export function withVlanTags(frame: Buffer, tags: readonly number[]): Buffer {
  if (frame.length < 12 || tags.length === 0) return frame
  const parts = [frame.subarray(0, 12)]
  for (const tag of tags)
    parts.push(Buffer.from([tag & 1 ? 0x88 : 0x81, tag & 1 ? 0xa8 : 0x00, (tag >> 8) & 0xff, (tag >> 1) & 0xff]))
  parts.push(frame.subarray(12))
  return Buffer.concat(parts)
}

/** A case: a seed with mutations and optional VLAN tags. */
export const vdpCaseArbitrary = (seedCount: number, mutation: fc.Arbitrary<Mutation>) =>
  fc.tuple(
    fc.nat(seedCount - 1),
    fc.array(mutation, {minLength: 0, maxLength: 6}),
    fc.array(fc.integer({min: 0, max: 0xffff}), {maxLength: 2}),
  )

/** Frames we construct: every filter format, every VSIID format, Cisco TLVs, End TLV, both directions, an ACK. */
export function constructedSeeds(): Buffer[] {
  const vsiids: Vsiid[] = [
    uuidVsiid('a7b5c4d2-1111-4222-8333-123456789abc'),
    {format: 'mac', mac: '52:54:00:aa:bb:01'},
    {format: 'ipv4', address: '192.0.2.7'},
    {format: 'ipv6', address: '2001:db8::7'},
    {format: 'local', id: '00112233445566778899aabbccddeeff'},
  ]
  const entry = (format: FilterFormat, i: number): FilterEntry => ({
    ps: i % 2 === 1,
    pcp: i % 8,
    vid: i * 100,
    ...(format === 2 || format === 4 ? {mac: `52:54:00:00:00:0${i}`} : {}),
    ...(format === 3 || format === 4 ? {groupId: 20000 + i} : {}),
  })
  const seeds: Buffer[] = []
  const formats: FilterFormat[] = [1, 2, 3, 4]
  formats.forEach((format, i) => {
    const vsi: VsiTlv = {
      kind: 'vsi',
      mode: (['preassoc', 'preassoc-rr', 'assoc', 'deassoc'] as const)[i],
      status:
        i % 2
          ? {kind: 'response', keep: true, hard: i === 3, error: i}
          : {kind: 'request', migratingTo: i === 2, migratingFrom: false, reason: 0},
      typeId: 4711 + i,
      typeVersion: i,
      vsiid: vsiids[i],
      filter: {format, entries: [entry(format, 1), entry(format, 2)]},
    }
    const tlvs: VdpTlv[] = [
      {kind: 'manager-id', managerId: Buffer.alloc(16, i)},
      vsi,
      ...ciscoTlvs(vsiids[i], {name: 'web-1', uuid: '67f338a6-0925-42aa-b2df-e8114e9fd0da', ipv4: '10.0.0.1'}),
    ]
    seeds.push(
      encodeEcpFrame({
        dst: '01:80:c2:00:00:00',
        src: '02:00:00:00:01:01',
        operation: 'request',
        subtype: 1,
        sequence: i,
        ulpdu: encodeVdpdu(tlvs, {endTlv: i % 2 === 0}),
        padTo: 60,
      }),
    )
  })
  seeds.push(
    encodeEcpFrame({
      dst: '01:80:c2:00:00:00',
      src: '02:00:00:00:02:01',
      operation: 'ack',
      subtype: 1,
      sequence: 3,
      padTo: 60,
    }),
  )
  return seeds
}

/** Every ECP frame of every pcap under `dirs` (deduplicated), plus the constructed ones: the mutation seeds. */
export function loadEcpSeeds(dirs: readonly string[]): Buffer[] {
  const seen = new Set<string>()
  const frames: Buffer[] = []
  const add = (data: Buffer) => {
    const key = data.toString('hex')
    if (seen.has(key)) return
    seen.add(key)
    frames.push(Buffer.from(data))
  }
  const walk = (dir: string): string[] =>
    readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
    )
  for (const dir of dirs) {
    for (const path of walk(dir).filter((p) => p.endsWith('.pcap'))) {
      try {
        for (const r of new PcapStreamParser().push(readFileSync(path)))
          if (r.linkType === 1 && ethertypeOffset(r.data, ETHERTYPE_ECP) >= 0) add(r.data)
      } catch {
        // a deliberately broken capture of the corpus: no seeds from it
      }
    }
  }
  constructedSeeds().forEach(add)
  return frames
}
