/**
 * The whole agent in one process, without root: the real `Daemon` wiring on in-memory edges. The host's `eth0`
 * and the ToR simulator's `sw0` are joined by a VirtualWire; the link inventory comes from a fake rtnetlink
 * source; the database is SQLite in memory, kept open across daemon restarts (it stands for the file a restarted
 * process opens again);
 * one ManualClock drives the daemon and the simulator. `settle(ms)` moves that clock from timer to timer and
 * lets the wire deliver in between, so seconds of protocol time cost milliseconds.
 *
 * New capabilities get their fast tests here: pass `ini` for their config, `dataplane` for a datapath, or a
 * `controller` edge, and drive the daemon through `daemon.intake`, `control(...)` and the simulator.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pino from 'pino'

import {parseConfigText, type LoadedConfig} from '../../src/config/load.js'
import {ManualClock, type TimerHandle} from '../../src/core/clock.js'
import type {ControlMethod, ControlResult} from '../../src/control/protocol.js'
import {controlHandlers} from '../../src/daemon/control-handlers.js'
import {Daemon, type DaemonEdges} from '../../src/daemon/daemon.js'
import {NoDataplane, type Dataplane} from '../../src/dataplane/dataplane.js'
import {TorSimulator, type TorEvent, type TorSimulatorOptions} from '../../src/lab/tor-simulator.js'
import type {Logger} from '../../src/log/logger.js'
import {MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import {LinkMonitor, type LinkMessageSink, type LinkMessageSource} from '../../src/net/links.js'
import type {RtLinkMessage} from '../../src/net/rtnetlink.js'
import type {JournalEntry} from '../../src/store/journal-repo.js'
import {Store} from '../../src/store/store.js'
import {loopback, newlink} from '../net/link-fixtures.js'

export const HOST_MAC = '02:00:00:00:01:01'
export const TOR_MAC = '02:00:00:00:02:01'
export const UPLINK = 'eth0'
const TOR_PORT = 'sw0'
/** 2026-01-01T00:00:00Z: the clock is the database's time base (epoch ms), so status shows real dates. */
const FLOW_EPOCH = Date.UTC(2026, 0, 1)

/**
 * The lab's agent.ini: auto uplink detection on veth ports (the lab's uplink is a veth, as in the integration
 * tests), short retries. flowHarness appends its `ini` option to it; the loader refuses a key set twice, so
 * to change one of these keys pass `baseIni` instead.
 */
const FLOW_INI = '[uplink]\nmode = auto\ncandidate_kinds = veth\n[vdp]\nretry_initial = 1\nretry_max = 4\n'

/** A ManualClock that also knows when its next timer is due, so `settle` can step from timer to timer. */
class SteppingClock extends ManualClock {
  private readonly dues = new Map<number, number>()

  override setTimer(delayMs: number, fn: () => void): TimerHandle {
    const handle: TimerHandle = super.setTimer(delayMs, () => {
      this.dues.delete(handle.timerId)
      fn()
    })
    this.dues.set(handle.timerId, this.now() + Math.max(0, delayMs))
    return handle
  }

  override clearTimer(handle: TimerHandle): void {
    this.dues.delete(handle.timerId)
    super.clearTimer(handle)
  }

  /** When the earliest live timer is due; undefined when none is scheduled. */
  nextDue(): number | undefined {
    let next: number | undefined
    for (const due of this.dues.values()) if (next === undefined || due < next) next = due
    return next
  }
}

/**
 * The kernel's link inventory as rtnetlink would report it: `lo` and the veth uplink `eth0` (with the MAC of
 * the wire's host port). `setCarrier` changes it and notifies, as a pulled or plugged cable does.
 */
class FakeLinkSource implements LinkMessageSource {
  private sink?: LinkMessageSink
  private readonly links = new Map<number, RtLinkMessage>([
    [1, loopback],
    [2, newlink({index: 2, name: UPLINK, kind: 'veth', mac: HOST_MAC})],
  ])

  subscribe(sink: LinkMessageSink): void {
    this.sink = sink
  }

  async dump(): Promise<RtLinkMessage[]> {
    return [...this.links.values()]
  }

  close(): void {
    this.sink = undefined
  }

  setCarrier(up: boolean): void {
    const message = newlink({index: 2, name: UPLINK, kind: 'veth', mac: HOST_MAC, state: up ? 'up' : 'no-carrier'})
    this.links.set(2, message)
    this.sink?.messages([message])
  }
}

export interface FlowOptions {
  /** agent.ini text appended to `baseIni`. */
  ini?: string
  /** Default FLOW_INI. */
  baseIni?: string
  /** ToR simulator options (its VLAN policy, faults, EVB, a stateFile to keep its VSIs across restartTor...). */
  tor?: Partial<TorSimulatorOptions>
  /** Start the simulator with the harness (default); false: the test calls `startTor()` (a switch not there yet). */
  torRunning?: boolean
  /** Default NoDataplane, a new one per daemon. */
  dataplane?: () => Dataplane
  controller?: DaemonEdges['controller']
  /** Lowest level kept in `logs` (default warn: what an operator is told about). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
}

/** One line the daemon (or the simulator) logged, as pino writes it. */
export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

/** pino's numeric level of `error`. */
const LOG_ERROR = 50

/** A pino logger that keeps its lines in memory (silent on the console), stamped with `now()` (the manual clock). */
function memoryLogger(
  level: NonNullable<FlowOptions['logLevel']> = 'warn',
  now: () => number = Date.now,
): {log: Logger; lines: LogLine[]} {
  const lines: LogLine[] = []
  const log = pino(
    {level, timestamp: () => `,"time":${now()}`},
    {write: (line: string) => void lines.push(JSON.parse(line) as LogLine)},
  )
  return {log, lines}
}

export type FlowHarness = Awaited<ReturnType<typeof flowHarness>>

export async function flowHarness(opts: FlowOptions = {}) {
  const clock = new SteppingClock(FLOW_EPOCH)
  const wire = new VirtualWire()
  const hostIo = new MemoryFrameIO('host')
  const torIo = new MemoryFrameIO('tor')
  wire.attach(hostIo, UPLINK, {mac: HOST_MAC}).attach(torIo, TOR_PORT, {mac: TOR_MAC})
  const links = new FakeLinkSource()
  const store = Store.open(':memory:')
  const {log, lines: logs} = memoryLogger(opts.logLevel, () => clock.now())
  const dir = mkdtempSync(join(tmpdir(), 'vdp-flow-'))
  const text = `${opts.baseIni ?? FLOW_INI}${opts.ini ?? ''}[general]\nuplink_override_file = ${join(dir, 'uplink-override')}\nstate_dir = ${dir}\ncontrol_socket = ${join(dir, 'control.sock')}\n`
  const loaded: LoadedConfig = parseConfigText(text, 'flow.ini')
  // the same text on disk: a SIGHUP (`daemon.reload()`) re-reads it; `rewriteConfig` changes it
  const configPath = join(dir, 'agent.ini')
  writeFileSync(configPath, text)

  /** Everything the simulator reported, across its restarts. */
  const torEvents: TorEvent[] = []
  const newTor = () =>
    new TorSimulator({
      frames: torIo,
      ifname: TOR_PORT,
      localMac: TOR_MAC,
      clock,
      log: log.child({side: 'tor'}),
      minTxGapMs: 0,
      onEvent: (e) => torEvents.push(e),
      ...opts.tor,
    })
  let tor = newTor()
  if (opts.torRunning ?? true) tor.start()

  const newDaemon = () =>
    new Daemon(
      {loaded, log, configPath},
      {
        clock,
        store,
        frames: hostIo,
        links: new LinkMonitor({source: links}),
        dataplane: opts.dataplane?.() ?? new NoDataplane(),
        ...(opts.controller ? {controller: opts.controller} : {}),
      },
    )
  let daemon = newDaemon()
  let running = false

  /** Let the wire and the daemon's promise chains run at the clock's current time until nothing moves. */
  const drain = async () => {
    let before: number
    let rounds = 0
    do {
      before = wire.log.length
      for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    } while (wire.log.length !== before && ++rounds < 100)
  }

  /** Fire the timers due next (no later than `limit`; none due: move to `limit`), then let the work they started finish. */
  const step = async (limit: number) => {
    const due = clock.nextDue()
    clock.advanceTo(due === undefined || due > limit ? limit : due)
    await drain()
  }

  /** Move the clock `ms` forward, timer by timer, delivering frames and finishing work after each. */
  const settle = async (ms = 0) => {
    const end = clock.now() + ms
    await drain()
    let steps = 0
    do {
      if (++steps > 100_000) throw new Error('settle: the timers never let time pass')
      await step(end)
    } while (clock.now() < end || (clock.nextDue() ?? Infinity) <= end)
  }

  /**
   * Move the clock timer by timer until `done` holds, at the first moment it does; throws naming `what` when it
   * still does not after `withinMs` of clock time.
   */
  const until = async (what: string, done: () => boolean, withinMs = 60_000) => {
    const deadline = clock.now() + withinMs
    await drain()
    while (!done()) {
      if (clock.now() >= deadline) throw new Error(`after ${withinMs} ms of clock time, still not: ${what}`)
      await step(deadline)
    }
  }

  const handlers = () => controlHandlers(daemon)

  return {
    clock,
    wire,
    hostIo,
    torIo,
    links,
    store,
    loaded,
    torEvents,
    /** What was logged at `logLevel` and above, daemon and simulator alike. */
    logs,
    /** Lines logged at error level or above: a flow that went as it should logs none. */
    errors: () => logs.filter((l) => l.level >= LOG_ERROR),
    settle,
    until,
    /** Replace the config file's text (`edit` gets the current one); `daemon.reload()` then reads it. */
    rewriteConfig(edit: (text: string) => string) {
      writeFileSync(configPath, edit(text))
    },
    get daemon() {
      return daemon
    },
    get tor() {
      return tor
    },
    async start() {
      await daemon.start()
      running = true
      await settle()
    },
    /** Stop this daemon and start a new one on the same database: the restart of the process. */
    async restartDaemon() {
      await daemon.stop()
      await drain()
      daemon = newDaemon()
      await daemon.start()
      await settle()
    },
    /**
     * The daemon killed (kill -9) and started again: nothing it sends while stopping reaches the switch.
     * `whileDown` runs between the two, the wire still cut (the switch can go away unheard, say).
     */
    async crashDaemon(whileDown?: () => void) {
      wire.carrier = false
      await daemon.stop()
      await drain()
      whileDown?.()
      await drain()
      wire.carrier = true
      daemon = newDaemon()
      await daemon.start()
      await settle()
    },
    /** Start the simulator created with `torRunning: false`. */
    async startTor() {
      tor.start()
      await settle()
    },
    /** Stop the simulator and start a new one: without a `tor.stateFile` it forgets every VSI (a switch reload). */
    async restartTor() {
      tor.stop()
      await drain()
      tor = newTor()
      tor.start()
      await settle()
    },
    /**
     * The simulator killed (kill -9) and started again: no shutdown LLDPDU reaches the host, and without a
     * `tor.stateFile` the new one holds no VSI and has not heard the host (its EVB TLV echoes nothing).
     */
    async crashTor() {
      wire.carrier = false
      tor.stop()
      await drain()
      wire.carrier = true
      tor = newTor()
      tor.start()
      await settle()
    },
    /** Pull (false) or plug (true) the uplink's cable: the wire's carrier and the kernel's link state. */
    async cable(up: boolean) {
      wire.carrier = up
      links.setCarrier(up)
      await settle()
    },
    /** A control-socket method, answered as the CLI gets it (typed by ControlMethods). */
    async control<M extends ControlMethod>(method: M, params?: unknown): Promise<ControlResult<M>> {
      const handler = handlers()[method]
      if (!handler) throw new Error(`no control method ${method}`)
      return (await handler(params)) as ControlResult<M>
    },
    journal(kind?: string): JournalEntry[] {
      const all = store.journal.list({limit: 10_000})
      return kind === undefined ? all : all.filter((e) => e.kind === kind)
    },
    torOf<T extends TorEvent['type']>(type: T) {
      return torEvents.filter((e): e is TorEvent & {type: T} => e.type === type)
    },
    async close() {
      if (running) await daemon.stop()
      tor.stop()
      await drain()
      store.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
