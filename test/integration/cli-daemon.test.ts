import {readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Lab} from '../../src/lab/netns.js'
import {AgentProcess, cli, makeAgentHome} from './helpers/agent-process.js'

const lab = new Lab()
const netns = {name: ''}

beforeAll(async () => {
  netns.name = await lab.addNamespace('host')
})
afterAll(async () => {
  await lab.destroy()
})

describe('CLI against a real daemon process', () => {
  let home: ReturnType<typeof makeAgentHome>
  let agent: AgentProcess

  beforeAll(async () => {
    home = makeAgentHome()
    agent = await AgentProcess.start(lab, netns.name, home)
  })
  afterAll(async () => {
    await agent?.stop()
  })

  it('status --json answers from the daemon', async () => {
    const r = await cli(['status', '--json', '--config', home.config])
    expect(r.code).toBe(0)
    const status = JSON.parse(r.stdout)
    expect(status).toMatchObject({
      source: 'daemon',
      daemon: {running: true, pid: expect.any(Number)},
      uplink: {state: 'none'},
      vsis: {total: 0},
      neighbors: {total: 0},
    })
    // The periodic tasks on the scheduler, at [uplink] detection_interval (default 30 s).
    expect(status.tasks).toEqual(
      ['reconcile', 'prune'].map((name) => ({
        name,
        periodS: 30,
        lastRunAt: null,
        lastError: null,
        runs: 0,
        errors: 0,
        noAnswer: 0,
      })),
    )
    expect((await cli(['status', '--config', home.config])).stdout).toMatch(
      /^tasks: +reconcile every 30s; prune every 30s$/m,
    )
  })

  it('the control socket is mode 0660', async () => {
    const {statSync} = await import('node:fs')
    expect(statSync(home.socket).mode & 0o777).toBe(0o660)
  })

  it('uplink set / clear apply to the running daemon without a restart', async () => {
    const set = await cli(['uplink', 'set', 'lo', '--json', '--config', home.config], {netns: netns.name})
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ifname: 'lo', applied: true})
    expect(readFileSync(home.override, 'utf8')).toMatch(/\nlo\n$/)
    const shown = JSON.parse((await cli(['uplink', 'show', '--json', '--config', home.config])).stdout)
    expect(shown).toMatchObject({ifname: 'lo', source: 'override', answeredBy: 'daemon'})

    const cleared = await cli(['uplink', 'clear', '--json', '--config', home.config])
    expect(JSON.parse(cleared.stdout)).toMatchObject({removed: true, applied: true})
    expect(JSON.parse((await cli(['uplink', 'show', '--json', '--config', home.config])).stdout)).toMatchObject({
      ifname: null,
      state: 'none',
    })
  })

  it('an override file edited by hand is picked up by the watcher', async () => {
    writeFileSync(home.override, 'lo\n')
    await agent.waitForLog('"why":"override file changed"')
    expect(JSON.parse((await cli(['status', '--json', '--config', home.config])).stdout).uplink).toMatchObject({
      ifname: 'lo',
      source: 'override',
    })
  })

  it('a garbage override file gives a clear error and the daemon keeps running with the last valid one', async () => {
    writeFileSync(home.override, Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]))
    await agent.waitForLog('uplink override file is invalid')
    const status = JSON.parse((await cli(['status', '--json', '--config', home.config])).stdout)
    expect(status.daemon.running).toBe(true)
    expect(status.override.error).toMatch(/contains binary data, expected one interface name/)
    expect(status.uplink).toMatchObject({ifname: 'lo', source: 'override'})
    const human = await cli(['status', '--config', home.config])
    expect(human.stdout).toMatch(/override:\s+INVALID/)
  })

  it('uplink set rejects a bad interface name with exit 2', async () => {
    const r = await cli(['uplink', 'set', 'eth0 reboot', '--config', home.config])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/invalid interface name "eth0 reboot": contains whitespace/)
    const j = await cli(['uplink', 'set', '../../etc', '--json', '--config', home.config])
    expect(j.code).toBe(2)
    expect(JSON.parse(j.stdout).error.message).toMatch(/contains '\/'/)
  })

  it('neighbors and vsi list answer with --json and in text', async () => {
    expect(JSON.parse((await cli(['neighbors', '--json', '--config', home.config])).stdout)).toEqual({
      source: 'daemon',
      neighbors: [],
    })
    expect(JSON.parse((await cli(['vsi', 'list', '--json', '--config', home.config])).stdout)).toEqual({
      source: 'daemon',
      vsis: [],
    })
    expect((await cli(['vsi', 'list', '--config', home.config])).stdout).toContain('no VSIs')
  })

  it('journal shows what the daemon recorded (the uplink changes above), oldest first; a bad --since exits 2', async () => {
    const r = await cli(['journal', '--json', '--since', '1h', '--config', home.config])
    expect(r.code).toBe(0)
    const {source, entries} = JSON.parse(r.stdout) as {
      source: string
      entries: {kind: string; subject: string | null; at: number}[]
    }
    expect(source).toBe('daemon')
    const uplink = entries.filter((e) => e.kind === 'uplink' && e.subject === 'lo')
    expect(uplink.length).toBeGreaterThanOrEqual(2)
    expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort((x, y) => x - y))
    const text = await cli(['journal', '--limit', '1', '--config', home.config])
    expect(text.stdout.trim().split('\n')).toHaveLength(1)
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  \S+  /)
    const future = JSON.parse(
      (await cli(['journal', '--json', '--since', '2999-01-01T00:00:00Z', '--config', home.config])).stdout,
    )
    expect(future.entries).toEqual([])
    const bad = await cli(['journal', '--since', 'yesterday', '--config', home.config])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('expected a duration such as 90s')
  })

  it('SIGHUP with a broken config keeps the daemon running on the old one', async () => {
    const original = readFileSync(home.config, 'utf8')
    writeFileSync(home.config, original + '[uplink]\nmode = sideways\n')
    agent.signal('SIGHUP')
    await agent.waitForLog('config reload failed; keeping the running configuration')
    expect(agent.output).toMatch(/\[uplink\] mode = \\"sideways\\": expected one of auto, static/)
    writeFileSync(home.config, original)
    expect((await cli(['status', '--json', '--config', home.config])).code).toBe(0)
  })

  it('SIGHUP applies a new detection_interval to the scheduled tasks, which then run at it', async () => {
    const original = readFileSync(home.config, 'utf8')
    const tasks = async () =>
      JSON.parse((await cli(['status', '--json', '--config', home.config])).stdout).tasks as {
        name: string
        periodS: number
        runs: number
        errors: number
        lastRunAt: string | null
      }[]
    try {
      writeFileSync(home.config, original + '[uplink]\ndetection_interval = 1\n')
      agent.signal('SIGHUP')
      let seen = await tasks()
      for (let i = 0; i < 50 && !seen.every((t) => t.periodS === 1 && t.runs >= 2); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        seen = await tasks()
      }
      expect(seen.map((t) => t.name)).toEqual(['reconcile', 'prune'])
      for (const t of seen)
        expect(t).toMatchObject({
          periodS: 1,
          runs: expect.toSatisfy((n: number) => n >= 2),
          errors: 0,
          lastRunAt: expect.any(String),
        })
    } finally {
      writeFileSync(home.config, original)
      agent.signal('SIGHUP')
    }
  })

  it('a second daemon on the same socket refuses to start', async () => {
    const second = await cli(['daemon', '--config', home.config], {netns: netns.name})
    expect(second.code).toBe(1)
    expect(second.stdout + second.stderr).toMatch(/another vdp-agent daemon answers on/)
  })

  it('SIGTERM stops cleanly (exit 0, socket removed); read-only commands then answer from the database', async () => {
    expect(await agent.stop()).toBe(0)
    expect(agent.output).toContain('vdp-agent daemon stopped')
    const {existsSync} = await import('node:fs')
    expect(existsSync(home.socket)).toBe(false)
    const r = await cli(['status', '--json', '--config', home.config])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      source: 'database',
      daemon: {running: false},
      uplink: {ifname: 'lo', source: 'override'},
    })
    const text = await cli(['uplink', 'show', '--config', home.config])
    expect(text.stdout).toContain('daemon not running')
  })

  it('journal answers from the database when the daemon is down', async () => {
    const r = await cli(['journal', '--json', '--config', home.config])
    expect(r.code).toBe(0)
    const {source, entries} = JSON.parse(r.stdout) as {
      source: string
      entries: {kind: string; subject: string | null}[]
    }
    expect(source).toBe('database')
    expect(entries.some((e) => e.kind === 'uplink' && e.subject === 'lo')).toBe(true)
  })
})

describe('broken configuration', () => {
  it('the daemon exits 78 naming file, line, section, key, bad value and what was expected', async () => {
    const home = makeAgentHome('[lldp]\ntx_interval = often\n')
    const r = await cli(['daemon', '--config', home.config], {netns: netns.name})
    expect(r.code).toBe(78)
    expect(r.stderr).toContain(`${home.config}:9: [lldp] tx_interval = "often": expected an integer from 1 to 3600`)
  })

  it('config check: 0 for a valid file, 78 with every problem otherwise, JSON too', async () => {
    const good = makeAgentHome('[bogus]\nx = 1\n')
    const ok = await cli(['config', 'check', '--config', good.config])
    expect(ok.code).toBe(0)
    expect(ok.stderr).toMatch(/unknown section \[bogus\] ignored/)
    const bad = makeAgentHome('[uplink]\nmode = static\n[vdp]\ntype_id = -1\n')
    const r = await cli(['config', 'check', '--config', bad.config])
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(
      /\[uplink\] static_interface = "": expected an interface name when \[uplink\] mode = static/,
    )
    expect(r.stderr).toMatch(/:11: \[vdp\] type_id = "-1": expected an integer from 0 to 16777215/)
    const j = await cli(['config', 'check', '--json', '--config', bad.config])
    expect(j.code).toBe(78)
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      problems: [{key: 'type_id', line: 11}, {key: 'static_interface'}],
    })
  })

  it('a missing --config file is a config error (78), not a silent default', async () => {
    const r = await cli(['status', '--config', '/nonexistent/agent.ini'])
    expect(r.code).toBe(78)
    expect(r.stderr).toMatch(/\/nonexistent\/agent\.ini: expected a readable config file/)
  })
})
