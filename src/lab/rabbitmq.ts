/**
 * A private RabbitMQ broker for tests, benchmarks and the controller demo: Debian's rabbitmq-server run
 * directly (no systemd, no `rabbitmq` user), on 127.0.0.1 only, with its own port, directory, Erlang cookie
 * and epmd, so it shares nothing with a system broker or another test's broker. Stopped by PID.
 * Recipe and measurements: docs/rpc.md.
 */
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {createConnection} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {VdpAgentError} from '../errors.js'

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin'
const EPMD_CANDIDATES = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd']

export interface BrokerOptions {
  /** AMQP port on 127.0.0.1 (the distribution port is +20000, epmd +21000, CLI ports +22000..+22010). */
  port: number
  /** Keep the data directory between stop and start (a broker restart keeps nothing oslo declares anyway). */
  dir?: string
  /** Run inside this network namespace (on its loopback), e.g. the agent's namespace of a lab. */
  netns?: string
}

function waitPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve) => {
    const attempt = () => {
      const sock = createConnection({host: '127.0.0.1', port})
      sock.once('connect', () => {
        sock.destroy()
        resolve(true)
      })
      sock.once('error', () => {
        sock.destroy()
        if (Date.now() > deadline) resolve(false)
        else setTimeout(attempt, 200)
      })
    }
    attempt()
  })
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

/** A free-enough port in a private range, derived from the PID (each helper process gets its own). */
export function brokerPortFor(offset = 0): number {
  return 20_000 + ((process.pid * 7 + offset * 101) % 9_000)
}

export class PrivateBroker {
  readonly dir: string
  readonly url: string
  private server?: ChildProcess
  private epmd?: ChildProcess
  private readonly env: NodeJS.ProcessEnv

  constructor(readonly opts: BrokerOptions) {
    if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server')))
      throw new VdpAgentError('LAB_NO_RABBITMQ', 'rabbitmq-server is not installed (make setup installs it)')
    const port = opts.port
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), `vdp-rmq-${port}-`))
    this.url = `amqp://guest:guest@127.0.0.1:${port}/`
    const d = this.dir
    for (const sub of ['mnesia', 'log', 'plugins-expand']) mkdirSync(join(d, sub), {recursive: true})
    const cookie = join(d, '.erlang.cookie')
    if (!existsSync(cookie))
      writeFileSync(cookie, `VDPAGENT${port}COOKIE${Math.random().toString(36).slice(2, 10).toUpperCase()}`, {
        mode: 0o400,
      })
    writeFileSync(join(d, 'rabbitmq-env.conf'), '')
    writeFileSync(
      join(d, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${port}`,
        'default_user = guest',
        'default_pass = guest',
        'loopback_users.guest = true',
        `log.file = ${join(d, 'log', 'rabbit.log')}`,
        'log.console = false',
        'heartbeat = 60',
        '',
      ].join('\n'),
    )
    writeFileSync(join(d, 'advanced.config'), '[].\n')
    writeFileSync(join(d, 'enabled_plugins'), '[].\n')
    const distArgs = `-kernel inet_dist_use_interface {127,0,0,1}`
    this.env = {
      ...process.env,
      HOME: d,
      RABBITMQ_NODENAME: `rmq${port}@localhost`,
      RABBITMQ_USE_LONGNAME: 'false',
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(port + 20_000),
      RABBITMQ_CONF_ENV_FILE: join(d, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(d, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_PID_FILE: join(d, 'rabbit.pid'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(d, 'plugins-expand'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: distArgs,
      RABBITMQ_CTL_ERL_ARGS: distArgs,
      RABBITMQ_CTL_DIST_PORT_MIN: String(port + 22_000),
      RABBITMQ_CTL_DIST_PORT_MAX: String(port + 22_010),
      ERL_EPMD_PORT: String(port + 21_000),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    }
  }

  /** argv, prefixed with `ip netns exec <ns>` when the broker lives in a namespace (that execs in place: same PID). */
  private wrap(argv: string[]): [string, string[]] {
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv
    return [full[0], full.slice(1)]
  }

  get running(): boolean {
    return this.server !== undefined && this.server.exitCode === null && this.server.signalCode === null
  }

  get pid(): number | undefined {
    return this.server?.pid
  }

  /** Start and wait until AMQP accepts connections and the node reports running (about 7 to 15 s). */
  async start(timeoutMs = 90_000): Promise<void> {
    if (this.running) return
    if (!this.epmd || this.epmd.exitCode !== null) {
      const epmdBin = EPMD_CANDIDATES.find((p) => existsSync(p)) ?? 'epmd'
      const [cmd, args] = this.wrap([epmdBin, '-port', String(this.opts.port + 21_000), '-address', '127.0.0.1'])
      this.epmd = spawn(cmd, args, {env: this.env, stdio: 'ignore'})
    }
    // stdout/stderr to files, never a pipe that may close (the broker then stalls, docs/rpc.md)
    const out = openSync(join(this.dir, 'log', 'stdout.log'), 'a')
    const [cmd, args] = this.wrap([join(RABBITMQ_BIN, 'rabbitmq-server')])
    this.server = spawn(cmd, args, {env: this.env, cwd: this.dir, stdio: ['ignore', out, out]})
    closeSync(out)
    // from outside a namespace its loopback port cannot be probed: check_running alone tells
    if (!this.opts.netns && !(await waitPort(this.opts.port, timeoutMs))) {
      await this.stop()
      throw new VdpAgentError(
        'LAB_RABBITMQ_START',
        `the private RabbitMQ on port ${this.opts.port} did not open its port in ${timeoutMs / 1000} s (logs in ${this.dir}/log)`,
      )
    }
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if ((await this.ctl(['-q', 'check_running'], 'rabbitmq-diagnostics').catch(() => null)) !== null) return
      await new Promise((r) => setTimeout(r, 500))
    }
    throw new VdpAgentError(
      'LAB_RABBITMQ_START',
      `the private RabbitMQ on port ${this.opts.port} is not running after ${timeoutMs / 1000} s`,
    )
  }

  /** Stop the broker (SIGTERM to its script, which stops beam.smp cleanly). `keepEpmd` for a restart. */
  async stop({keepEpmd = false} = {}): Promise<void> {
    const server = this.server
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM')
      if (!(await exited(server, 30_000))) server.kill('SIGKILL')
    }
    this.server = undefined
    if (!keepEpmd && this.epmd) {
      if (this.epmd.exitCode === null) this.epmd.kill('SIGTERM')
      await exited(this.epmd, 5_000)
      this.epmd = undefined
    }
  }

  /** Stop, then start again on the same port and directory (oslo's transient topology is gone afterwards). */
  async restart(): Promise<void> {
    await this.stop({keepEpmd: true})
    await this.start()
  }

  /** Stop and remove the private directory. */
  async destroy(): Promise<void> {
    await this.stop()
    if (!this.opts.dir) rmSync(this.dir, {recursive: true, force: true})
  }

  /** rabbitmqctl (or rabbitmq-diagnostics) against this node; argv only, no shell. */
  ctl(args: string[], tool: 'rabbitmqctl' | 'rabbitmq-diagnostics' = 'rabbitmqctl'): Promise<string> {
    return new Promise((resolve, reject) => {
      const [cmd, argv] = this.wrap([join(RABBITMQ_BIN, tool), '-n', `rmq${this.opts.port}@localhost`, ...args])
      execFile(cmd, argv, {env: this.env, cwd: this.dir, timeout: 60_000}, (err, stdout, stderr) => {
        if (err) reject(new VdpAgentError('LAB_RABBITMQCTL', `${tool} ${args.join(' ')}: ${stderr || err.message}`))
        else resolve(stdout)
      })
    })
  }
}
