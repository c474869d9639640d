import {afterEach, describe, expect, it, vi} from 'vitest'
import {
  encodeEthernetFrame,
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  NEAREST_BRIDGE,
  NEAREST_CUSTOMER_BRIDGE,
} from '../../src/core/ethernet.js'
import {FrameIoError, MemoryFrameIO, VirtualWire, type FrameSocket} from '../../src/net/frames.js'

const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'

function frame(dst: string, ethertype: number, payload = 'hello'): Buffer {
  return encodeEthernetFrame({dst, src: TOR_MAC, ethertype}, Buffer.from(payload))
}

/** host/eth0 <-> tor/t0 on one wire; returns the IOs and the wire. */
function vethPair(opts: {promiscuousHost?: boolean} = {}) {
  const host = new MemoryFrameIO('host')
  const tor = new MemoryFrameIO('tor')
  const wire = new VirtualWire()
    .attach(host, 'eth0', {mac: HOST_MAC, promiscuous: opts.promiscuousHost})
    .attach(tor, 't0', {mac: TOR_MAC})
  return {host, tor, wire}
}

const flush = () => new Promise<void>((r) => setImmediate(r))

describe('MemoryFrameIO over a VirtualWire', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delivers a frame to the peer on a later tick, not synchronously, and not to the sender', async () => {
    const {host, tor} = vethPair()
    const heard: Buffer[] = []
    const echo: Buffer[] = []
    host.open('eth0', ETHERTYPE_LLDP, {multicast: [NEAREST_BRIDGE], onFrame: (f) => heard.push(f)})
    const txSocket = tor.open('t0', ETHERTYPE_LLDP, {onFrame: (f) => echo.push(f)})
    const sent = frame(NEAREST_BRIDGE, ETHERTYPE_LLDP)
    expect(txSocket.send(sent)).toBe(sent.length)
    expect(heard).toHaveLength(0)
    await flush()
    expect(heard).toEqual([sent])
    expect(echo).toHaveLength(0)
  })

  it('still delivers under fake timers (nextTick is not faked)', async () => {
    vi.useFakeTimers()
    const {host, tor} = vethPair()
    const heard: Buffer[] = []
    host.open('eth0', ETHERTYPE_LLDP, {multicast: [NEAREST_BRIDGE], onFrame: (f) => heard.push(f)})
    tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined}).send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    await new Promise<void>((r) => process.nextTick(r))
    expect(heard).toHaveLength(1)
  })

  it('demultiplexes by ethertype', async () => {
    const {host, tor} = vethPair()
    const lldp: Buffer[] = []
    const ecp: Buffer[] = []
    host.open('eth0', ETHERTYPE_LLDP, {
      multicast: [NEAREST_BRIDGE, NEAREST_CUSTOMER_BRIDGE],
      onFrame: (f) => lldp.push(f),
    })
    host.open('eth0', ETHERTYPE_ECP, {multicast: [NEAREST_CUSTOMER_BRIDGE], onFrame: (f) => ecp.push(f)})
    const tx = tor.open('t0', ETHERTYPE_ECP, {onFrame: () => undefined})
    tx.send(frame(NEAREST_CUSTOMER_BRIDGE, ETHERTYPE_ECP))
    tx.send(frame(NEAREST_CUSTOMER_BRIDGE, ETHERTYPE_LLDP))
    await flush()
    expect(ecp.map((f) => f.readUInt16BE(12))).toEqual([ETHERTYPE_ECP])
    expect(lldp.map((f) => f.readUInt16BE(12))).toEqual([ETHERTYPE_LLDP])
  })

  it('filters like a NIC: group addresses nobody joined are dropped, unicast only to the own MAC', async () => {
    const {host, tor} = vethPair()
    const heard: string[] = []
    host.open('eth0', ETHERTYPE_LLDP, {
      multicast: [NEAREST_BRIDGE],
      onFrame: (f) => heard.push(f.subarray(0, 6).toString('hex')),
    })
    const tx = tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined})
    tx.send(frame(NEAREST_CUSTOMER_BRIDGE, ETHERTYPE_LLDP)) // not joined
    tx.send(frame('02:00:00:00:09:09', ETHERTYPE_LLDP)) // someone else's unicast
    tx.send(frame(HOST_MAC, ETHERTYPE_LLDP))
    tx.send(frame('ff:ff:ff:ff:ff:ff', ETHERTYPE_LLDP))
    tx.send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    await flush()
    expect(heard).toEqual(['020000000101', 'ffffffffffff', '0180c200000e'])
  })

  it('a promiscuous port (like a veth) hears every group address', async () => {
    const {host, tor} = vethPair({promiscuousHost: true})
    const heard: Buffer[] = []
    host.open('eth0', ETHERTYPE_LLDP, {onFrame: (f) => heard.push(f)})
    tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined}).send(frame(NEAREST_CUSTOMER_BRIDGE, ETHERTYPE_LLDP))
    await flush()
    expect(heard).toHaveLength(1)
  })

  it('reports memberships like ip maddr, for as long as a socket holding them is open', () => {
    const {host} = vethPair()
    const a = host.open('eth0', ETHERTYPE_LLDP, {
      multicast: [NEAREST_BRIDGE, '01:80:C2:00:00:03'],
      onFrame: () => undefined,
    })
    const b = host.open('eth0', ETHERTYPE_ECP, {
      multicast: [NEAREST_CUSTOMER_BRIDGE, NEAREST_BRIDGE],
      onFrame: () => undefined,
    })
    expect(host.memberships('eth0')).toEqual(['01:80:c2:00:00:00', '01:80:c2:00:00:03', '01:80:c2:00:00:0e'])
    a.close()
    expect(host.memberships('eth0')).toEqual(['01:80:c2:00:00:00', '01:80:c2:00:00:0e'])
    b.close()
    expect(host.memberships('eth0')).toEqual([])
  })

  it('joins three or more endpoints like a hub', async () => {
    const a = new MemoryFrameIO('a')
    const b = new MemoryFrameIO('b')
    const c = new MemoryFrameIO('c')
    const wire = new VirtualWire().attach(a, 'e0').attach(b, 'e0').attach(c, 'e0')
    const heard: string[] = []
    for (const [io, name] of [
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
    ] as const) {
      io.open('e0', ETHERTYPE_LLDP, {multicast: [NEAREST_BRIDGE], onFrame: () => heard.push(name)})
    }
    const sender = b.open('e0', ETHERTYPE_ECP, {onFrame: () => undefined})
    sender.send(
      encodeEthernetFrame({dst: NEAREST_BRIDGE, src: '02:00:00:00:00:02', ethertype: ETHERTYPE_LLDP}, Buffer.alloc(0)),
    )
    await flush()
    expect(heard.sort()).toEqual(['a', 'c'])
    expect(wire.log.map((w) => w.from)).toEqual(['b/e0'])
  })

  it('gives each receiver its own copy, taken at send time', async () => {
    const {host, tor} = vethPair()
    const copies: Buffer[] = []
    host.open('eth0', ETHERTYPE_LLDP, {multicast: [NEAREST_BRIDGE], onFrame: (f) => copies.push(f)})
    host.open('eth0', ETHERTYPE_LLDP, {multicast: [NEAREST_BRIDGE], onFrame: (f) => copies.push(f)})
    const out = frame(NEAREST_BRIDGE, ETHERTYPE_LLDP, 'original')
    tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined}).send(out)
    out.fill(0) // the sender reuses its buffer
    await flush()
    expect(copies).toHaveLength(2)
    expect(copies[0]!.subarray(14, 22).toString()).toBe('original')
    copies[0]![20] = 0
    expect(copies[1]!.subarray(14, 22).toString()).toBe('original')
  })

  it('drops frames while the carrier is down, and delivers none queued for a socket closed before the tick', async () => {
    const {host, tor, wire} = vethPair()
    const heard: Buffer[] = []
    const rx: FrameSocket = host.open('eth0', ETHERTYPE_LLDP, {
      multicast: [NEAREST_BRIDGE],
      onFrame: (f) => heard.push(f),
    })
    const tx = tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined})
    wire.carrier = false
    tx.send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    await flush()
    expect(heard).toHaveLength(0)
    wire.carrier = true
    tx.send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    rx.close()
    await flush()
    expect(heard).toHaveLength(0)
    expect(rx.stats().framesDelivered).toBe(0)
  })

  it('lets a callback close its own socket: later frames of the same burst are not delivered', async () => {
    const {host, tor} = vethPair()
    let calls = 0
    const rx = host.open('eth0', ETHERTYPE_LLDP, {
      multicast: [NEAREST_BRIDGE],
      onFrame: () => {
        calls++
        rx.close()
      },
    })
    const tx = tor.open('t0', ETHERTYPE_LLDP, {onFrame: () => undefined})
    tx.send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    tx.send(frame(NEAREST_BRIDGE, ETHERTYPE_LLDP))
    await flush()
    expect(calls).toBe(1)
  })

  it('fails like the kernel: unknown interface ENODEV, closed socket EBADF, oversize EMSGSIZE, short frame', () => {
    const {host} = vethPair()
    expect(() => host.open('eth9', ETHERTYPE_LLDP, {onFrame: () => undefined})).toThrow(
      expect.objectContaining({code: 'FRAME_IO', sysCode: 'ENODEV'}),
    )
    const s = host.open('eth0', ETHERTYPE_LLDP, {onFrame: () => undefined})
    expect(() => s.send(Buffer.alloc(13))).toThrow(expect.objectContaining({code: 'FRAME_TOO_SHORT'}))
    expect(() => s.send(Buffer.alloc(14 + 1501))).toThrow(expect.objectContaining({sysCode: 'EMSGSIZE'}))
    s.close()
    s.close()
    let error: unknown
    try {
      s.send(Buffer.alloc(60))
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(FrameIoError)
    expect(error).toMatchObject({sysCode: 'EBADF', ifname: 'eth0'})
  })

  it('validates arguments the same way as the AF_PACKET implementation', () => {
    const {host} = vethPair()
    const onFrame = () => undefined
    expect(() => host.open('bad/if', ETHERTYPE_LLDP, {onFrame})).toThrow(
      expect.objectContaining({code: 'INVALID_IFNAME'}),
    )
    expect(() => host.open('eth0', 0x05dc, {onFrame})).toThrow(expect.objectContaining({code: 'INVALID_ETHERTYPE'}))
    expect(() => host.open('eth0', ETHERTYPE_LLDP, {multicast: ['02:00:00:00:00:01'], onFrame})).toThrow(
      expect.objectContaining({code: 'INVALID_MAC'}),
    )
    expect(() => host.open('eth0', ETHERTYPE_LLDP, {multicast: ['nonsense'], onFrame})).toThrow(
      expect.objectContaining({code: 'INVALID_MAC'}),
    )
  })

  it('refuses to attach the same interface twice', () => {
    const io = new MemoryFrameIO()
    const wire = new VirtualWire().attach(io, 'eth0')
    expect(() => wire.attach(io, 'eth0')).toThrow(expect.objectContaining({code: 'IFNAME_IN_USE'}))
  })
})
