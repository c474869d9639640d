/**
 * The unit's system-call filter and capabilities do not break the daemon (issue 13 item 2: "the best exposure
 * score that still works"). CI has no systemd as PID 1, so the filter of packaging/vdp-agent.service is
 * expanded with `systemd-analyze syscall-filter` and applied with libseccomp (test/helpers/seccomp-exec.py,
 * EPERM for the rest, like SystemCallErrorNumber=EPERM), with only the unit's capabilities in the bounding
 * set. Under it the daemon must start, find its uplink by LLDP from the ToR simulator, associate a VM port
 * over VDP and stop cleanly.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, describe, expect, it} from 'vitest'

import {CHILD_ENV, CLI, makeAgentHome} from '../../src/lab/agent-runner.js'
import {Lab} from '../../src/lab/netns.js'
import {startTorSimulator} from '../../src/lab/tor-process.js'
import {cliJson} from './helpers/agent-process.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const unit = readFileSync(join(ROOT, 'packaging/vdp-agent.service'), 'utf8')
const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1].trim())

/** systemd's syscall groups, from `systemd-analyze syscall-filter` (group -> names and nested groups). */
function syscallGroups(): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of execFileSync('systemd-analyze', ['syscall-filter'], {encoding: 'utf8'}).split('\n')) {
    if (/^@\S+$/.test(line)) groups.set(line, (current = []))
    else if (current && /^\s+[@a-z0-9_-]+$/.test(line)) current.push(line.trim())
  }
  return groups
}

function expand(entry: string, groups: Map<string, string[]>, out = new Set<string>()): Set<string> {
  if (!entry.startsWith('@')) out.add(entry)
  else for (const e of groups.get(entry) ?? []) expand(e, groups, out)
  return out
}

/** What SystemCallFilter= allows: @default, plus the allow lists, minus the `~` deny lists, in order. */
function allowedSyscalls(): string[] {
  const groups = syscallGroups()
  const allowed = expand('@default', groups)
  for (const setting of settings('SystemCallFilter')) {
    const deny = setting.startsWith('~')
    for (const entry of setting.replace(/^~/, '').split(/\s+/)) {
      for (const name of expand(entry, groups)) deny ? allowed.delete(name) : allowed.add(name)
    }
  }
  return [...allowed].sort()
}

const lab = new Lab()
afterAll(async () => {
  await lab.destroy()
})

describe('the daemon under the unit’s sandbox', () => {
  it('the filter is the one we think: the allow list minus @privileged and @resources', () => {
    expect(settings('SystemCallFilter')).toEqual(['@system-service', '~@privileged @resources'])
    expect(settings('SystemCallErrorNumber')).toEqual(['EPERM'])
    const allowed = allowedSyscalls()
    for (const name of [
      'socket',
      'bind',
      'setsockopt',
      'recvmsg',
      'sendto',
      'epoll_wait',
      'execve',
      'mmap',
      'mprotect',
    ])
      expect(allowed).toContain(name)
    for (const name of ['setuid', 'setrlimit', 'sched_setaffinity', 'init_module', 'mount', 'reboot', 'ptrace'])
      expect(allowed).not.toContain(name)
  })

  it('starts, finds the uplink by LLDP, associates a VM port over VDP and stops cleanly', async () => {
    const caps = settings('CapabilityBoundingSet')[0]
      .split(/\s+/)
      .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
      .join(',')
    expect(caps).toBe('+net_raw,+net_admin')
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair(
      {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:00'},
      {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:00'},
    )
    await lab.waitForOperstate(host, 'eth0', 'up')
    const sim = await startTorSimulator(lab, tor, {
      ifname: 'sw0',
      args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0'],
    })
    const dir = await lab.tempDir('sandbox')
    const home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n', {dir, logLevel: 'info'})
    const list = join(dir, 'syscalls.txt')
    writeFileSync(list, allowedSyscalls().join('\n'))

    const daemon = lab.spawn(
      host,
      [
        'setpriv',
        `--bounding-set=-all,${caps}`,
        '--no-new-privs',
        '/usr/bin/python3',
        join(ROOT, 'test/helpers/seccomp-exec.py'),
        list,
        process.execPath,
        CLI,
        'daemon',
        '--config',
        home.config,
      ],
      {env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe']},
    )
    let output = ''
    daemon.child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    daemon.child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    const waitFor = async (fragment: RegExp, what: string) => {
      const deadline = Date.now() + 30_000
      while (!fragment.test(output)) {
        if (Date.now() > deadline || daemon.child.exitCode !== null) throw new Error(`${what}:\n${output}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await waitFor(/vdp-agent daemon started/, 'the daemon did not start under the filter')
    await waitFor(/"state":"up".*"msg":"uplink changed"/, 'no uplink under the filter')
    const vsi = await cliJson<{state: string; vdpVlan: number | null}>(
      [
        'vm',
        'up',
        '--port',
        '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        '--mac',
        '52:54:00:aa:bb:01',
        '--net',
        '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a',
        '--segment',
        '20000',
        '--wait',
      ],
      home.config,
    )
    expect(vsi).toMatchObject({state: 'associated', vdpVlan: expect.any(Number)})
    const exit = new Promise<number | null>((res) => daemon.child.once('exit', (code) => res(code)))
    daemon.child.kill('SIGTERM')
    expect(await exit).toBe(0)
    expect(output).not.toMatch(/EPERM|operation not permitted/i)
    await sim.stop()
  })
})
