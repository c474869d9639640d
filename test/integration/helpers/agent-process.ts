import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)
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

/** A daemon child process, run inside its own network namespace so it can never touch the host's links. */
export class AgentProcess {
  readonly child: ChildProcess
  output = ''
  readonly exited: Promise<number | null>

  private constructor(readonly netns: string, config: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, CLI, 'daemon', '--config', config], {env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe']})
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()))
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  static async start(netns: string, home: {config: string; socket: string}): Promise<AgentProcess> {
    const agent = new AgentProcess(netns, home.config)
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

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }

  async waitForLog(fragment: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.output.includes(fragment)) {
      if (Date.now() > deadline) throw new Error(`log never showed ${JSON.stringify(fragment)}:\n${this.output}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
}

/** A throwaway network namespace (name prefix vdpt- marks it as ours). */
export async function withNetns(): Promise<{name: string; remove(): Promise<void>}> {
  const name = `vdpt-${Math.random().toString(36).slice(2, 8)}`
  await run('ip', ['netns', 'add', name])
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
  return {name, remove: () => run('ip', ['netns', 'del', name]).then(() => undefined, () => undefined)}
}
