/**
 * Issue 10 item 6: every LLDPDU the agent drops is counted under the rule it broke (the names `lldp decode
 * --strict` uses), shows in the per-interface statistics (`lldp.stats`), and is logged, rate-limited.
 */
import {pino} from 'pino'
import {describe, expect, it} from 'vitest'

import {LldpAgent, type LldpAgentSettings} from '../../src/lldp-agent/lldp-agent.js'
import {MAX_NEIGHBORS_PER_INTERFACE} from '../../src/lldp-agent/neighbor-table.js'
import {buildLldpFrame, decodeLldpFrame, LldpDecodeError} from '../../src/lldp/index.js'
import {type FrameIO, MemoryFrameIO} from '../../src/net/frames.js'
import {ManualClock} from '../../src/core/clock.js'

/** The frame: System Name where the TTL TLV should be (the TTL comes fourth). */
const TTL_NOT_THIRD =
  '0180c200000002000000020088cc020704020000000200040c0745746865726e6574312f370a0c746f72312e6578616d706c65060200780e0400140014fe090080c20d00006854140000'
const HOST_MAC = '02:00:00:00:01:01'

const settings: LldpAgentSettings = {
  mode: 'rx',
  txIntervalSeconds: 30,
  txHold: 4,
  txFastCount: 4,
  txFastIntervalSeconds: 1,
  systemName: 'h',
  systemDescription: 'd',
  evb: {retries: 3, rte: 8, rwd: 20, rka: 20, rrRequest: false, groupId: true},
}

function setup() {
  const clock = new ManualClock(0)
  const lines: Array<Record<string, unknown>> = []
  const log = pino({level: 'debug'}, {write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>)})
  const agent = new LldpAgent(settings, {frames: new MemoryFrameIO('host'), clock, log, macOf: () => HOST_MAC})
  const drops = () => lines.filter((l) => l.msg === 'LLDPDU discarded')
  return {clock, agent, lines, drops}
}

const neighbour = (i: number, dst = '01:80:c2:00:00:0e') =>
  buildLldpFrame({
    dst,
    src: `02:99:00:00:00:${i.toString(16).padStart(2, '0')}`,
    chassisId: {subtype: 7, value: `c${i}`},
    portId: {subtype: 7, value: `p${i}`},
    ttl: 120,
  })

describe('LLDPDU discards: counted by rule, visible, logged', () => {
  it('the issue frame (TTL TLV not third) counts as mandatory-tlv-order, the rule lldp decode --strict names', () => {
    let strictRule: string | undefined
    try {
      decodeLldpFrame(Buffer.from(TTL_NOT_THIRD, 'hex'), {strict: true})
    } catch (err) {
      strictRule = (err as LldpDecodeError).rule
    }
    expect(strictRule).toBe('mandatory-tlv-order')
    const {agent, drops} = setup()
    agent.receive('eth1', Buffer.from(TTL_NOT_THIRD, 'hex'))
    expect(agent.interfaceStats().eth1).toMatchObject({
      rxFrames: 1,
      rxDiscarded: 1,
      rxDiscardedByRule: {'mandatory-tlv-order': 1},
    })
    expect(drops()).toMatchObject([{level: 40, ifname: 'eth1', rule: 'mandatory-tlv-order', src: '02:00:00:00:02:00'}])
  })

  it('a full table is a counted, logged discard (too-many-neighbors)', () => {
    const {agent, drops} = setup()
    for (let i = 0; i < MAX_NEIGHBORS_PER_INTERFACE + 3; i++) agent.receive('eth1', neighbour(i))
    expect(agent.table.onInterface('eth1')).toHaveLength(MAX_NEIGHBORS_PER_INTERFACE)
    expect(agent.interfaceStats().eth1.rxDiscardedByRule).toEqual({'too-many-neighbors': 3})
    expect(agent.interfaceStats().eth1.rxDiscarded).toBe(3)
    expect(drops()).toMatchObject([{rule: 'too-many-neighbors'}])
  })

  it('other drop paths: not LLDP, not addressed to an LLDP agent, our own frame, a TLV running past the end', () => {
    const {agent} = setup()
    const good = neighbour(1)
    agent.receive('eth1', Buffer.from(good.subarray(0, 20))) // cut inside the Port ID
    agent.receive('eth1', neighbour(2, '02:00:00:00:01:01')) // unicast: no 802.1AB agent receives it
    agent.receive(
      'eth1',
      buildLldpFrame({
        dst: '01:80:c2:00:00:0e',
        src: HOST_MAC,
        chassisId: {subtype: 4, value: HOST_MAC},
        portId: {subtype: 5, value: 'eth1'},
        ttl: 121,
      }),
    )
    const ipv4 = Buffer.from(good)
    ipv4.writeUInt16BE(0x0800, 12)
    agent.receive('eth1', ipv4)
    expect(agent.interfaceStats().eth1.rxDiscardedByRule).toEqual({
      'tlv-overrun': 1,
      'unknown-destination': 1,
      'own-frame': 1,
      'not-lldp': 1,
    })
    expect(agent.table.list()).toEqual([])
  })

  it('logging is rate-limited per interface and rule: the first at once, then one summary a minute', () => {
    const {agent, clock, drops} = setup()
    const bad = Buffer.from(TTL_NOT_THIRD, 'hex')
    for (let i = 0; i < 1000; i++) agent.receive('eth1', bad)
    expect(drops()).toHaveLength(1)
    clock.advance(60_000)
    agent.receive('eth1', bad)
    expect(drops()).toHaveLength(2)
    expect(drops()[1]).toMatchObject({rule: 'mandatory-tlv-order', suppressed: 999})
    expect(agent.interfaceStats().eth1.rxDiscardedByRule['mandatory-tlv-order']).toBe(1001)
  })

  it("drops before the frame reached us count too: the kernel's full receive queue, oversize frames; also after the socket closed", () => {
    let drops = 0
    const frames: FrameIO = {
      open: () => ({
        send: () => 0,
        close: () => {},
        stats: () => ({framesDelivered: 0, kernelDrops: drops, framesOversize: 1}),
      }),
    } as unknown as FrameIO
    const agent = new LldpAgent(settings, {
      frames,
      clock: new ManualClock(0),
      log: pino({level: 'silent'}),
      macOf: () => HOST_MAC,
    })
    agent.setListenPorts(['eth1'])
    drops = 5
    expect(agent.interfaceStats().eth1).toMatchObject({
      rxDiscarded: 6,
      rxDiscardedByRule: {'receive-queue-full': 5, 'frame-too-large': 1},
    })
    agent.setListenPorts([])
    drops = 0
    expect(agent.interfaceStats().eth1.rxDiscardedByRule).toEqual({'receive-queue-full': 5, 'frame-too-large': 1})
  })
})
