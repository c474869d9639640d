/**
 * AfPacketFrameIO across a veth pair between two lab namespaces. Each side is a frame-probe child process
 * (`ip netns exec <ns> node dist/test/helpers/processes/frame-probe.js`), since Node cannot enter a namespace itself.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, run, sweepStaleLabs} from '../../../src/lab/netns.js'
import {startLldpd} from '../../helpers/peers.js'
import {startProbe, type ProbeClient, type ProbeMessage} from '../../helpers/probe-client.js'
import {
  encodeEthernetFrame,
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  NEAREST_BRIDGE,
  NEAREST_CUSTOMER_BRIDGE,
  NEAREST_NON_TPMR_BRIDGE,
} from '../../../src/core/ethernet.js'

const isRoot = process.getuid?.() === 0
const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'
const GROUPS = [NEAREST_BRIDGE, NEAREST_NON_TPMR_BRIDGE, NEAREST_CUSTOMER_BRIDGE]

function frameHex(dst: string, src: string, ethertype: number, text: string): string {
  return encodeEthernetFrame({dst, src, ethertype}, Buffer.from(text)).toString('hex')
}

const isFrame = (id: string, text?: string) => (m: ProbeMessage) =>
  m.ev === 'frame' && m.id === id && (text === undefined || Buffer.from(String(m.hex), 'hex').includes(text))

async function maddr(lab: Lab, ns: string, ifname: string): Promise<string[]> {
  const {stdout} = await lab.exec(ns, ['ip', '-j', 'maddr', 'show', 'dev', ifname])
  const entries = JSON.parse(stdout) as Array<{maddr?: Array<{link?: string}>}>
  return entries.flatMap((e) => e.maddr ?? []).flatMap((a) => (a.link ? [a.link] : []))
}

describe.skipIf(!isRoot)('AfPacketFrameIO between two namespaces', () => {
  const lab = new Lab()
  let host: string
  let tor: string
  let hostProbe: ProbeClient
  let torProbe: ProbeClient

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'h0', mac: HOST_MAC}, {ns: tor, ifname: 't0', mac: TOR_MAC})
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')
    hostProbe = await startProbe(lab, host, 'frame-probe')
    torProbe = await startProbe(lab, tor, 'frame-probe')
    await hostProbe.request('open', {id: 'lldp', ifname: 'h0', ethertype: ETHERTYPE_LLDP, multicast: GROUPS})
    await hostProbe.request('open', {
      id: 'ecp',
      ifname: 'h0',
      ethertype: ETHERTYPE_ECP,
      multicast: [NEAREST_CUSTOMER_BRIDGE],
    })
    await torProbe.request('open', {id: 'lldp', ifname: 't0', ethertype: ETHERTYPE_LLDP})
    await torProbe.request('open', {
      id: 'ecp',
      ifname: 't0',
      ethertype: ETHERTYPE_ECP,
      multicast: [NEAREST_CUSTOMER_BRIDGE],
    })
  })

  afterAll(async () => {
    await hostProbe?.close()
    await torProbe?.close()
    await lab.destroy()
  })

  it('joins 01:80:c2:00:00:00, :03 and :0e on the interface (ip maddr) while the sockets are open', async () => {
    expect(await maddr(lab, host, 'h0')).toEqual(expect.arrayContaining(GROUPS))
  })

  it('leaves a group when the last socket holding it closes', async () => {
    const extra = '01:80:c2:00:00:21'
    await hostProbe.request('open', {id: 'extra', ifname: 'h0', ethertype: 0x88b5, multicast: [extra]})
    expect(await maddr(lab, host, 'h0')).toContain(extra)
    await hostProbe.request('close', {id: 'extra'})
    expect(await maddr(lab, host, 'h0')).not.toContain(extra)
    expect(await maddr(lab, host, 'h0')).toEqual(expect.arrayContaining(GROUPS)) // still held by the others
  })

  it('receives LLDP sent to each of the three group addresses, header intact, on the LLDP socket only', async () => {
    const from = hostProbe.mark()
    for (const dst of GROUPS) {
      const reply = await torProbe.request('send', {
        id: 'lldp',
        hex: frameHex(dst, TOR_MAC, ETHERTYPE_LLDP, `lldp-to-${dst}`),
      })
      expect(reply.bytes).toBe(60)
    }
    for (const dst of GROUPS) {
      const got = await hostProbe.waitFor(isFrame('lldp', `lldp-to-${dst}`), {from})
      expect(got).toMatchObject({dst, src: TOR_MAC, ethertype: ETHERTYPE_LLDP, length: 60})
    }
    // an ECP frame sent afterwards is a barrier: once it is in, the LLDP frames have long been demultiplexed
    await torProbe.request('send', {
      id: 'ecp',
      hex: frameHex(NEAREST_CUSTOMER_BRIDGE, TOR_MAC, ETHERTYPE_ECP, 'barrier-1'),
    })
    await hostProbe.waitFor(isFrame('ecp', 'barrier-1'), {from})
    expect(hostProbe.collect((m) => m.ev === 'frame' && m.id === 'ecp', from).map((m) => m.ethertype)).toEqual([
      ETHERTYPE_ECP,
    ])
  })

  it('sends and receives ECP both ways, and a sender never hears its own frames', async () => {
    const hostFrom = hostProbe.mark()
    const torFrom = torProbe.mark()
    await hostProbe.request('send', {
      id: 'ecp',
      hex: frameHex(NEAREST_CUSTOMER_BRIDGE, HOST_MAC, ETHERTYPE_ECP, 'ecp-up'),
    })
    const up = await torProbe.waitFor(isFrame('ecp', 'ecp-up'), {from: torFrom})
    expect(up).toMatchObject({dst: NEAREST_CUSTOMER_BRIDGE, src: HOST_MAC, ethertype: ETHERTYPE_ECP})
    await torProbe.request('send', {
      id: 'ecp',
      hex: frameHex(NEAREST_CUSTOMER_BRIDGE, TOR_MAC, ETHERTYPE_ECP, 'ecp-down'),
    })
    await hostProbe.waitFor(isFrame('ecp', 'ecp-down'), {from: hostFrom})
    expect(hostProbe.collect(isFrame('ecp', 'ecp-up'), hostFrom)).toEqual([])
    expect(torProbe.collect(isFrame('ecp', 'ecp-down'), torFrom)).toEqual([])
  })

  it('ignores unicast frames for another station and delivers those for its own MAC', async () => {
    const from = hostProbe.mark()
    await torProbe.request('send', {
      id: 'lldp',
      hex: frameHex('02:00:00:00:09:09', TOR_MAC, ETHERTYPE_LLDP, 'not-for-us'),
    })
    await torProbe.request('send', {id: 'lldp', hex: frameHex(HOST_MAC, TOR_MAC, ETHERTYPE_LLDP, 'for-us')})
    await hostProbe.waitFor(isFrame('lldp', 'for-us'), {from})
    expect(hostProbe.collect(isFrame('lldp', 'not-for-us'), from)).toEqual([])
  })

  it('reports system-call failures with errno names', async () => {
    await expect(
      hostProbe.request('open', {id: 'nope', ifname: 'nope0', ethertype: ETHERTYPE_LLDP}),
    ).rejects.toMatchObject({
      details: {code: 'FRAME_IO', sysCode: 'ENODEV'},
    })
    await expect(hostProbe.request('send', {id: 'lldp', hex: '0180c200000e'})).rejects.toMatchObject({
      details: {code: 'FRAME_TOO_SHORT'},
    })
    const jumbo = encodeEthernetFrame(
      {dst: NEAREST_BRIDGE, src: HOST_MAC, ethertype: ETHERTYPE_LLDP},
      Buffer.alloc(1600),
    ).toString('hex')
    await expect(hostProbe.request('send', {id: 'lldp', hex: jumbo})).rejects.toMatchObject({
      details: {sysCode: 'EMSGSIZE'},
    })
    await hostProbe.request('open', {id: 'closed', ifname: 'h0', ethertype: ETHERTYPE_LLDP})
    await hostProbe.request('close', {id: 'closed', keep: true})
    await hostProbe.request('close', {id: 'closed', keep: true}) // idempotent
    await expect(hostProbe.request('send', {id: 'closed', hex: '00'.repeat(60)})).rejects.toMatchObject({
      details: {code: 'FRAME_IO', sysCode: 'EBADF'},
    })
  })

  it('survives a link flap: reports ENETDOWN, then keeps receiving once the link is back', async () => {
    const from = hostProbe.mark()
    await lab.setLink(host, 'h0', {down: true})
    const error = await hostProbe.waitFor((m) => m.ev === 'error' && m.id === 'lldp', {from})
    expect(error).toMatchObject({sysCode: 'ENETDOWN'})
    await lab.setLink(host, 'h0', {up: true})
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')
    await torProbe.request('send', {id: 'lldp', hex: frameHex(NEAREST_BRIDGE, TOR_MAC, ETHERTYPE_LLDP, 'after-flap')})
    await hostProbe.waitFor(isFrame('lldp', 'after-flap'), {from})
    await torProbe.request('send', {
      id: 'ecp',
      hex: frameHex(NEAREST_CUSTOMER_BRIDGE, TOR_MAC, ETHERTYPE_ECP, 'ecp-after-flap'),
    })
    await hostProbe.waitFor(isFrame('ecp', 'ecp-after-flap'), {from})
  })

  it('counts delivered frames and kernel drops (PACKET_STATISTICS)', async () => {
    const {stats} = (await hostProbe.request('stats', {id: 'lldp'})) as unknown as {stats: Record<string, unknown>}
    const delivered = hostProbe.collect((m) => m.ev === 'frame' && m.id === 'lldp').length
    expect(stats).toMatchObject({framesDelivered: delivered, kernelDrops: 0, ignoreOutgoing: true, framesOversize: 0})
  })

  it('hears lldpd running in the peer namespace, including its short shutdown LLDPDU', async () => {
    const from = hostProbe.mark()
    const lldpd = await startLldpd(lab, tor, {ifname: 't0', hostname: 'tor1.example', txInterval: 1})
    const heard = await hostProbe.waitFor(isFrame('lldp', 'tor1.example'), {from, timeoutMs: 15_000})
    expect(heard).toMatchObject({dst: NEAREST_BRIDGE, src: TOR_MAC, ethertype: ETHERTYPE_LLDP})
    const stoppedAt = hostProbe.mark()
    await lldpd.stop()
    // lldpd sends a TTL-0 LLDPDU on SIGTERM; it carries no system name and is not padded on veth
    const shutdown = await hostProbe.waitFor((m) => m.ev === 'frame' && m.id === 'lldp' && Number(m.length) < 60, {
      from: stoppedAt,
    })
    expect(shutdown).toMatchObject({dst: NEAREST_BRIDGE, src: TOR_MAC})
  })
})

describe.skipIf(!isRoot)('stale namespaces', () => {
  it('none of this file is left behind', async () => {
    const {stdout} = await run(['ip', '-j', 'netns', 'list'])
    const mine = (stdout.trim() ? (JSON.parse(stdout) as {name: string}[]) : []).filter((n) =>
      n.name.includes(`-${process.pid}-`),
    )
    expect(mine).toEqual([])
  })
})
