/**
 * Runs a vdp-agent daemon inside a lab namespace (tests, the demo, benchmarks): a private home (config,
 * state, control socket, override file), the compiled CLI, its JSON log lines parsed as they arrive.
 */
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {VdpAgentError} from '../errors.js'
import type {Lab, LabProcess} from './netns.js'

/** The repository (or installed package) root: the CLI is bin/run.js there. */
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url))
export const CLI = join(ROOT, 'bin', 'run.js')
/** Children run the compiled CLI; NODE_ENV=test (vitest) would make oclif look for TypeScript sources. */
export const CHILD_ENV = {...process.env, NODE_ENV: 'production', VDP_AGENT_CONFIG: ''}

export interface AgentHome {
  dir: string
  config: string
  socket: string
  override: string
}

/** A temporary agent home; `extra` is appended to the config (more sections, not [general] or [log]). */
export function makeAgentHome(
  extra = '',
  {dir = mkdtempSync(join(tmpdir(), 'vdp-agent-home-')), logLevel = 'debug'} = {},
): AgentHome {
  const socket = join(dir, 'run', 'control.sock')
  const override = join(dir, 'etc', 'uplink-override')
  const config = join(dir, 'agent.ini')
  writeFileSync(
    config,
    `[general]\nstate_dir = ${join(dir, 'state')}\ncontrol_socket = ${socket}\nuplink_override_file = ${override}\n[log]\nlevel = ${logLevel}\nformat = json\n${extra}`,
  )
  return {dir, config, socket, override}
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the compiled CLI (optionally inside a network namespace) and collects its output. */
export function runCli(args: string[], opts: {netns?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  const cmd = opts.netns ? 'ip' : process.execPath
  const argv = opts.netns ? ['netns', 'exec', opts.netns, process.execPath, CLI, ...args] : [CLI, ...args]
  return new Promise((resolve) => {
    execFile(
      cmd,
      argv,
      {env: CHILD_ENV, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024},
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}

export interface LogLine {
  level: string
  time?: number
  msg: string
  [key: string]: unknown
}

/** A daemon child process in a lab namespace; the Lab stops it by PID in destroy(). */
export class AgentRunner {
  readonly proc: LabProcess
  output = ''
  readonly lines: LogLine[] = []
  private partial = ''

  private constructor(
    lab: Lab,
    ns: string,
    readonly home: AgentHome,
    argvPrefix: readonly string[] = [],
  ) {
    this.proc = lab.spawn(ns, [...argvPrefix, process.execPath, CLI, 'daemon', '--config', home.config], {
      env: CHILD_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.proc.child.stdout!.on('data', (d: Buffer) => this.take(d.toString()))
    this.proc.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()))
  }

  /** `argvPrefix` runs the daemon through a wrapper (nsenter into a private mount namespace, setpriv...). */
  static async start(
    lab: Lab,
    ns: string,
    home: AgentHome,
    timeoutMs = 15_000,
    argvPrefix: readonly string[] = [],
  ): Promise<AgentRunner> {
    const agent = new AgentRunner(lab, ns, home, argvPrefix)
    const deadline = Date.now() + timeoutMs
    while (!agent.output.includes('vdp-agent daemon started')) {
      if (agent.proc.child.exitCode !== null)
        throw new VdpAgentError('AGENT_EXITED', `daemon exited early (${agent.proc.child.exitCode}):\n${agent.output}`)
      if (Date.now() > deadline)
        throw new VdpAgentError('AGENT_START_TIMEOUT', `daemon did not start:\n${agent.output}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    if (!existsSync(home.socket))
      throw new VdpAgentError('AGENT_NO_SOCKET', 'daemon started without its control socket')
    return agent
  }

  get pid(): number {
    return this.proc.pid
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.child.kill(sig)
  }

  /** SIGTERM (SIGKILL after a grace period); resolves with the exit code. */
  async stop(): Promise<number | null> {
    await this.proc.stop(10_000)
    return (await this.proc.exited).code
  }

  /** The first log line from index `from` matching `match`, waiting for it. */
  async waitForLine(match: (l: LogLine) => boolean, {from = 0, timeoutMs = 10_000} = {}): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.lines.slice(from).find(match)
      if (hit) return hit
      if (this.proc.child.exitCode !== null)
        throw new VdpAgentError('AGENT_EXITED', `daemon exited while waiting:\n${this.output}`)
      if (Date.now() > deadline)
        throw new VdpAgentError('AGENT_WAIT_TIMEOUT', `no matching log line in ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  async waitForLog(fragment: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.output.includes(fragment)) {
      if (Date.now() > deadline)
        throw new VdpAgentError('AGENT_WAIT_TIMEOUT', `log never showed ${JSON.stringify(fragment)}:\n${this.output}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  private take(text: string): void {
    this.output += text
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() ?? ''
    for (const line of parts) {
      try {
        this.lines.push(JSON.parse(line.replace(/^<\d>/, '')) as LogLine)
      } catch {
        // not a JSON log line (pretty output, a stack trace): kept in `output` only
      }
    }
  }
}
