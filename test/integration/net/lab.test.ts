import {existsSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, LabError, listNamespaces, run, sweepStaleLabs} from '../../../src/lab/netns.js'

const isRoot = process.getuid?.() === 0

describe.skipIf(!isRoot)('Lab (namespaces, links, children)', () => {
  const lab = new Lab()
  let host: string
  let tor: string

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    tor = await lab.addNamespace('tor')
    await lab.addVethPair(
      {ns: host, ifname: 'h0', mac: '02:00:00:00:01:01'},
      {ns: tor, ifname: 't0', mac: '02:00:00:00:02:01'},
    )
  })
  afterAll(() => lab.destroy())

  it('names namespaces vdpt-<id>-<pid>-<role>', () => {
    expect(host).toBe(`vdpt-${lab.id}-${process.pid}-host`)
    expect(lab.namespaceNames).toEqual([host, tor])
  })

  it('creates the veth ends inside their namespaces with the MACs asked for, never in the root namespace', async () => {
    const hostLinks = await lab.links(host)
    const torLinks = await lab.links(tor)
    expect(hostLinks.find((l) => l.ifname === 'h0')).toMatchObject({
      address: '02:00:00:00:01:01',
      linkinfo: {info_kind: 'veth'},
    })
    expect(torLinks.find((l) => l.ifname === 't0')).toMatchObject({address: '02:00:00:00:02:01'})
    const {stdout} = await run(['ip', '-j', 'link', 'show']) // read-only look at the root namespace
    const rootNames = (JSON.parse(stdout) as {ifname: string}[]).map((l) => l.ifname)
    expect(rootNames).not.toContain('h0')
    expect(rootNames).not.toContain('t0')
  })

  it('waits for operstate and follows carrier through the peer', async () => {
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.setLink(tor, 't0', {down: true})
    try {
      await lab.waitForOperstate(host, 'h0', ['down', 'lowerlayerdown'])
    } finally {
      await lab.setLink(tor, 't0', {up: true})
    }
    await lab.waitForOperstate(host, 'h0', 'up')
  })

  it('times out with the last state seen', async () => {
    await expect(lab.waitForOperstate(host, 'h0', 'dormant', {timeoutMs: 200})).rejects.toMatchObject({
      code: 'LAB_TIMEOUT',
      details: {last: 'up'},
    })
  })

  it('adds bridges and macvlans, enslaves, releases and renames', async () => {
    await lab.addBridge(host, 'br0', {mac: '02:00:00:00:01:fe'})
    await lab.addMacvlan(host, 'mv0', 'h0', {mode: 'vepa', mac: '02:00:00:00:01:10'})
    await lab.setLink(host, 'mv0', {master: 'br0'})
    let links = await lab.links(host)
    expect(links.find((l) => l.ifname === 'mv0')).toMatchObject({master: 'br0', linkinfo: {info_kind: 'macvlan'}})
    await lab.setLink(host, 'mv0', {nomaster: true})
    await lab.setLink(host, 'mv0', {down: true})
    await lab.setLink(host, 'mv0', {name: 'mv9'})
    links = await lab.links(host)
    expect(links.find((l) => l.ifname === 'mv9')?.master).toBeUndefined()
    await lab.deleteLink(host, 'mv9')
    await lab.deleteLink(host, 'br0')
  })

  it('refuses foreign namespaces, bad names and group MACs before running anything', async () => {
    await expect(lab.setLink('vdpt-000000-1-x', 'h0', {up: true})).rejects.toMatchObject({code: 'LAB_FOREIGN_NS'})
    await expect(lab.setLink(host, 'bad/name', {up: true})).rejects.toMatchObject({code: 'INVALID_IFNAME'})
    await expect(lab.addBridge(host, 'br1', {mac: '01:00:5e:00:00:01'})).rejects.toMatchObject({code: 'LAB_BAD_MAC'})
    await expect(lab.addNamespace('Bad Role')).rejects.toBeInstanceOf(LabError)
    await expect(lab.setLink(host, 'h0', {})).rejects.toMatchObject({code: 'LAB_BAD_CHANGE'})
  })

  it('runs commands inside a namespace and reports failures with stderr', async () => {
    const {stdout} = await lab.exec(host, ['cat', '/sys/class/net/h0/address'])
    expect(stdout.trim()).toBe('02:00:00:00:01:01')
    await expect(lab.exec(host, ['cat', '/sys/class/net/t0/address'])).rejects.toMatchObject({
      code: 'LAB_COMMAND_FAILED',
    })
  })

  it('stops a child that ignores SIGTERM with SIGKILL after the grace period', async () => {
    // The child says when its handler is in place: a fixed sleep lost the race on a loaded machine.
    const stubborn = lab.spawn(host, [
      process.execPath,
      '-e',
      'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); console.log("ready")',
    ])
    await new Promise<void>((resolve) => stubborn.child.stdout!.once('data', () => resolve()))
    await stubborn.stop(200)
    expect(await stubborn.exited).toMatchObject({signal: 'SIGKILL'})
    expect(lab.runningProcesses).not.toContain(stubborn)
  })
})

describe.skipIf(!isRoot)('Lab teardown and sweeping', () => {
  it('destroy() stops its children by PID and deletes its namespaces; a second call is harmless', async () => {
    const lab = new Lab()
    const ns = await lab.addNamespace('a')
    const sleeper = lab.spawn(ns, ['sleep', '60'])
    const dir = await lab.tempDir('work')
    expect(existsSync(`/proc/${sleeper.pid}`)).toBe(true)
    await lab.destroy()
    await lab.destroy()
    expect(await sleeper.exited).toMatchObject({signal: 'SIGTERM'})
    expect(await listNamespaces()).not.toContain(ns)
    expect(existsSync(dir)).toBe(false)
    await expect(lab.addNamespace('b')).rejects.toMatchObject({code: 'LAB_DESTROYED'})
  })

  it('sweepStaleLabs deletes namespaces of dead runs only', async () => {
    const deadPid = await reapedPid()
    const stale = `vdpt-abcdef-${deadPid}-x`
    await run(['ip', 'netns', 'add', stale])
    const live = new Lab()
    try {
      const liveNs = await live.addNamespace('y')
      const deleted = await sweepStaleLabs()
      expect(deleted).toContain(stale)
      expect(deleted).not.toContain(liveNs)
      const names = await listNamespaces()
      expect(names).not.toContain(stale)
      expect(names).toContain(liveNs)
    } finally {
      await run(['ip', 'netns', 'del', stale]).catch(() => undefined)
      await live.destroy()
    }
  })
})

/** The PID of a process that has exited and been reaped. */
async function reapedPid(): Promise<number> {
  const {spawn} = await import('node:child_process')
  const child = spawn('true')
  await new Promise((r) => child.once('exit', r))
  return child.pid!
}
