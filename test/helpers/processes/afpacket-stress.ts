/**
 * afpacket-stress: lifetime torture for native/afpacket.c, run inside a lab namespace that has a veth pair
 * <tx> <-> <rx> (both ends in that namespace):
 *   ip netns exec <ns> node --expose-gc dist/test/helpers/processes/afpacket-stress.js <tx> <rx> [cycles]
 * Cycles through every way a socket can live and die (never started and dropped, started and closed,
 * started twice, closed twice, closed from inside its callback with more frames queued, a callback that
 * throws, a started socket left to the GC, a worker thread that exits with a socket open), then forces GC
 * until the addon's live counts settle. Prints one JSON line: {ev:'result', ...}. Asserts nothing about
 * time; the caller checks the counts.
 */
import {readdirSync} from 'node:fs'
import {isMainThread, parentPort, Worker, workerData} from 'node:worker_threads'
import {loadAfPacketAddon, type AfPacketAddon} from '../../../src/net/frames.js'

const ETHERTYPE = 0x88b5 // IEEE local experimental: nothing else on the link uses it
const GROUP = Buffer.from('0180c200000e', 'hex')

type NativeSocket = InstanceType<AfPacketAddon['PacketSocket']>

const gc = (globalThis as {gc?: () => void}).gc
const tick = () => new Promise<void>((r) => setImmediate(r))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const openFds = () => readdirSync('/proc/self/fd').length

function frame(tag: number): Buffer {
  const f = Buffer.alloc(60)
  GROUP.copy(f, 0)
  Buffer.from('020000000a01', 'hex').copy(f, 6)
  f.writeUInt16BE(ETHERTYPE, 12)
  f.writeUInt32BE(tag, 14)
  return f
}

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return String((err as {code?: string}).code)
  }
}

/** In a worker: open and start a socket, report, and never close it. */
function workerMain(): void {
  const {rx} = workerData as {rx: string}
  const addon = loadAfPacketAddon()
  const socket = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
  socket.start(
    () => undefined,
    () => undefined,
  )
  parentPort!.postMessage('started')
}

/** Every scenario; returns what it saw. Its locals (the sender, the left-open socket) die with it. */
async function torture(addon: AfPacketAddon, tx: string, rx: string, cycles: number, gc: () => void) {
  const errors = new Map<string, number>()
  const note = (code: string) => errors.set(code, (errors.get(code) ?? 0) + 1)
  let uncaught = 0
  const onUncaught = (err: Error) => {
    if (err.message === 'deliberate') uncaught++
    else throw err
  }
  process.on('uncaughtException', onUncaught)

  const sender = new addon.PacketSocket(tx, ETHERTYPE, [])
  const baselineFds = openFds()
  let closedInCallback = 0
  let deliveredAfterClose = 0
  let deliveredAfterThrow = 0
  let rssAfterWarmup = 0

  for (let i = 0; i < cycles; i++) {
    if (i === Math.min(500, cycles - 1)) {
      gc()
      await tick()
      rssAfterWarmup = process.memoryUsage().rss
    }
    switch (i % 6) {
      case 0: {
        const s = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
        s.start(
          () => undefined,
          () => undefined,
        )
        s.close()
        break
      }
      case 1: // never started, dropped: only the GC finalizer frees it
        new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
        break
      case 2: {
        const s = new addon.PacketSocket(rx, ETHERTYPE, [])
        s.start(() => undefined)
        note(codeOf(() => s.start(() => undefined))) // ERR_ALREADY_STARTED, and nothing leaked
        s.close()
        note(codeOf(() => s.start(() => undefined))) // EBADF
        break
      }
      case 3: {
        // two frames queued; the first callback closes the socket; the second must never be delivered
        let calls = 0
        const s: NativeSocket = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
        const done = new Promise<void>((resolve) => {
          s.start(() => {
            calls++
            s.close()
            resolve()
          })
        })
        sender.send(frame(i))
        sender.send(frame(i + 1))
        await done
        await tick()
        closedInCallback++
        if (calls > 1) deliveredAfterClose++
        break
      }
      case 4: {
        const s = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
        s.start(() => undefined)
        s.close()
        s.close()
        note(codeOf(() => s.send(frame(i)))) // EBADF
        break
      }
      case 5: {
        note(codeOf(() => new addon.PacketSocket(rx, ETHERTYPE, [Buffer.from('0200000000', 'hex')]))) // ERR_INVALID_MULTICAST
        note(codeOf(() => new addon.PacketSocket('x'.repeat(16), ETHERTYPE, []))) // ERR_INVALID_IFNAME
        note(codeOf(() => new addon.PacketSocket('nope0', ETHERTYPE, []))) // ENODEV
        if (i % 60 === 5) {
          // a throwing callback becomes an uncaught exception; the socket keeps working
          let calls = 0
          const s = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
          const second = new Promise<void>((resolve) => {
            s.start(() => {
              if (++calls === 1) throw new Error('deliberate')
              resolve()
            })
          })
          sender.send(frame(i))
          await sleep(1)
          sender.send(frame(i + 1))
          await second
          deliveredAfterThrow++
          s.close()
        }
        break
      }
    }
    if (i % 100 === 99) gc()
  }

  // A flood is read at most RX_BATCH_MAX (64) frames per poll wakeup: queue 200 from a timer callback,
  // then look from the check phase, which runs right after the one poll phase of that loop iteration.
  const batch = await new Promise<{queued: number; deliveredAtCheck: number; total: number}>((resolve) => {
    let delivered = 0
    const rxSocket = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
    rxSocket.start(() => {
      delivered++
    })
    setTimeout(() => {
      for (let i = 0; i < 200; i++) sender.send(frame(i))
      setImmediate(() => {
        const deliveredAtCheck = delivered
        const queued = rxSocket.stats().kernelPackets
        setTimeout(() => {
          rxSocket.close()
          resolve({queued, deliveredAtCheck, total: delivered})
        }, 50)
      })
    }, 0)
  })

  // A started socket nobody closes stays alive through GC (it holds itself) until closed.
  let leftOpen: NativeSocket | undefined = new addon.PacketSocket(rx, ETHERTYPE, [GROUP])
  leftOpen.start(() => undefined)
  const leftOpenHandle = leftOpen
  leftOpen = undefined
  gc()
  await tick()
  await tick()
  const whileLeftOpen = addon.liveCounts()
  leftOpenHandle.close()

  // A worker that exits with a started socket: the environment cleanup hook must close it.
  const before = addon.liveCounts()
  const worker = new Worker(new URL(import.meta.url), {workerData: {rx}})
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  const duringWorker = addon.liveCounts()
  await worker.terminate()
  const afterWorker = addon.liveCounts()

  sender.close()
  // the listener's closure shares this function's context: left installed, it would keep `sender` alive
  process.off('uncaughtException', onUncaught)
  return {
    cycles,
    batch,
    whileLeftOpen,
    worker: {before, during: duringWorker, after: afterWorker},
    baselineFds,
    rssAfterWarmup,
    errors: Object.fromEntries(errors),
    closedInCallback,
    deliveredAfterClose,
    uncaught,
    deliveredAfterThrow,
  }
}

async function main(): Promise<void> {
  const [tx, rx, cyclesArg] = process.argv.slice(2)
  if (!tx || !rx) throw new Error('usage: afpacket-stress <tx-ifname> <rx-ifname> [cycles]')
  if (!gc) throw new Error('run with --expose-gc')
  const addon = loadAfPacketAddon()
  const {baselineFds, rssAfterWarmup, ...seen} = await torture(addon, tx, rx, Number(cyclesArg ?? 2000), gc)
  let settled = addon.liveCounts()
  for (let round = 0; round < 200 && (settled.sockets !== 0 || settled.fds !== 0); round++) {
    gc()
    await tick()
    await sleep(5)
    settled = addon.liveCounts()
  }
  gc()
  await tick()
  process.stdout.write(
    `${JSON.stringify({
      ev: 'result',
      ...seen,
      live: settled,
      fds: {baseline: baselineFds, end: openFds()},
      rss: {afterWarmup: rssAfterWarmup, end: process.memoryUsage().rss},
    })}\n`,
  )
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`)
    process.exit(1)
  })
} else {
  workerMain()
}
