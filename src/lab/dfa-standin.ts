/**
 * Drives the Python stand-in of the DFA server (test/rpc/dfa_server_standin.py, on the real oslo.messaging)
 * for tests, the RPC benchmark and the controller demo: JSON-line commands on its stdin, answers on its
 * stdout, and every request it served as a JSON line in a record file. Runs from a checkout only.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {VdpAgentError} from '../errors.js'

const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url))
const STANDIN_SCRIPT = join(ROOT, 'test', 'rpc', 'dfa_server_standin.py')
/** Debian's oslo.messaging is importable only by the system interpreter. */
const PYTHON = '/usr/bin/python3'

export interface StandinRecord {
  t: number
  method: string
  ctxt: Record<string, unknown>
  kwargs: Record<string, unknown>
  parsed?: Record<string, unknown>
  result?: unknown
  error?: string
  outcome?: {method: string; result?: unknown; error?: string; error_class?: string; elapsed_s: number}
}

export interface CallOutcome {
  method: string
  result?: unknown
  error?: string
  error_class?: string
  elapsed_s: number
}

/** The upstream server's vm_info dict (dfa_server.py `_make_vm_info`). */
export interface VmInfo {
  status: 'up' | 'down'
  vm_mac: string
  segmentation_id: number
  host: string
  port_uuid: string
  net_uuid: string
  oui: {ip_addr: string; vm_name: string; vm_uuid: string; fwd_mod: string; oui_id: string; gw_mac?: string}
}

/** Python `str()` of JSON-like data (single quotes, True/False/None), as the server builds `msg`. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
  if (Array.isArray(v)) return `[${v.map(pyStr).join(', ')}]`
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyStr(k)}: ${pyStr(x)}`)
    .join(', ')}}`
}

export class DfaStandin {
  private readonly child: ChildProcess
  private readonly waiters = new Map<number, (v: Record<string, unknown>) => void>()
  private nextId = 1
  private readonly ready: Promise<void>
  stderr = ''

  constructor(
    readonly opts: {
      url: string
      record: string
      react?: boolean
      pre92Replies?: boolean
      timeoutS?: number
      spawnArgv?: (argv: string[]) => string[]
    },
  ) {
    if (!existsSync(PYTHON)) throw new VdpAgentError('LAB_NO_PYTHON', `${PYTHON} is not installed`)
    const argv = [
      PYTHON,
      STANDIN_SCRIPT,
      '--url',
      opts.url,
      '--record',
      opts.record,
      '--timeout',
      String(opts.timeoutS ?? 60),
    ]
    if (opts.react) argv.push('--react')
    if (opts.pre92Replies) argv.push('--pre92-replies')
    const full = opts.spawnArgv ? opts.spawnArgv(argv) : argv
    this.child = spawn(full[0], full.slice(1), {stdio: ['pipe', 'pipe', 'pipe']})
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000)
    })
    this.ready = new Promise((resolve, reject) => {
      const lines = createInterface({input: this.child.stdout!})
      lines.on('line', (line) => {
        let msg: Record<string, unknown>
        try {
          msg = JSON.parse(line) as Record<string, unknown>
        } catch {
          return
        }
        if (msg.ready) resolve()
        const w = typeof msg.id === 'number' ? this.waiters.get(msg.id) : undefined
        if (w) {
          this.waiters.delete(msg.id as number)
          w(msg)
        }
      })
      this.child.once('exit', (code) =>
        reject(
          new VdpAgentError('LAB_STANDIN', `the DFA server stand-in exited (${code}): ${this.stderr.slice(-2000)}`),
        ),
      )
    })
    this.ready.catch(() => undefined)
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  async started(timeoutMs = 60_000): Promise<void> {
    let t: NodeJS.Timeout | undefined
    await Promise.race([
      this.ready,
      new Promise(
        (_, reject) =>
          (t = setTimeout(
            () =>
              reject(
                new VdpAgentError('LAB_STANDIN', `stand-in not ready in ${timeoutMs} ms: ${this.stderr.slice(-2000)}`),
              ),
            timeoutMs,
          )),
      ),
    ])
    clearTimeout(t)
  }

  private command(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiters.set(id, resolve)
      this.child.stdin!.write(`${JSON.stringify({...cmd, id})}\n`)
    })
  }

  setVms(host: string, vms: VmInfo[]): Promise<unknown> {
    return this.command({op: 'set_vms', host, vms})
  }

  fault(
    method: string,
    mode: 'raise' | 'sleep' | 'false' | 'none' | 'nobulk',
    opts: {seconds?: number; count?: number} = {},
  ): Promise<unknown> {
    return this.command({op: 'fault', method, mode, seconds: opts.seconds ?? 1, count: opts.count ?? -1})
  }

  /** A server -> agent call on `dfa_agent_<host>`; `msg` is sent as given (Python str() text or JSON). */
  async call(
    host: string,
    method: string,
    msg: string,
    ctxt: Record<string, unknown> = {},
    timeoutS?: number,
  ): Promise<CallOutcome> {
    return (await this.command({op: 'call', host, method, msg, ctxt, timeout: timeoutS})) as unknown as CallOutcome
  }

  records(method?: string): StandinRecord[] {
    if (!existsSync(this.opts.record)) return []
    const out: StandinRecord[] = []
    for (const line of readFileSync(this.opts.record, 'utf8').split('\n')) {
      if (!line) continue
      try {
        const r = JSON.parse(line) as StandinRecord
        if (!method || r.method === method) out.push(r)
      } catch {
        // a line being written
      }
    }
    return out
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = probe()
      if (v) return v
      if (Date.now() > deadline) throw new VdpAgentError('LAB_TIMEOUT', `timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** Close stdin: the stand-in leaves at once (os._exit); SIGKILL if it does not. By PID only. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const gone = new Promise((r) => this.child.once('exit', r))
    this.child.stdin!.end()
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await gone
    clearTimeout(t)
  }
}
