/**
 * Talks to a probe child process (frame-probe, link-probe) over JSON lines: requests on stdin with a `seq`,
 * replies and events on stdout. Every message received is kept, so tests can wait for something that may
 * already have arrived (`waitFor(pred, {from: mark})`).
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {isErrorCode} from '../../src/error-codes.js'
import {VdpAgentError} from '../../src/errors.js'
import type {Lab, LabProcess} from '../../src/lab/netns.js'

export type ProbeMessage = Record<string, unknown> & {ev: string}

class ProbeError extends VdpAgentError {}

export class ProbeClient {
  readonly messages: ProbeMessage[] = []
  private stderrText = ''
  private nextSeq = 1
  private waiters = new Set<() => void>()
  private exitedFlag = false

  constructor(readonly proc: LabProcess) {
    const {stdout, stderr, stdin} = proc.child
    if (!stdout || !stdin) throw new ProbeError('PROBE_NO_STDIO', 'probe needs piped stdin and stdout')
    createInterface({input: stdout}).on('line', (line) => {
      if (!line.trim()) return
      try {
        this.messages.push(JSON.parse(line) as ProbeMessage)
      } catch {
        this.messages.push({ev: 'unparsed', line})
      }
      this.wake()
    })
    stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString()
    })
    void proc.exited.then(() => {
      this.exitedFlag = true
      this.wake()
    })
  }

  get stderr(): string {
    return this.stderrText
  }

  /** The index the next message will have: pass it as `from` to wait only for later messages. */
  mark(): number {
    return this.messages.length
  }

  /** Sends a request and resolves with its reply; rejects with ProbeError when the probe reports failure. */
  async request(op: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<ProbeMessage> {
    const seq = this.nextSeq++
    const from = this.mark()
    this.proc.child.stdin!.write(`${JSON.stringify({op, seq, ...args})}\n`)
    const reply = await this.waitFor((m) => m.ev === 'reply' && m.seq === seq, {
      from,
      timeoutMs,
      what: `reply to ${op}`,
    })
    if (reply.ok !== true) {
      const error = (reply.error ?? {}) as Record<string, unknown>
      const code = String(error.code ?? '')
      throw new ProbeError(isErrorCode(code) ? code : 'PROBE_REQUEST_FAILED', `${op}: ${String(error.message)}`, error)
    }
    return reply
  }

  /** The first message at or after `from` matching `predicate`, waiting for it up to `timeoutMs`. */
  waitFor(
    predicate: (m: ProbeMessage) => boolean,
    {from = 0, timeoutMs = 10_000, what = 'probe message'}: {from?: number; timeoutMs?: number; what?: string} = {},
  ): Promise<ProbeMessage> {
    return new Promise((resolve, reject) => {
      let scanned = from
      const check = (): boolean => {
        for (; scanned < this.messages.length; scanned++) {
          const m = this.messages[scanned]!
          if (predicate(m)) {
            resolve(m)
            return true
          }
        }
        if (this.exitedFlag) {
          reject(
            new ProbeError('PROBE_EXITED', `probe exited while waiting for ${what}; stderr: ${this.stderrText.trim()}`),
          )
          return true
        }
        return false
      }
      if (check()) return
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(
          new ProbeError(
            'PROBE_TIMEOUT',
            `timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${this.stderrText.trim()}`,
          ),
        )
      }, timeoutMs)
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer)
          this.waiters.delete(waiter)
        }
      }
      this.waiters.add(waiter)
    })
  }

  /** Messages at or after `from` matching `predicate`, without waiting. */
  collect(predicate: (m: ProbeMessage) => boolean, from = 0): ProbeMessage[] {
    return this.messages.slice(from).filter(predicate)
  }

  /** Asks the probe to exit; stops it by PID if it does not. */
  async close(): Promise<void> {
    if (!this.exitedFlag) {
      this.proc.child.stdin?.end(`${JSON.stringify({op: 'exit', seq: 0})}\n`)
      const exited = await Promise.race([
        this.proc.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref()),
      ])
      if (!exited) await this.proc.stop()
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

/** The package root (where binding.gyp is), from test/helpers or dist/test/helpers. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'binding.gyp'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new ProbeError('PROBE_NO_ROOT', 'cannot find the package root')
    dir = parent
  }
  return dir
}

/** The .ts files `entry` imports, transitively, through relative imports (`from './x.js'`). */
function importClosure(entry: string): string[] {
  const seen = new Set<string>()
  const pending = [entry]
  while (pending.length) {
    const file = pending.pop()!
    if (seen.has(file) || !existsSync(file)) continue
    seen.add(file)
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g))
      pending.push(join(dirname(file), `${spec}.ts`))
  }
  return [...seen]
}

/**
 * Path of a compiled test process (dist/test/helpers/processes/<name>.js). Probes run as `node` child processes
 * inside namespaces, so they run compiled code: refuse a dist/ older than the script's sources (its import closure).
 */
export function compiledTestProcess(name: string): string {
  const root = packageRoot()
  const stale = importClosure(join(root, 'test', 'helpers', 'processes', `${name}.ts`))
    .filter((source) => {
      const compiled = join(root, 'dist', relative(root, source)).replace(/\.ts$/, '.js')
      return !existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs
    })
    .map((source) => relative(root, source))
  if (stale.length)
    throw new ProbeError(
      'DIST_STALE',
      `dist/ is missing or older than ${stale.join(', ')}: run "npx tsc -p tsconfig.json"`,
    )
  return join(root, 'dist', 'test', 'helpers', 'processes', `${name}.js`)
}

/** Starts a compiled probe inside a lab namespace and waits for its {ev:'ready'}. */
export async function startProbe(
  lab: Lab,
  ns: string,
  name: string,
  args: string[] = [],
  nodeFlags: string[] = [],
): Promise<ProbeClient> {
  const proc = lab.spawn(ns, [process.execPath, ...nodeFlags, compiledTestProcess(name), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const client = new ProbeClient(proc)
  await client.waitFor((m) => m.ev === 'ready', {what: `${name} ready`})
  return client
}
