/**
 * Real LLDP/EVB/VDP peers inside a lab namespace, following docs/net.md "lldpd in a namespace" and "lldpad in
 * a namespace": private control sockets, config files and logs in a lab temp dir, readiness polled (never
 * slept on), and stop() by PID. Config values reaching a file or argv are validated first.
 */
import {closeSync, openSync} from 'node:fs'
import {chmod, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {validateIfName} from '../../src/net/ifname.js'
import {LabError, type ExecResult, type Lab, type LabProcess} from '../../src/lab/netns.js'

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62})$/
const READY_TIMEOUT_MS = 10_000

/** Starts argv in the namespace with stdout and stderr appended to `logPath` (so a chatty daemon never blocks). */
function spawnLogged(lab: Lab, ns: string, argv: string[], logPath: string): LabProcess {
  const fd = openSync(logPath, 'a')
  try {
    return lab.spawn(ns, argv, {stdio: ['ignore', fd, fd]})
  } finally {
    closeSync(fd) // the child has its own copy
  }
}

/** Fails fast with the daemon's log if it exits while we wait for it. */
async function waitReady(
  lab: Lab,
  proc: LabProcess,
  what: string,
  check: () => Promise<boolean>,
  logPath: string,
): Promise<void> {
  let exited = false
  void proc.exited.then(() => {
    exited = true
  })
  await lab.waitFor(
    what,
    async () => {
      if (exited) {
        throw new LabError(
          'LAB_PEER_EXITED',
          `${what}: the daemon exited; log:\n${await readFile(logPath, 'utf8').catch(() => '')}`,
        )
      }
      return check()
    },
    {timeoutMs: READY_TIMEOUT_MS, intervalMs: 100},
  )
}

async function succeeds(run: Promise<unknown>): Promise<boolean> {
  try {
    await run
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------------
// lldpd

export interface LldpdOptions {
  ifname: string
  hostname: string
  /** Seconds between LLDPDUs (TTL is 4x this); default 1 for tests. */
  txInterval?: number
  /** Extra lldpcli configuration lines ("configure ..."), e.g. custom TLVs or a chassis ID. */
  config?: string[]
}

export interface LldpdHandle {
  readonly pid: number
  readonly socketPath: string
  readonly logPath: string
  /** `lldpcli -f json0 show neighbors details` (json0: always arrays, whatever the neighbour count). */
  neighbors(): Promise<LldpcliJson0>
  lldpcli(argv: string[]): Promise<ExecResult>
  stop(): Promise<void>
}

/** The part of lldpcli's json0 output the tests read. */
interface LldpcliJson0 {
  lldp: Array<{
    interface?: Array<{
      name: string
      chassis?: Array<{id?: Array<{type: string; value: string}>; name?: Array<{value: string}>}>
      port?: Array<{id?: Array<{type: string; value: string}>; descr?: Array<{value: string}>}>
      [key: string]: unknown
    }>
  }>
}

function checkConfigLine(line: string): string {
  // one line each: a newline would smuggle in another command
  if (typeof line !== 'string' || !/^configure [\x20-\x7e]+$/.test(line)) {
    throw new LabError(
      'LAB_BAD_CONFIG',
      `lldpd config lines must be printable one-line "configure ..." commands: ${JSON.stringify(line)}`,
    )
  }
  return line
}

export async function startLldpd(lab: Lab, ns: string, opts: LldpdOptions): Promise<LldpdHandle> {
  const ifname = validateIfName(opts.ifname)
  if (!HOSTNAME.test(opts.hostname))
    throw new LabError('LAB_BAD_HOSTNAME', `bad hostname ${JSON.stringify(opts.hostname)}`)
  const txInterval = opts.txInterval ?? 1
  if (!Number.isInteger(txInterval) || txInterval < 1 || txInterval > 3600)
    throw new LabError('LAB_BAD_CONFIG', `txInterval ${txInterval}`)
  const dir = await lab.tempDir('lldpd')
  // lldpd's unprivileged half (user _lldpd) must reach the control socket: traverse, not list
  await chmod(dir, 0o711)
  const configPath = join(dir, 'lldpd.conf')
  const socketPath = join(dir, 'lldpd.sock')
  const logPath = join(dir, 'lldpd.log')
  const lines = [
    `configure system hostname ${opts.hostname}`,
    `configure lldp tx-interval ${txInterval}`,
    ...(opts.config ?? []),
  ]
  await writeFile(configPath, `${lines.map(checkConfigLine).join('\n')}\n`)
  // -d foreground, -k hide the kernel version, -u private control socket, -I this port only, -O config file
  const proc = spawnLogged(lab, ns, ['lldpd', '-d', '-k', '-u', socketPath, '-I', ifname, '-O', configPath], logPath)
  const lldpcli = (argv: string[]) => lab.exec(ns, ['lldpcli', '-u', socketPath, ...argv])
  await waitReady(lab, proc, `lldpd in ${ns}`, () => succeeds(lldpcli(['show', 'configuration'])), logPath)
  return {
    pid: proc.pid,
    socketPath,
    logPath,
    lldpcli,
    neighbors: async () =>
      JSON.parse((await lldpcli(['-f', 'json0', 'show', 'neighbors', 'details'])).stdout) as LldpcliJson0,
    stop: () => proc.stop(), // SIGTERM: lldpd sends a shutdown LLDPDU (TTL 0) first
  }
}

// ---------------------------------------------------------------------------------------------------------
// lldpad (EVB22, ECP, VDP22)

export interface LldpadOptions {
  /** Directory for lldpad.conf and lldpad.log; default a lab temp dir. */
  workDir?: string
}

export interface LldpadHandle {
  readonly pid: number
  readonly ns: string
  readonly configPath: string
  readonly logPath: string
  lldptool(argv: string[]): Promise<ExecResult>
  /** vdptool exits 0 even on failure: read stdout ("FAILED: ...", "Error returned by Bridge: ..."). */
  vdptool(argv: string[]): Promise<ExecResult>
  stop(): Promise<void>
}

/**
 * The constant script that gives lldpad a private /dev/shm: lldpad keeps its PID in POSIX shm
 * "/lldpad.state" and refuses to start when another live lldpad is recorded there (recipes §4.1).
 * It is a fixed literal; the lldpad command arrives as "$@", never spliced into the script.
 */
const PRIVATE_SHM_EXEC = 'mount -t tmpfs lldpad-shm /dev/shm && exec "$@"'

export async function startLldpad(lab: Lab, ns: string, opts: LldpadOptions = {}): Promise<LldpadHandle> {
  const dir = opts.workDir ?? (await lab.tempDir('lldpad'))
  const configPath = join(dir, 'lldpad.conf')
  const logPath = join(dir, 'lldpad.log')
  // unshare -m: own mount namespace, so the tmpfs on /dev/shm is seen by this lldpad only.
  // lldpad -p: no PID file; -t: no timestamps; -V7: state machines in the log; -f: per-instance config
  const proc = spawnLogged(
    lab,
    ns,
    [
      'unshare',
      '-m',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      PRIVATE_SHM_EXEC,
      'sh',
      'lldpad',
      '-p',
      '-t',
      '-V7',
      '-f',
      configPath,
    ],
    logPath,
  )
  const lldptool = (argv: string[]) => lab.exec(ns, ['lldptool', ...argv])
  const vdptool = (argv: string[]) => lab.exec(ns, ['vdptool', ...argv], {timeoutMs: 20_000})
  // the client socket is the abstract @/com/intel/lldpad, per network namespace: -p answers once it is up
  await waitReady(lab, proc, `lldpad in ${ns}`, () => succeeds(lldptool(['-p'])), logPath)
  return {pid: proc.pid, ns, configPath, logPath, lldptool, vdptool, stop: () => proc.stop()}
}

export type EvbRole = 'bridge' | 'station'

export interface EvbOptions {
  /** Station: request reflective relay (evbrrreq); bridge: offer it (evbrrcap). Default true. */
  reflectiveRelay?: boolean
  /** ECP retransmissions, 0..7. */
  ecpRetries?: number
  /** ECP retransmission timer exponent, 0..31. */
  ecpRte?: number
  /** VDP resource wait delay exponent, 0..31. */
  vdpRwd?: number
  /** VDP keep-alive exponent, 0..31. */
  vdpRka?: number
}

function rangeArg(name: string, value: number | undefined, max: number): string[] {
  if (value === undefined) return []
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new LabError('LAB_BAD_CONFIG', `${name} must be 0..${max}: ${value}`)
  return ['-c', `${name}=${value}`]
}

/**
 * Enables the EVB22 TLV on the nearest-customer-bridge agent (`-g ncb` is mandatory: EVB22 lives only
 * there) in the given role, as in recipes §4.2. VDP22 needs no separate enable.
 */
export async function configureEvb(
  handle: LldpadHandle,
  ifname: string,
  role: EvbRole,
  opts: EvbOptions = {},
): Promise<void> {
  validateIfName(ifname)
  if (role !== 'bridge' && role !== 'station') throw new LabError('LAB_BAD_CONFIG', `EVB role ${String(role)}`)
  const relay = (opts.reflectiveRelay ?? true) ? 'yes' : 'no'
  await handle.lldptool(['-L', '-i', ifname, '-g', 'ncb', 'adminStatus=rxtx'])
  await handle.lldptool([
    '-T',
    '-i',
    ifname,
    '-g',
    'ncb',
    '-V',
    'evb',
    '-c',
    `evbmode=${role}`,
    '-c',
    role === 'bridge' ? `evbrrcap=${relay}` : `evbrrreq=${relay}`,
    ...rangeArg('ecpretries', opts.ecpRetries, 7),
    ...rangeArg('ecprte', opts.ecpRte, 31),
    ...rangeArg('vdprwd', opts.vdpRwd, 31),
    ...rangeArg('vdprka', opts.vdpRka, 31),
    '-c',
    'enableTx=yes',
  ])
}

/** Waits until lldpad on `ifname` has received the peer's EVB TLV announcing `peerRole`. */
export async function waitForEvbPeer(
  lab: Lab,
  handle: LldpadHandle,
  ifname: string,
  peerRole: EvbRole,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<string> {
  validateIfName(ifname)
  let last = ''
  await lab.waitFor(
    `EVB ${peerRole} TLV from the peer of ${handle.ns}/${ifname}`,
    async () => {
      last = (await handle.lldptool(['-t', '-i', ifname, '-g', 'ncb', '-n', '-V', 'evb']).catch(() => ({stdout: ''})))
        .stdout
      return last.includes(`mode:${peerRole}`)
    },
    {timeoutMs, intervalMs: 100, details: () => ({last})},
  )
  return last
}

/**
 * Waits until lldpad's VDP22 module on `ifname` accepts requests. The peer's EVB TLV shows up (and
 * `vdptool -t` answers) before that: VDP needs the EVB result, which lldpad only reports in its -V7 log
 * ("data_from_evb:<if> ... evb:1"); a request sent earlier fails with "VDP protocol not supported".
 */
export async function waitForVdpReady(
  lab: Lab,
  handle: LldpadHandle,
  ifname: string,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const escaped = validateIfName(ifname).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const ready = new RegExp(`^data_from_evb:${escaped} .* evb:1$`, 'm')
  await lab.waitFor(
    `VDP22 ready on ${handle.ns}/${ifname}`,
    async () => ready.test(await readFile(handle.logPath, 'utf8').catch(() => '')),
    {
      timeoutMs,
      intervalMs: 100,
    },
  )
}
