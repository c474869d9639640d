/**
 * The ToR simulator as a child process in a lab namespace (`ip netns exec NS node bin/run.js lab tor …
 * --json-events --control PATH`), for the integration tests, the demo and the benchmarks: its events as parsed
 * JSON lines, its control socket, and a stop that waits for the shutdown LLDPDU and a clean exit.
 */
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {callControl} from '../control/client.js'
import {validateIfName} from '../net/ifname.js'
import {LabError, LabTimeoutError, type Lab, type LabProcess} from './netns.js'

const READY_TIMEOUT_MS = 15_000

/** One line of `--json-events` output: a TorEvent, or ready / stopped. */
type TorProcessEvent = {type: string; time: string; [field: string]: unknown}

export interface TorProcessOptions {
  ifname: string
  /** More `lab tor` flags, e.g. ['--vlan-pool', '100-199', '--rka', '14']. */
  args?: readonly string[]
  /** Default: tor.sock in a lab temp dir. */
  controlPath?: string
}

export interface TorProcess {
  readonly pid: number
  readonly controlPath: string
  readonly events: readonly TorProcessEvent[]
  /** What it wrote to stderr (its log). */
  readonly log: string
  /** The index the next event will have: pass it as `from` to wait only for later events. */
  mark(): number
  waitForEvent(
    match: (event: TorProcessEvent) => boolean,
    opts?: {from?: number; timeoutMs?: number; what?: string},
  ): Promise<TorProcessEvent>
  /** A control-socket call (status, vsis, deassociate, change-vlan, set-faults). */
  call(method: string, params?: unknown): Promise<unknown>
  /** SIGTERM (it sends its shutdown LLDPDU), then the exit status. */
  stop(): Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** bin/run.js of the package this file belongs to (from src/ or dist/src/). */
function cliPath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'run.js')))
      return join(dir, 'bin', 'run.js')
    const parent = dirname(dir)
    if (parent === dir) throw new LabError('LAB_NO_CLI', 'cannot find bin/run.js above src/lab')
    dir = parent
  }
}

/** Starts the simulator in `ns` and resolves once it reports `ready` (its sockets are open). */
export async function startTorSimulator(lab: Lab, ns: string, opts: TorProcessOptions): Promise<TorProcess> {
  const ifname = validateIfName(opts.ifname)
  const controlPath = opts.controlPath ?? join(await lab.tempDir('tor'), 'tor.sock')
  const argv = [
    process.execPath,
    cliPath(),
    'lab',
    'tor',
    '--interface',
    ifname,
    '--control',
    controlPath,
    '--json-events',
    ...(opts.args ?? []),
  ]
  // The compiled CLI: under vitest NODE_ENV=test would make oclif look for TypeScript sources.
  const proc: LabProcess = lab.spawn(ns, argv, {
    env: {...process.env, NODE_ENV: 'production'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const events: TorProcessEvent[] = []
  let log = ''
  const waiters = new Set<() => void>()
  const wake = () => waiters.forEach((w) => w())
  createInterface({input: proc.child.stdout!}).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as TorProcessEvent)
    } catch {
      log += `(stdout) ${line}\n`
    }
    wake()
  })
  proc.child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  let exited = false
  void proc.exited.then(() => {
    exited = true
    wake()
  })

  const waitForEvent: TorProcess['waitForEvent'] = (
    match,
    {from = 0, timeoutMs = 10_000, what = 'a ToR simulator event'} = {},
  ) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = events.slice(from).find(match)
        if (found) finish(() => resolve(found))
        else if (exited)
          finish(() =>
            reject(new LabError('LAB_PEER_EXITED', `the ToR simulator exited while waiting for ${what}; log:\n${log}`)),
          )
      }
      const timer = setTimeout(() => finish(() => reject(new LabTimeoutError(what, timeoutMs, {log}))), timeoutMs)
      const finish = (fn: () => void) => {
        clearTimeout(timer)
        waiters.delete(check)
        fn()
      }
      waiters.add(check)
      check()
    })

  try {
    await waitForEvent((e) => e.type === 'ready', {timeoutMs: READY_TIMEOUT_MS, what: 'the ToR simulator to be ready'})
  } catch (err) {
    await proc.stop()
    throw err
  }
  return {
    pid: proc.pid,
    controlPath,
    events,
    get log() {
      return log
    },
    mark: () => events.length,
    waitForEvent,
    call: (method, params) => callControl(controlPath, method, params),
    stop: async () => {
      await proc.stop()
      return proc.exited
    },
  }
}
