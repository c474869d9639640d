/**
 * Raw-frame path benchmark (root; builds its own lab namespaces):
 *   node dist/bench/frames-latency.js [rounds]
 * Round-trip time of one frame host -> tor -> host over a veth pair through AfPacketFrameIO, against
 * Node's own UDP sockets (dgram) over the same veth in the same run: the ratio is the result, not the
 * absolute numbers. Also the cost of opening and closing a socket, and the memory a started socket
 * holds. The script runs itself inside the namespaces in the roles 'echo', 'ping' and 'cost'.
 */
import {createSocket} from 'node:dgram'
import {fileURLToPath} from 'node:url'
import {Lab} from '../src/lab/netns.js'
import {encodeEthernetFrame} from '../src/core/ethernet.js'
import {AfPacketFrameIO, loadAfPacketAddon, type FrameSocket} from '../src/net/frames.js'

const ETHERTYPE = 0x88b5 // IEEE local experimental
const HOST = {mac: '02:00:00:00:01:01', ip: '192.0.2.1'}
const TOR = {mac: '02:00:00:00:02:01', ip: '192.0.2.2'}
const UDP_PORT = 7777
const self = fileURLToPath(import.meta.url)

function swapAddresses(frame: Buffer): Buffer {
  const out = Buffer.from(frame)
  frame.copy(out, 0, 6, 12)
  frame.copy(out, 6, 0, 6)
  return out
}

/** tor: echo raw frames and UDP datagrams back to their sender. */
function echo(ifname: string): void {
  const socket: FrameSocket = new AfPacketFrameIO().open(ifname, ETHERTYPE, {
    onFrame: (f) => socket.send(swapAddresses(f)),
  })
  const udp = createSocket('udp4')
  udp.on('message', (msg, from) => udp.send(msg, from.port, from.address))
  udp.bind(UDP_PORT, TOR.ip, () => process.stdout.write('ready\n'))
}

interface Stats {
  n: number
  meanUs: number
  p50Us: number
  p90Us: number
  p99Us: number
}

function stats(samplesNs: bigint[]): Stats {
  const us = samplesNs.map((ns) => Number(ns) / 1000).sort((a, b) => a - b)
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    n: us.length,
    meanUs: round(us.reduce((a, b) => a + b, 0) / us.length),
    p50Us: round(at(0.5)),
    p90Us: round(at(0.9)),
    p99Us: round(at(0.99)),
  }
}

/** host: sequential ping-pongs, alternating transports in blocks so drift hits both alike. */
async function ping(ifname: string, rounds: number): Promise<void> {
  let resolveRaw: (() => void) | undefined
  let resolveUdp: (() => void) | undefined
  const raw = new AfPacketFrameIO().open(ifname, ETHERTYPE, {onFrame: () => resolveRaw?.()})
  const udp = createSocket('udp4')
  udp.on('message', () => resolveUdp?.())
  await new Promise<void>((r) => udp.bind(0, HOST.ip, () => r()))
  const frame = encodeEthernetFrame({dst: TOR.mac, src: HOST.mac, ethertype: ETHERTYPE}, Buffer.alloc(46))
  const payload = Buffer.alloc(18) // the same 60-byte frame on the wire as the raw one (14 + 20 + 8 + 18)
  const rawRtt = () =>
    new Promise<bigint>((resolve) => {
      const t0 = process.hrtime.bigint()
      resolveRaw = () => resolve(process.hrtime.bigint() - t0)
      raw.send(frame)
    })
  const udpRtt = () =>
    new Promise<bigint>((resolve) => {
      const t0 = process.hrtime.bigint()
      resolveUdp = () => resolve(process.hrtime.bigint() - t0)
      udp.send(payload, UDP_PORT, TOR.ip)
    })
  for (let i = 0; i < 200; i++) {
    await rawRtt()
    await udpRtt()
  }
  const rawSamples: bigint[] = []
  const udpSamples: bigint[] = []
  const block = Math.max(1, Math.floor(rounds / 10))
  for (let done = 0; done < rounds; done += block) {
    for (let i = 0; i < block; i++) rawSamples.push(await rawRtt())
    for (let i = 0; i < block; i++) udpSamples.push(await udpRtt())
  }
  raw.close()
  udp.close()
  process.stdout.write(`${JSON.stringify({afpacket: stats(rawSamples), udp: stats(udpSamples)})}\n`)
}

/** host: open and close cost of a socket, and the memory a started socket holds. */
async function cost(ifname: string): Promise<void> {
  const addon = loadAfPacketAddon()
  const open: bigint[] = []
  const close: bigint[] = []
  for (let i = 0; i < 30; i++) {
    let t = process.hrtime.bigint()
    const s = new addon.PacketSocket(ifname, ETHERTYPE, [Buffer.from('0180c200000e', 'hex')])
    s.start(() => undefined)
    open.push(process.hrtime.bigint() - t)
    t = process.hrtime.bigint()
    s.close()
    close.push(process.hrtime.bigint() - t)
  }
  const gc = (globalThis as {gc?: () => void}).gc
  gc?.()
  const before = process.memoryUsage().rss
  const sockets = Array.from({length: 200}, () => {
    const s = new addon.PacketSocket(ifname, ETHERTYPE, [])
    s.start(() => undefined)
    return s
  })
  gc?.()
  const perSocketKiB = Math.round((process.memoryUsage().rss - before) / sockets.length / 1024)
  for (const s of sockets) s.close()
  process.stdout.write(
    `${JSON.stringify({open: stats(open), close: stats(close), rssPerStartedSocketKiB: perSocketKiB})}\n`,
  )
}

async function orchestrate(rounds: number): Promise<void> {
  const lab = new Lab()
  try {
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'h0', mac: HOST.mac}, {ns: tor, ifname: 't0', mac: TOR.mac})
    await lab.addAddress(host, 'h0', `${HOST.ip}/24`)
    await lab.addAddress(tor, 't0', `${TOR.ip}/24`)
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')
    const echoer = lab.spawn(tor, [process.execPath, self, 'echo', 't0'])
    await new Promise<void>((resolve, reject) => {
      echoer.child.stdout!.once('data', () => resolve())
      void echoer.exited.then(() => reject(new Error('echo exited')))
    })
    const {stdout: rtt} = await lab.exec(host, [process.execPath, self, 'ping', 'h0', String(rounds)], {
      timeoutMs: 300_000,
    })
    const {stdout: costs} = await lab.exec(host, [process.execPath, '--expose-gc', self, 'cost', 'h0'], {
      timeoutMs: 60_000,
    })
    const {afpacket, udp} = JSON.parse(rtt) as {afpacket: Stats; udp: Stats}
    console.log(
      JSON.stringify(
        {afpacket, udp, ratioP50: Math.round((afpacket.p50Us / udp.p50Us) * 100) / 100, ...JSON.parse(costs)},
        null,
        1,
      ),
    )
  } finally {
    await lab.destroy()
  }
}

const [role, ifname = '', rounds] = process.argv.slice(2)
if (role === 'echo') echo(ifname)
else if (role === 'ping') await ping(ifname, Number(rounds))
else if (role === 'cost') await cost(ifname)
else await orchestrate(Number(role ?? 2000))
