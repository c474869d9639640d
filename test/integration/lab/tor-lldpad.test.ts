/**
 * Our ToR simulator (`vdp-agent lab tor`, a child in the `tor` namespace) against Debian's lldpad as the
 * STATION in the `host` namespace, driven by vdptool the way networking-cisco drives it. vdptool must print the
 * VLAN our policy assigns; faults and bridge-initiated changes injected through the control socket must show
 * up in lldpad. The wire is captured with tcpdump and decoded with our own codecs (tshark misdecodes VDP22).
 *
 * The tests run in order against one lldpad: the last ones restart the simulator with another VLAN policy.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, sweepStaleLabs, type LabProcess} from '../../../src/lab/netns.js'
import {startLldpad, waitForVdpReady, type LldpadHandle} from '../../helpers/peers.js'
import {startTorSimulator, type TorProcess} from '../../../src/lab/tor-process.js'
import {segmentVid} from '../../../src/lab/vdp-bridge.js'
import {decodeLldpFrame} from '../../../src/lldp/index.js'
import {decodeEcpFrame} from '../../../src/vdp/ecp-codec.js'
import {decodeVdpdu, type VsiTlv} from '../../../src/vdp/vdp-codec.js'
import {readPcap} from '../../vdp/helpers/read-pcap.js'
import {listedVsis, responseLines, vdpRequest} from './vdptool.js'

const isRoot = process.getuid?.() === 0
const built = existsSync(new URL('../../../dist/commands/lab/tor.js', import.meta.url))
const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'
/**
 * RKA 16 on both sides: keep-alives every 0.66 s, so what travels with them comes quickly, and the bridge's
 * keep-alive timeout (toutKeepAlive ≈ 1.0 s) leaves room for the late answers of the delay fault.
 */
const RKA = '16'
const uuid = (n: number) => `a7b5c4d2-1111-4222-8333-${n.toString(16).padStart(12, '0')}`
const mac = (n: number) => `52:54:00:aa:bb:${n.toString(16).padStart(2, '0')}`

describe.skipIf(!isRoot || !built)('ToR simulator with Debian lldpad as the station (vdptool)', () => {
  const lab = new Lab()
  let host: string
  let tor: string
  let lldpad: LldpadHandle
  let sim: TorProcess
  let capture: LabProcess
  let pcapPath: string

  const startSim = (args: string[] = []) => startTorSimulator(lab, tor, {ifname: 't0', args: ['--rka', RKA, ...args]})
  const stationHeard = (from = 0) =>
    sim.waitForEvent((e) => e.type === 'station' && e.change !== 'gone', {
      from,
      what: "lldpad's EVB TLV at the simulator",
    })

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'h0', mac: HOST_MAC}, {ns: tor, ifname: 't0', mac: TOR_MAC})
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')

    pcapPath = join(await lab.tempDir('pcap'), 'tor.pcap')
    capture = lab.spawn(tor, [
      'tcpdump',
      '-Z',
      'root',
      '-U',
      '--immediate-mode',
      '-i',
      't0',
      '-w',
      pcapPath,
      'ether proto 0x8940 or ether proto 0x88cc',
    ])
    let tcpdumpSays = ''
    capture.child.stderr?.on('data', (d: Buffer) => (tcpdumpSays += d.toString()))
    await lab.waitFor('tcpdump to listen', () => tcpdumpSays.includes('listening on'), {timeoutMs: 10_000})

    sim = await startSim()
    lldpad = await startLldpad(lab, host)
    await lldpad.lldptool(['-L', '-i', 'h0', '-g', 'ncb', 'adminStatus=rxtx'])
    await lldpad.lldptool([
      '-T',
      '-i',
      'h0',
      '-g',
      'ncb',
      '-V',
      'evb',
      '-c',
      'evbmode=station',
      '-c',
      'evbrrreq=yes',
      '-c',
      'evbgpid=yes',
      '-c',
      `vdprka=${RKA}`,
      '-c',
      'enableTx=yes',
    ])
    await waitForVdpReady(lab, lldpad, 'h0')
    await stationHeard()
  })

  afterAll(async () => {
    await sim?.stop()
    await lab.destroy()
  })

  it("negotiates EVB: lldpad shows our bridge TLV (group IDs, reflective relay on); we run with lldpad's RKA", async () => {
    const neighbour = (await lldpad.lldptool(['-t', '-i', 'h0', '-g', 'ncb', '-n', '-V', 'evb'])).stdout
    expect(neighbour).toContain('bridge:bgid,rrcap,rrctr(0x7)')
    expect(neighbour).toContain('station:sgid,rrreq,rrstat(0xd)') // its own status octet, echoed
    expect(neighbour).toMatch(/mode:bridge r\/l:1 rwd:20/)
    expect(neighbour).toMatch(/r\/l:1 rka:16/)
    const status = (await sim.call('status')) as {station: {mac: string; negotiated: unknown}; params: unknown}
    expect(status.station).toMatchObject({mac: HOST_MAC, negotiated: {groupIds: true, reflectiveRelay: true, rka: 16}})
    expect(status.params).toEqual({retries: 3, rte: 8, rwd: 20, rka: 16})
  })

  it('format 4 (group 20000): vdptool prints the VLAN of the segment policy; deassociate with it succeeds', async () => {
    const vsi = {uuid: uuid(1), filter: `0-${mac(1)}-20000`}
    const vid = segmentVid(20000)
    expect(vid).toBe(3628)
    const assoc = await vdpRequest(lldpad, 'h0', 'assoc', vsi)
    expect(assoc.exitCode).toBe(0)
    expect(responseLines(assoc)).toEqual([
      '\tmode = assoc',
      '\tmgrid2 = 0',
      '\ttypeid = 0',
      '\ttypeidver = 0',
      `\tuuid = ${uuid(1)}`,
      `\tfilter = ${vid}-${mac(1)}-0`, // lldpad's events print the group as 0
    ])
    expect((await listedVsis(lldpad, 'h0')).get(uuid(1))).toEqual({filter: `${vid}-${mac(1)}-20000`, hints: '0'})
    expect(await sim.call('vsis')).toMatchObject([{key: `uuid:${uuid(1)}`, mode: 'assoc', vids: [vid]}])

    const deassoc = await vdpRequest(lldpad, 'h0', 'deassoc', {uuid: uuid(1), filter: `${vid}-${mac(1)}-20000`})
    expect(responseLines(deassoc)).toContain('\tmode = deassoc')
    expect(deassoc.stdout).not.toMatch(/Error/)
    expect((await listedVsis(lldpad, 'h0')).has(uuid(1))).toBe(false)
    expect(await sim.call('vsis')).toEqual([])
  })

  it('a reject fault set through the control socket: vdptool prints "Error returned by Bridge"', async () => {
    await sim.call('set-faults', {reject: {code: 2, match: {vsiids: [uuid(2)]}}})
    try {
      const run = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(2), filter: `0-${mac(2)}-2001`})
      const lines = responseLines(run)
      expect(lines).toContain('\tmode = deassoc')
      expect(lines).toContain('\tError returned by Bridge: Insufficient resources at bridge')
      expect((await listedVsis(lldpad, 'h0')).has(uuid(2))).toBe(false)
      // another VSI is not matched by the fault
      const other = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(3), filter: `0-${mac(3)}-2001`})
      expect(responseLines(other)).toContain(`\tfilter = 2001-${mac(3)}-0`)
    } finally {
      await sim.call('set-faults', {})
    }
    expect(sim.events).toContainEqual(
      expect.objectContaining({type: 'rejected', vsiid: `uuid:${uuid(2)}`, code: 2, keep: false}),
    )
  })

  it('Hard and Keep errors as lldpad and vdptool show them', async () => {
    // docs/wire-notes.md §vdptool output: with the Hard (or Keep) bit set vdptool finds no text for the status and
    // prints none
    await sim.call('set-faults', {reject: {code: 5, hard: true, match: {vsiids: [uuid(11)]}}})
    const hard = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(11), filter: `0-${mac(11)}-1100`})
    expect(responseLines(hard)).toContain('\tmode = deassoc')
    expect(hard.stdout).not.toContain('Error returned by Bridge')

    // docs/wire-notes.md §lldpad station behaviour: on a Keep error lldpad holds a brand-new VSI as associated and
    // says nothing; its first keep-alive meets the Keep error again, so it de-associates and reports a "Keepalive
    // Timeout".
    const from = sim.mark()
    await sim.call('set-faults', {reject: {code: 3, keep: true, match: {vsiids: [uuid(12)]}}})
    try {
      const keep = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(12), filter: `0-${mac(12)}-1200`})
      expect(responseLines(keep)).toContain('\tmode = deassoc')
      expect(responseLines(keep)).toContain('\tInternal Error : Keepalive Timeout')
    } finally {
      await sim.call('set-faults', {})
    }
    const rejected = sim.events.slice(from).filter((e) => e.type === 'rejected' && e.vsiid === `uuid:${uuid(12)}`)
    expect(rejected.length).toBeGreaterThanOrEqual(2) // the Associate, the keep-alive (and lldpad's De-Associate)
    expect(rejected.every((e) => e.keep === true && e.code === 3)).toBe(true)
    expect((await listedVsis(lldpad, 'h0')).has(uuid(12))).toBe(false)
    expect(await sim.call('vsis')).toEqual(
      expect.not.arrayContaining([expect.objectContaining({key: `uuid:${uuid(12)}`})]),
    )
  })

  it('an unsolicited De-Associate injected through the control socket removes the VSI from lldpad', async () => {
    expect((await listedVsis(lldpad, 'h0')).has(uuid(3))).toBe(true)
    expect(await sim.call('deassociate', {vsiid: uuid(3)})).toEqual({deassociated: 1})
    await lab.waitFor('lldpad to drop the VSI', async () => !(await listedVsis(lldpad, 'h0')).has(uuid(3)), {
      timeoutMs: 5000,
    })
  })

  it('a VLAN change reaches lldpad with its next keep-alive, and lldpad drops the VSI rather than adopt the VLAN', async () => {
    const run = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(4), filter: `0-${mac(4)}-300`})
    expect(responseLines(run)).toContain(`\tfilter = 300-${mac(4)}-0`)
    const from = sim.mark()
    expect(await sim.call('change-vlan', {vsiid: uuid(4), vid: 301})).toEqual({changed: 1})
    // docs/wire-notes.md §lldpad station behaviour: lldpad compares the answer's VID with the one it holds, fails
    // the VSI, and says nothing
    await lab.waitFor('lldpad to drop the VSI', async () => !(await listedVsis(lldpad, 'h0')).has(uuid(4)), {
      timeoutMs: 5000,
    })
    // so the bridge learns of it only when the keep-alives stop
    await sim.waitForEvent((e) => e.type === 'deassociated' && e.vsiid === `uuid:${uuid(4)}`, {
      from,
      what: 'the keep-alive timeout',
    })
    expect(sim.events.slice(from).find((e) => e.type === 'deassociated')).toMatchObject({initiator: 'expired'})
  })

  it('lost answers leave vdptool without an association; lldpad rides out lost ACKs and late answers', async () => {
    // one at a time, with no other VSI held: a fault applies to every answer, keep-alive answers included
    expect((await listedVsis(lldpad, 'h0')).size).toBe(0)
    await sim.call('set-faults', {dropResponseRate: 1})
    const from = sim.mark()
    const lost = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(7), filter: `0-${mac(7)}-700`})
    // The bridge did associate it. lldpad sends no keep-alive while it awaits the answer, so the bridge times
    // the VSI out (toutKeepAlive, 1.0 s at RKA 16) and its De-Associate ends vdptool's wait.
    await sim.waitForEvent(
      (e) => e.type === 'deassociated' && e.vsiid === `uuid:${uuid(7)}` && e.initiator === 'expired',
      {from},
    )
    expect(lost.stdout).not.toContain('mode = assoc')

    await sim.call('set-faults', {dropAckRate: 1})
    const noAcks = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(5), filter: `0-${mac(5)}-500`})
    // late, but less than toutKeepAlive − T(RKA): lldpad keeps no keep-alive going while it awaits an answer
    await sim.call('set-faults', {responseDelayMs: 100})
    const late = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(6), filter: `0-${mac(6)}-600`})
    await sim.call('set-faults', {})
    // lldpad's VDP has the answer before its ECP gives up on the unacknowledged request
    expect(responseLines(noAcks)).toContain(`\tfilter = 500-${mac(5)}-0`)
    expect(responseLines(late)).toContain(`\tfilter = 600-${mac(6)}-0`)
    const status = (await sim.call('status')) as {
      counters: {bridge: {droppedAcks: number; droppedResponses: number}; transport: {duplicates: number}}
    }
    expect(status.counters.bridge.droppedResponses).toBe(1)
    expect(status.counters.bridge.droppedAcks).toBeGreaterThanOrEqual(1)
    expect(status.counters.transport.duplicates).toBeGreaterThanOrEqual(1) // lldpad retransmitted the request
    expect([...(await listedVsis(lldpad, 'h0')).keys()].sort()).toEqual([uuid(5), uuid(6)])
    for (const n of [5, 6])
      await vdpRequest(lldpad, 'h0', 'deassoc', {uuid: uuid(n), filter: `${n}00-${mac(n)}-${n}00`})
    expect((await listedVsis(lldpad, 'h0')).size).toBe(0)
  })

  it('on the wire (decoded with our codecs): bridge EVB TLV, Associate answered 0x40 with the VLAN, errors as De-Associate 0x42', async () => {
    await capture.stop()
    const frames = readPcap(pcapPath).map((r) => r.frame)
    const ours = frames.filter((f) => f.subarray(6, 12).equals(Buffer.from(TOR_MAC.replaceAll(':', ''), 'hex')))
    const lldp = ours.filter((f) => f.readUInt16BE(12) === 0x88cc).map((f) => decodeLldpFrame(f, {strict: true}))
    expect(lldp.length).toBeGreaterThan(0)
    expect(lldp.at(-1)).toMatchObject({
      systemName: 'tor-sim',
      portId: {value: 'Ethernet1/1'},
      evb: {mode: 'bridge', rrctr: true, sgid: true, rrstat: 1, rka: 16},
    })

    const answers: VsiTlv[] = []
    for (const f of ours.filter((fr) => fr.readUInt16BE(12) === 0x8940)) {
      const ecp = decodeEcpFrame(f)
      if (ecp.operation !== 'request') continue
      const vdpdu = decodeVdpdu(ecp.ulpdu)
      expect(vdpdu.endTlv).toBe(true) // lldpad needs it (docs/vdp.md, "Talking to lldpad")
      answers.push(...vdpdu.tlvs.filter((t): t is VsiTlv => t.kind === 'vsi'))
    }
    const about = (n: number) => answers.filter((t) => t.vsiid.format === 'uuid' && t.vsiid.uuid === uuid(n))
    expect(about(1)[0]).toMatchObject({
      mode: 'assoc',
      status: {kind: 'response', error: 0, keep: false, hard: false},
      filter: {format: 4, entries: [{vid: 3628, groupId: 20000, mac: mac(1)}]},
    })
    expect(about(1).at(-1)).toMatchObject({mode: 'deassoc', status: {kind: 'response', error: 0}})
    expect(about(2)).toEqual([
      expect.objectContaining({mode: 'deassoc', status: {kind: 'response', error: 2, keep: false, hard: false}}),
    ])
    expect(about(3).at(-1)).toMatchObject({mode: 'deassoc', status: {kind: 'request'}}) // the unsolicited one
    expect(about(4).some((t) => t.mode === 'assoc' && t.filter.entries[0].vid === 301)).toBe(true)
  })

  it('after a restart with a VLAN pool, format 2: vdptool prints pool VLANs, one per VSI type', async () => {
    const stopped = await sim.stop()
    expect(stopped).toEqual({code: 0, signal: null})
    sim = await startSim(['--vlan-pool', '100-199'])
    await stationHeard()
    const first = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(8), filter: `0-${mac(8)}`})
    expect(responseLines(first)).toEqual([
      '\tmode = assoc',
      '\tmgrid2 = 0',
      '\ttypeid = 0',
      '\ttypeidver = 0',
      `\tuuid = ${uuid(8)}`,
      `\tfilter = 100-${mac(8)}`,
    ])
    const sameType = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(9), filter: `0-${mac(9)}`})
    expect(responseLines(sameType)).toContain(`\tfilter = 100-${mac(9)}`)
    const otherType = await vdpRequest(lldpad, 'h0', 'assoc', {uuid: uuid(10), filter: `0-${mac(10)}`, typeId: 7})
    expect(responseLines(otherType)).toContain(`\tfilter = 101-${mac(10)}`)
    const deassoc = await vdpRequest(lldpad, 'h0', 'deassoc', {uuid: uuid(8), filter: `100-${mac(8)}`})
    expect(responseLines(deassoc)).toContain('\tmode = deassoc')
    expect(deassoc.stdout).not.toMatch(/Error|FAILED/)
    expect(((await sim.call('vsis')) as {key: string; vids: number[]}[]).map((v) => [v.key, v.vids]).sort()).toEqual([
      [`uuid:${uuid(9)}`, [100]],
      [`uuid:${uuid(10)}`, [101]],
    ])
  })

  it('on SIGTERM the simulator exits 0 after its shutdown LLDPDU; lldpad forgets the bridge at once', async () => {
    const stopped = await sim.stop()
    expect(stopped).toEqual({code: 0, signal: null})
    expect(sim.events.at(-1)).toMatchObject({type: 'stopped'})
    // the TTL we advertise is 21 s: only the shutdown LLDPDU explains a neighbour gone within 5 s
    await lab.waitFor(
      'lldpad to forget the bridge',
      async () =>
        !(
          await lldpad.lldptool(['-t', '-i', 'h0', '-g', 'ncb', '-n', '-V', 'evb']).catch(() => ({stdout: ''}))
        ).stdout.includes('mode:bridge'),
      {timeoutMs: 5000},
    )
  })
})
