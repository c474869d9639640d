/**
 * The Debian package end to end (issue 13 item 2): `make deb`'s script builds it (lintian errors fail the build),
 * `dpkg -i` installs it, the installed files run (`--version`, `config check`, a short daemon start in a
 * lab namespace as the vdp-agent user with only the unit's two capabilities), `systemd-analyze verify`
 * accepts the installed unit, and `dpkg --purge` leaves no file, config or state behind.
 * Needs root; installs and purges the package on this machine (CI runs as root on a throwaway machine).
 */
import {execFile} from 'node:child_process'
import {existsSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab} from '../../src/lab/netns.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version
const DEB = join(ROOT, 'build', 'deb', `vdp-agent_${VERSION}_amd64.deb`)
const UNIT = '/lib/systemd/system/vdp-agent.service'
/** Everything the package or its daemon creates; all of it must be gone after a purge. */
const LEFTOVERS = [
  '/usr/lib/vdp-agent',
  '/usr/bin/vdp-agent',
  '/etc/vdp-agent',
  '/var/lib/vdp-agent',
  '/run/vdp-agent',
  UNIT,
  '/usr/share/man/man8/vdp-agent.8.gz',
  '/usr/share/bash-completion/completions/vdp-agent',
]

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(
  argv: string[],
  {timeoutMs = 120_000, env = process.env}: {timeoutMs?: number; env?: NodeJS.ProcessEnv} = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      {cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env},
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}

/** dpkg refuses to run while apt or another dpkg holds its lock: wait for it (bounded). */
async function dpkg(args: string[]): Promise<Run> {
  for (let attempt = 0; ; attempt++) {
    const r = await run(['dpkg', ...args])
    if (r.code === 0 || attempt >= 60 || !/lock/i.test(r.stderr)) return r
    await new Promise((res) => setTimeout(res, 2000))
  }
}

/** The installed CLI, as an operator runs it (no repository on PATH, production environment). */
const ENV = {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NODE_ENV: 'production', LANG: 'C.UTF-8'}
const installed = (args: string[]) => run(['/usr/bin/vdp-agent', ...args], {env: ENV, timeoutMs: 30_000})

const lab = new Lab()

beforeAll(async () => {
  // `make deb` without its `make setup` step: `make test` has just built the tree, and rebuilding dist/ here
  // could race the other test files that run the compiled CLI.
  const built = await run(['scripts/build-deb.sh'], {timeoutMs: 900_000})
  if (built.code !== 0)
    throw new Error(`scripts/build-deb.sh failed:\n${built.stdout.slice(-4000)}\n${built.stderr.slice(-4000)}`)
}, 900_000)

afterAll(async () => {
  await lab.destroy()
  if (existsSync('/usr/lib/vdp-agent')) await dpkg(['--purge', 'vdp-agent'])
})

describe('the Debian package', () => {
  it('holds the program, unit, sysusers and tmpfiles entries, conffile, man pages and completion, and no test files', async () => {
    const list = (await run(['dpkg-deb', '-c', DEB])).stdout
    const paths = list
      .split('\n')
      .map((l) => l.split(/\s+/)[5]?.replace(/^\./, ''))
      .filter(Boolean)
    for (const p of [
      '/usr/lib/vdp-agent/bin/run.js',
      '/usr/lib/vdp-agent/dist/commands/daemon.js',
      '/usr/lib/vdp-agent/oclif.manifest.json',
      '/usr/lib/vdp-agent/build/Release/afpacket.node',
      '/usr/lib/vdp-agent/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      '/usr/lib/vdp-agent/node_modules/@oclif/core/package.json',
      UNIT,
      '/usr/lib/sysusers.d/vdp-agent.conf',
      '/usr/lib/tmpfiles.d/vdp-agent.conf',
      '/etc/vdp-agent/agent.ini',
      '/usr/share/man/man8/vdp-agent.8.gz',
      '/usr/share/man/man5/agent.ini.5.gz',
      '/usr/share/bash-completion/completions/vdp-agent',
      '/usr/share/doc/vdp-agent/copyright',
    ]) {
      expect(paths, p).toContain(p)
    }
    expect(list).toMatch(/\/usr\/bin\/vdp-agent -> \.\.\/lib\/vdp-agent\/bin\/run\.js/)
    // Only production dependencies and no test tooling: tests and their helper processes, benchmarks, dev modules.
    const forbidden = paths.filter((p) =>
      /\/(test|bench)\/|node_modules\/(vitest|typescript|fast-check|@types|@vitest)\/|\.ts$|\.map$/.test(p),
    )
    expect(forbidden).toEqual([])

    const control = (await run(['dpkg-deb', '-f', DEB, 'Depends', 'Recommends', 'Suggests'])).stdout
    expect(control).toMatch(/^Depends: .*nodejs \(>= 20\)/m)
    const depends = control.match(/^Depends: (.*)$/m)![1]
    for (const peer of ['lldpd', 'lldpad', 'openvswitch', 'rabbitmq', 'oslo']) expect(depends).not.toContain(peer)
    expect(control).toMatch(/^Suggests: .*lldpd.*lldpad.*openvswitch-switch.*rabbitmq-server.*python3-oslo\.messaging/m)
    expect((await run(['dpkg-deb', '-f', DEB, 'Package'])).stdout.trim()).toBe('vdp-agent')
    const conffiles = (await run(['dpkg-deb', '--info', DEB, 'conffiles'])).stdout
    expect(conffiles.trim()).toBe('/etc/vdp-agent/agent.ini')
  })

  it('installs with dpkg -i: the user, its state directory, and the CLI from the installed files', async () => {
    // Where systemd runs as PID 1 the postinst would start the service on this machine's real interfaces:
    // policy-rc.d (honoured by deb-systemd-invoke) forbids that for the time of the install.
    const policy = '/usr/sbin/policy-rc.d'
    const holdStarts = existsSync('/run/systemd/system') && !existsSync(policy)
    if (holdStarts)
      writeFileSync(policy, '#!/bin/sh\n# vdp-agent package test: no service starts during its dpkg -i\nexit 101\n', {
        mode: 0o755,
      })
    let r: Run
    try {
      r = await dpkg(['-i', DEB])
    } finally {
      if (holdStarts) rmSync(policy, {force: true})
    }
    expect(r.code, r.stderr).toBe(0)
    expect((await run(['getent', 'passwd', 'vdp-agent'])).stdout).toMatch(
      /^vdp-agent:x:\d+:\d+:vdp-agent daemon:\/var\/lib\/vdp-agent:/,
    )
    expect(statSync('/var/lib/vdp-agent').mode & 0o777).toBe(0o750)

    const version = await installed(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(new RegExp(`^vdp-agent/${VERSION.replace(/\./g, '\\.')} linux-x64 node-v\\d+`))
    const check = await installed(['config', 'check'])
    expect(check.code, check.stderr).toBe(0)
    expect(check.stdout.trim()).toBe('/etc/vdp-agent/agent.ini: valid')
    expect(readFileSync('/etc/vdp-agent/agent.ini', 'utf8')).toBe(readFileSync(join(ROOT, 'agent.ini'), 'utf8'))
    // Every shipped command module loads (nothing the package left out is imported).
    const load = await run(
      [
        '/usr/bin/node',
        '--input-type=module',
        '-e',
        "import {readdirSync} from 'node:fs'; const d='/usr/lib/vdp-agent/dist/commands/'; for (const f of readdirSync(d, {recursive: true})) if (f.endsWith('.js')) await import(d + f); console.log('ok')",
      ],
      {env: ENV},
    )
    expect(load.stdout.trim(), load.stderr).toBe('ok')
    const man = await run(['man', '--warnings', '-l', '/usr/share/man/man8/vdp-agent.8.gz'], {
      env: {...ENV, MANWIDTH: '80'},
    })
    expect(man.stdout).toMatch(/vsi list/)
  })

  it('the installed daemon starts in a namespace as the vdp-agent user with only CAP_NET_RAW and CAP_NET_ADMIN', async () => {
    const ns = await lab.addNamespace('deb')
    const caps = '+net_raw,+net_admin'
    const daemon = lab.spawn(
      ns,
      [
        'setpriv',
        '--reuid=vdp-agent',
        '--regid=vdp-agent',
        '--init-groups',
        `--inh-caps=-all,${caps}`,
        `--ambient-caps=-all,${caps}`,
        `--bounding-set=-all,${caps}`,
        '/usr/bin/vdp-agent',
        'daemon',
      ],
      {env: ENV, stdio: ['ignore', 'pipe', 'pipe']},
    )
    let output = ''
    daemon.child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    daemon.child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    const deadline = Date.now() + 20_000
    while (!output.includes('vdp-agent daemon started')) {
      if (Date.now() > deadline || daemon.child.exitCode !== null)
        throw new Error(`the installed daemon did not start:\n${output}`)
      await new Promise((res) => setTimeout(res, 50))
    }
    expect(statSync('/run/vdp-agent/control.sock').mode & 0o777).toBe(0o660)
    const status = await run(['ip', 'netns', 'exec', ns, '/usr/bin/vdp-agent', 'status', '--json'], {env: ENV})
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      source: 'daemon',
      daemon: {running: true, pid: expect.any(Number), configFile: '/etc/vdp-agent/agent.ini'},
    })
    expect(existsSync('/var/lib/vdp-agent/vdp-agent.db')).toBe(true)
    const exit = new Promise<number | null>((res) => daemon.child.once('exit', (code) => res(code)))
    daemon.child.kill('SIGTERM')
    expect(await exit).toBe(0)
  })

  it('systemd-analyze verify accepts the installed unit; its exposure score is the one the README gives', async () => {
    const verify = await run(['systemd-analyze', 'verify', UNIT])
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stderr).not.toMatch(/vdp-agent\.service/)
    const security = await run(['systemd-analyze', 'security', '--offline=true', UNIT])
    const score = security.stdout.match(/Overall exposure level for vdp-agent\.service: (\d+\.\d+)/)?.[1]
    expect(score, security.stdout + security.stderr).toBeDefined()
    console.log(`systemd-analyze security --offline=true: exposure ${score}`)
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`exposure level ${score}`)
  })

  it('dpkg --purge removes its files, configuration and state (the system user may stay)', async () => {
    // What an operator leaves behind: an uplink pin (`uplink set` with the daemon down writes the file).
    await installed(['uplink', 'set', 'eth9', '--force'])
    expect(existsSync('/etc/vdp-agent/uplink-override')).toBe(true)
    const r = await dpkg(['--purge', 'vdp-agent'])
    expect(r.code, r.stderr).toBe(0)
    expect(LEFTOVERS.filter((p) => existsSync(p))).toEqual([])
    expect((await run(['dpkg-query', '-W', 'vdp-agent'])).code).not.toBe(0)
  })
})
