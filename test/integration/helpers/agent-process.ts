import {type ChildProcess, execFile} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Lab, LabProcess} from '../../../src/lab/netns.js'
export const REPO = new URL('../../../', import.meta.url).pathname
export const CLI = join(REPO, 'bin', 'run.js')
/** vitest sets NODE_ENV=test, which makes oclif look for TypeScript sources; the children run the build. */
const CHILD_ENV = {...process.env, NODE_ENV: 'production', VDP_AGENT_CONFIG: ''}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the compiled CLI (optionally inside a network namespace) and collect its output. */
export function cli(args: string[], opts: {netns?: string} = {}): Promise<CliResult> {
  const argv = opts.netns ? ['netns', 'exec', opts.netns, process.execPath, CLI, ...args] : [CLI, ...args]
  const cmd = opts.netns ? 'ip' : process.execPath
  return new Promise((resolve) => {
    execFile(cmd, argv, {env: CHILD_ENV, timeout: 30_000}, (err, stdout, stderr) => {
      const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? ((err as {code: number}).code) : 1) : 0
      resolve({code, stdout, stderr})
    })
  })
}

/** A temporary agent home: config, state dir, socket and override file under one directory. */
export function makeAgentHome(extra = ''): {dir: string; config: string; socket: string; override: string} {
  const dir = mkdtempSync(join(tmpdir(), 'vdp-agent-e2e-'))
  const socket = join(dir, 'run', 'control.sock')
  const override = join(dir, 'etc', 'uplink-override')
  const config = join(dir, 'agent.ini')
  writeFileSync(
    config,
    `[general]\nstate_dir = ${join(dir, 'state')}\ncontrol_socket = ${socket}\nuplink_override_file = ${override}\n[log]\nlevel = debug\nformat = json\n${extra}`,
  )
  return {dir, config, socket, override}
}

/** A daemon child process in a lab namespace, so it can never touch the host's links; the Lab stops it by PID. */
export class AgentProcess {
  readonly proc: LabProcess
  output = ''

  private constructor(lab: Lab, ns: string, config: string) {
    this.proc = lab.spawn(ns, [process.execPath, CLI, 'daemon', '--config', config], {env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe']})
    this.proc.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()))
    this.proc.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()))
  }

  get child(): ChildProcess {
    return this.proc.child
  }

  static async start(lab: Lab, ns: string, home: {config: string; socket: string}): Promise<AgentProcess> {
    const agent = new AgentProcess(lab, ns, home.config)
    const deadline = Date.now() + 15_000
    while (!agent.output.includes('vdp-agent daemon started')) {
      if (agent.child.exitCode !== null) throw new Error(`daemon exited early (${agent.child.exitCode}):\n${agent.output}`)
      if (Date.now() > deadline) throw new Error(`daemon did not start:\n${agent.output}`)
      await new Promise((r) => setTimeout(r, 25))
    }
    if (!existsSync(home.socket)) throw new Error('daemon started without its control socket')
    return agent
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig)
  }

  /** SIGTERM (SIGKILL after a grace period); resolves with the exit code. */
  async stop(): Promise<number | null> {
    await this.proc.stop(10_000)
    return (await this.proc.exited).code
  }

  async waitForLog(fragment: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.output.includes(fragment)) {
      if (Date.now() > deadline) throw new Error(`log never showed ${JSON.stringify(fragment)}:\n${this.output}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
}

/** Poll `fn` until it returns a value that passes `ok` (bounded). */
export async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await fn()
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** `vdp-agent <args> --json` parsed. */
export async function cliJson<T = Record<string, unknown>>(args: string[], config: string): Promise<T> {
  const r = await cli([...args, '--json', '--config', config])
  if (r.code !== 0) throw new Error(`vdp-agent ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
