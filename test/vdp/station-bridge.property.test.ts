import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {seededRandom} from '../../src/lab/vdp-bridge.js'
import {encodeEcpFrame} from '../../src/vdp/ecp-codec.js'
import type {VsiEvent} from '../../src/vdp/station.js'
import {LLDPAD_DEFAULT_EVB, respWaitDelay, toutKeepAlive} from '../../src/vdp/timers.js'
import {encodeVdpdu} from '../../src/vdp/vdp-codec.js'
import {vdpduTlvsArb} from './helpers/arbitraries.js'
import {backToBack, BRIDGE, dfaRequest, STATION, vsiidFor} from './helpers/link.js'

type Op =
  | {kind: 'associate'; n: number; vid: number}
  | {kind: 'preassociate'; n: number}
  | {kind: 'move'; n: number}
  | {kind: 'deassociate'; n: number}
  | {kind: 'advance'; ms: number}
  | {kind: 'bridge-deassociate'; n: number}
  | {kind: 'change-vlan'; n: number; vid: number}

const vsiNumber = fc.integer({min: 1, max: 6}) // few VSIs, so operations collide
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('associate' as const),
      n: vsiNumber,
      vid: fc.constantFrom(0, 0, 0, 100, 200),
    }),
  },
  {weight: 2, arbitrary: fc.record({kind: fc.constant('deassociate' as const), n: vsiNumber})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('preassociate' as const), n: vsiNumber})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('move' as const), n: vsiNumber})},
  {
    weight: 4,
    arbitrary: fc.record({kind: fc.constant('advance' as const), ms: fc.constantFrom(0.01, 1, 3, 50, 3000, 12000)}),
  },
  {weight: 1, arbitrary: fc.record({kind: fc.constant('bridge-deassociate' as const), n: vsiNumber})},
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('change-vlan' as const),
      n: vsiNumber,
      vid: fc.integer({min: 2, max: 4094}),
    }),
  },
)

const TERMINAL = (e: VsiEvent) => e.type === 'deassociated' || (e.type === 'failed' && e.state === 'removed')

describe('station ⇄ bridge under random operations and faults (model-based)', () => {
  it('never throws, ends each VSI life with one terminal event, and converges once faults stop', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, {minLength: 1, maxLength: 40}),
        fc.record({
          dropAckRate: fc.constantFrom(0, 0.2, 0.5),
          dropResponseRate: fc.constantFrom(0, 0.1, 0.3),
          reject: fc.option(
            fc.record({code: fc.constantFrom(2, 3, 4), keep: fc.boolean(), rate: fc.constantFrom(0.2, 0.5)}),
            {nil: undefined},
          ),
        }),
        fc.integer({min: 1, max: 1 << 30}),
        (ops, faults, seed) => {
          const t = backToBack({bridge: {faults, random: seededRandom(seed)}})
          for (const op of ops) {
            try {
              if (op.kind === 'associate') t.station.associate(dfaRequest(op.n, 20000 + (op.n % 3), op.vid))
              else if (op.kind === 'preassociate') t.station.preassociate(dfaRequest(op.n, 20000 + (op.n % 3)))
              else if (op.kind === 'move') {
                const moved = dfaRequest(op.n, 20000 + (op.n % 3))
                const entry = {...moved.filter.entries[0], mac: `52:54:00:aa:00:0${op.n}`}
                t.station.associate({...moved, filter: {format: 4, entries: [entry]}})
              } else if (op.kind === 'deassociate') t.station.deassociate(vsiidFor(op.n))
              else if (op.kind === 'advance') t.clock.advance(op.ms)
              else if (op.kind === 'bridge-deassociate') t.bridge.deassociate(vsiidFor(op.n))
              else t.bridge.changeVlan(vsiidFor(op.n), op.vid)
            } catch (error) {
              // Only the documented refusals may surface.
              expect((error as {code?: string}).code).toMatch(/^VSI_(UNKNOWN|INVALID_TRANSITION)$/)
            }
          }
          // Faults stop; after a bridge keep-alive timeout plus a response wait everything has settled.
          t.bridge.setFaults({})
          t.clock.advance(2 * (toutKeepAlive(3, 8, 20) + respWaitDelay(3, 8, 20)))

          expect(t.station.counters.listenerErrors).toBe(0)
          // Per VSI: events alternate between lives; no event after a terminal one except a new life's start.
          const byKey = new Map<string, VsiEvent[]>()
          for (const e of t.events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e])
          for (const [key, events] of byKey) {
            let alive = false
            for (const e of events) {
              if (e.type === 'associated' || e.type === 'preassociated') alive = true
              else if (TERMINAL(e)) alive = false
              else expect(alive, `${key}: ${e.type} outside a life`).toBe(true)
            }
            const present = t.station.get(events[0].vsiid) !== undefined
            expect(present, `${key}: table vs last event`).toBe(alive)
          }
          // Station and bridge agree on which VSIs exist, and on their VLANs.
          const station = new Map(t.station.list().map((v) => [v.key, v]))
          const bridge = new Map(t.bridge.list().map((v) => [v.key, v]))
          expect([...station.keys()].sort()).toEqual([...bridge.keys()].sort())
          for (const [key, view] of station) {
            const held = bridge.get(key)
            expect(view.state, key).toBe(held?.mode === 'assoc' ? 'associated' : 'preassociated')
            expect(view.vids, key).toEqual(held?.vids)
            expect(
              view.filter.entries.map((e) => e.mac),
              key,
            ).toEqual(held?.filter.entries.map((e) => e.mac))
          }
        },
      ),
      {numRuns: 60},
    )
  })

  it('station and bridge survive any garbage on the wire', () => {
    const t = backToBack()
    t.station.associateMany([dfaRequest(1), dfaRequest(2)])
    t.clock.advance(1)
    fc.assert(
      fc.property(
        vdpduTlvsArb,
        fc.uint8Array({maxLength: 80}),
        fc.integer({min: 1, max: 0xffff}),
        (tlvs, junk, sequence) => {
          for (const ulpdu of [encodeVdpdu(tlvs), Buffer.from(junk)]) {
            t.transport.receive(
              encodeEcpFrame({dst: STATION, src: BRIDGE, operation: 'request', subtype: 1, sequence, ulpdu}),
            )
            t.bridge.receive(
              encodeEcpFrame({dst: BRIDGE, src: STATION, operation: 'request', subtype: 1, sequence, ulpdu}),
            )
          }
          t.clock.advance(1)
        },
      ),
      {numRuns: 300},
    )
    expect(t.transport.counters.handlerErrors).toBe(0)
    expect(t.bridge.transport.counters.handlerErrors).toBe(0)
  })
})

it("the default EVB values are lldpad's", () => {
  expect(LLDPAD_DEFAULT_EVB).toEqual({retries: 3, rte: 8, rwd: 20, rka: 20})
})
