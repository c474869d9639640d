/**
 * Network-namespace labs for tests, demos and benchmarks. A Lab creates uniquely named namespaces, links
 * created directly inside them (never in the root namespace), and child processes it tracks by PID;
 * destroy() stops only those children and deletes only those namespaces.
 *
 * Namespace names are `vdpt-<6 hex>-<creator pid>-<role>`: the random part keeps concurrent and dirty runs
 * apart, the PID lets sweepStaleLabs() tell a crashed run's leftovers from a live run's namespaces.
 */
import {execFile, spawn as spawnChild, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {VdpAgentError} from '../errors.js'
import {normalizeMac, parseMac, isGroupMac} from '../core/ethernet.js'
import {validateIfName} from '../net/ifname.js'

const LAB_PREFIX = 'vdpt-'
const LAB_NAME = /^vdpt-([0-9a-f]{6})-(\d+)-([a-z0-9]{1,8})$/
const ROLE = /^[a-z0-9]{1,8}$/

export class LabError extends VdpAgentError {}

export class LabCommandError extends LabError {
  constructor(argv: readonly string[], exitCode: number | string | null, stderr: string, stdout = '') {
    const output = (stderr.trim() || stdout.trim()).slice(0, 2000)
    super('LAB_COMMAND_FAILED', `${argv.join(' ')} failed (${exitCode}): ${output}`, {argv, exitCode, stderr, stdout})
  }
}

export class LabTimeoutError extends LabError {
  constructor(what: string, timeoutMs: number, details: Record<string, unknown> = {}) {
    super('LAB_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`, {timeoutMs, ...details})
  }
}

export interface ExecResult {
  stdout: string
  stderr: string
}

export interface ExecOptions {
  timeoutMs?: number
}

/** Runs a program (argv, never a shell string); rejects with LabCommandError on a non-zero exit. */
export function run(argv: readonly string[], {timeoutMs = 15_000}: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv
  if (!file) throw new LabError('LAB_BAD_ARGV', 'empty argv')
  for (const arg of argv) {
    if (typeof arg !== 'string' || arg.includes('\0'))
      throw new LabError('LAB_BAD_ARGV', `bad argument ${JSON.stringify(arg)}`)
  }
  return new Promise((resolve, reject) => {
    execFile(file, args, {timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8'}, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException & {code?: number | string}).code ?? null
        reject(new LabCommandError(argv, err.killed ? 'timeout' : code, stderr, stdout))
      } else resolve({stdout, stderr})
    })
  })
}

export type Operstate = 'up' | 'down' | 'lowerlayerdown' | 'dormant' | 'unknown' | 'notpresent' | 'testing'

export interface VethEnd {
  ns: string
  ifname: string
  /** Set at creation, before the link is up, so link-local addresses and LLDP IDs are reproducible. */
  mac?: string
}

export interface LinkChange {
  up?: boolean
  down?: boolean
  name?: string
  master?: string
  nomaster?: boolean
  mac?: string
}

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source'

export interface LabProcess {
  readonly pid: number
  readonly ns: string
  readonly argv: readonly string[]
  readonly child: ChildProcess
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>
}

/** Whether `pid` is a live process (a zombie counts as dead: nobody reaps orphans here). */
async function processAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

export async function listNamespaces(): Promise<string[]> {
  const {stdout} = await run(['ip', '-j', 'netns', 'list'])
  if (!stdout.trim()) return []
  return (JSON.parse(stdout) as {name: string}[]).map((n) => n.name)
}

/**
 * Deletes `vdpt-*` namespaces whose creating process is gone (a crashed or killed run). Namespaces of live
 * runs, and names that do not follow the lab pattern, are left alone. Returns the names deleted.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const deleted: string[] = []
  for (const name of await listNamespaces()) {
    const match = LAB_NAME.exec(name)
    if (!match || (await processAlive(Number(match[2])))) continue
    try {
      await run(['ip', 'netns', 'del', name])
      deleted.push(name)
    } catch {
      // another sweeper got there first
    }
  }
  return deleted
}

export class Lab {
  readonly id = randomBytes(3).toString('hex')
  private readonly namespaces: string[] = []
  private readonly children = new Set<LabProcess>()
  private readonly tempDirs: string[] = []
  private destroying?: Promise<void>

  /** Creates `vdpt-<id>-<pid>-<role>` with its loopback up; returns the name. */
  async addNamespace(role: string): Promise<string> {
    this.assertLive()
    if (!ROLE.test(role))
      throw new LabError('LAB_BAD_ROLE', `namespace role must match ${ROLE}: ${JSON.stringify(role)}`)
    const name = `${LAB_PREFIX}${this.id}-${process.pid}-${role}`
    if (this.namespaces.includes(name)) throw new LabError('LAB_DUPLICATE_NS', `${name} already exists in this lab`)
    await run(['ip', 'netns', 'add', name])
    this.namespaces.push(name)
    await run(['ip', '-n', name, 'link', 'set', 'dev', 'lo', 'up'])
    return name
  }

  /** A veth pair whose ends are created directly inside their namespaces. */
  async addVethPair(a: VethEnd, b: VethEnd, {up = true}: {up?: boolean} = {}): Promise<void> {
    const nsA = this.ownNamespace(a.ns)
    const nsB = this.ownNamespace(b.ns)
    await run([
      'ip',
      '-n',
      nsA,
      'link',
      'add',
      validateIfName(a.ifname),
      ...this.macArgs(a.mac),
      'type',
      'veth',
      'peer',
      'name',
      validateIfName(b.ifname),
      ...this.macArgs(b.mac),
      'netns',
      nsB,
    ])
    if (up) {
      await this.setLink(nsA, a.ifname, {up: true})
      await this.setLink(nsB, b.ifname, {up: true})
    }
  }

  async addBridge(ns: string, ifname: string, {mac, up = true}: {mac?: string; up?: boolean} = {}): Promise<void> {
    await run([
      'ip',
      '-n',
      this.ownNamespace(ns),
      'link',
      'add',
      validateIfName(ifname),
      ...this.macArgs(mac),
      'type',
      'bridge',
    ])
    if (up) await this.setLink(ns, ifname, {up: true})
  }

  async addMacvlan(
    ns: string,
    ifname: string,
    lower: string,
    {mode = 'bridge', mac, up = true}: {mode?: MacvlanMode; mac?: string; up?: boolean} = {},
  ): Promise<void> {
    if (!['private', 'vepa', 'bridge', 'passthru', 'source'].includes(mode))
      throw new LabError('LAB_BAD_MODE', `macvlan mode ${mode}`)
    await run([
      'ip',
      '-n',
      this.ownNamespace(ns),
      'link',
      'add',
      'link',
      validateIfName(lower),
      'name',
      validateIfName(ifname),
      ...this.macArgs(mac),
      'type',
      'macvlan',
      'mode',
      mode,
    ])
    if (up) await this.setLink(ns, ifname, {up: true})
  }

  /** Adds an IPv4 address ("192.0.2.1/24"); labs should use the TEST-NET ranges. */
  async addAddress(ns: string, ifname: string, cidr: string): Promise<void> {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
    if (!match || match.slice(1, 5).some((o) => Number(o) > 255) || Number(match[5]) > 32) {
      throw new LabError('LAB_BAD_ADDRESS', `expected an IPv4 CIDR like 192.0.2.1/24: ${JSON.stringify(cidr)}`)
    }
    await run(['ip', '-n', this.ownNamespace(ns), 'addr', 'add', cidr, 'dev', validateIfName(ifname)])
  }

  async deleteLink(ns: string, ifname: string): Promise<void> {
    await run(['ip', '-n', this.ownNamespace(ns), 'link', 'del', 'dev', validateIfName(ifname)])
  }

  /** `ip link set dev <ifname> ...` inside the namespace. */
  async setLink(ns: string, ifname: string, change: LinkChange): Promise<void> {
    const args: string[] = []
    if (change.up && change.down) throw new LabError('LAB_BAD_CHANGE', 'both up and down')
    if (change.master !== undefined && change.nomaster) throw new LabError('LAB_BAD_CHANGE', 'both master and nomaster')
    if (change.up) args.push('up')
    if (change.down) args.push('down')
    if (change.mac !== undefined) args.push('address', this.unicastMac(change.mac))
    if (change.name !== undefined) args.push('name', validateIfName(change.name))
    if (change.master !== undefined) args.push('master', validateIfName(change.master))
    if (change.nomaster) args.push('nomaster')
    if (args.length === 0) throw new LabError('LAB_BAD_CHANGE', 'empty link change')
    await run(['ip', '-n', this.ownNamespace(ns), 'link', 'set', 'dev', validateIfName(ifname), ...args])
  }

  /** `ip -j -d link show` inside the namespace. */
  async links(ns: string): Promise<IpLinkJson[]> {
    const {stdout} = await run(['ip', '-n', this.ownNamespace(ns), '-j', '-d', 'link', 'show'])
    return JSON.parse(stdout) as IpLinkJson[]
  }

  /** Runs argv inside the namespace (`ip netns exec <ns> ...`). */
  exec(ns: string, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.ownNamespace(ns), ...argv], opts)
  }

  /** Starts argv inside the namespace; the Lab keeps its PID and stops it in destroy(). */
  spawn(ns: string, argv: readonly string[], opts: SpawnOptions = {}): LabProcess {
    this.assertLive()
    const full = ['netns', 'exec', this.ownNamespace(ns), ...argv]
    for (const arg of argv)
      if (typeof arg !== 'string' || arg.includes('\0'))
        throw new LabError('LAB_BAD_ARGV', `bad argument ${JSON.stringify(arg)}`)
    // `ip netns exec` execs the command in place, so the child's PID is the command's PID
    const child = spawnChild('ip', full, {stdio: ['ignore', 'pipe', 'pipe'], ...opts, shell: false})
    if (child.pid === undefined) throw new LabError('LAB_SPAWN_FAILED', `cannot start ${argv.join(' ')}`)
    const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        resolve({code: child.exitCode, signal: child.signalCode})
      else child.once('exit', (code, signal) => resolve({code, signal}))
    })
    const proc: LabProcess = {
      pid: child.pid,
      ns,
      argv,
      child,
      exited,
      stop: (graceMs = 3000) => stopChild(child, exited, graceMs),
    }
    this.children.add(proc)
    void exited.then(() => this.children.delete(proc))
    return proc
  }

  /**
   * Polls /sys/class/net/<ifname>/operstate inside the namespace until it reads `state` (or one of them:
   * a veth whose peer is down reads "down" on recent kernels and "lowerlayerdown" on older ones).
   */
  async waitForOperstate(
    ns: string,
    ifname: string,
    state: Operstate | readonly Operstate[],
    {timeoutMs = 5000, intervalMs = 50}: {timeoutMs?: number; intervalMs?: number} = {},
  ): Promise<void> {
    const path = `/sys/class/net/${validateIfName(ifname)}/operstate`
    const wanted: readonly string[] = typeof state === 'string' ? [state] : state
    let last = ''
    await this.waitFor(
      `${ns}/${ifname} operstate ${wanted.join('|')}`,
      async () => {
        last = (await this.exec(ns, ['cat', path]).catch(() => ({stdout: '(missing)'}))).stdout.trim()
        return wanted.includes(last)
      },
      {timeoutMs, intervalMs, details: () => ({last})},
    )
  }

  /** Polls `check` until it resolves true; bounded by `timeoutMs`. */
  async waitFor(
    what: string,
    check: () => Promise<boolean> | boolean,
    {
      timeoutMs = 5000,
      intervalMs = 50,
      details,
    }: {timeoutMs?: number; intervalMs?: number; details?: () => Record<string, unknown>} = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (await check()) return
      if (Date.now() >= deadline) throw new LabTimeoutError(what, timeoutMs, details?.() ?? {})
      await new Promise((r) => setTimeout(r, intervalMs))
    }
  }

  /** A private temporary directory, removed by destroy(). */
  async tempDir(label: string): Promise<string> {
    this.assertLive()
    const dir = await mkdtemp(join(tmpdir(), `${LAB_PREFIX}${this.id}-${label.replace(/[^a-z0-9]/gi, '')}-`))
    this.tempDirs.push(dir)
    return dir
  }

  get namespaceNames(): readonly string[] {
    return this.namespaces
  }

  get runningProcesses(): readonly LabProcess[] {
    return [...this.children]
  }

  /** Stops this lab's children (by PID), deletes its namespaces and temp dirs. Safe to call twice. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown()
    return this.destroying
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.children].map((p) => p.stop()))
    for (const ns of this.namespaces.splice(0).reverse()) await run(['ip', 'netns', 'del', ns]).catch(() => undefined)
    for (const dir of this.tempDirs.splice(0)) await rm(dir, {recursive: true, force: true})
  }

  private assertLive(): void {
    if (this.destroying) throw new LabError('LAB_DESTROYED', `lab ${this.id} has been destroyed`)
  }

  /** Only this lab's namespaces are ever touched. */
  private ownNamespace(ns: string): string {
    this.assertLive()
    if (!this.namespaces.includes(ns))
      throw new LabError('LAB_FOREIGN_NS', `${JSON.stringify(ns)} is not a namespace of lab ${this.id}`)
    return ns
  }

  private unicastMac(mac: string): string {
    if (isGroupMac(parseMac(mac))) throw new LabError('LAB_BAD_MAC', `${mac} is a group address`)
    return normalizeMac(mac)
  }

  private macArgs(mac: string | undefined): string[] {
    return mac === undefined ? [] : ['address', this.unicastMac(mac)]
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM') // ChildProcess.kill signals exactly this PID
  const killed = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
  ])
  if (killed && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
    await exited
  }
}

/** The subset of `ip -j -d link show` the lab and the tests read. */
export interface IpLinkJson {
  ifindex: number
  ifname: string
  flags: string[]
  mtu: number
  operstate: string
  link_type: string
  address?: string
  master?: string
  link?: string
  link_index?: number
  parentbus?: string
  parentdev?: string
  linkinfo?: {info_kind?: string; info_slave_kind?: string; info_data?: Record<string, unknown>}
}
