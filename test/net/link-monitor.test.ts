import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {VdpAgentError} from '../../src/errors.js'
import {LinkMonitor, type LinkEvent, type LinkMessageSink, type LinkMessageSource} from '../../src/net/links.js'
import type {RtLinkMessage} from '../../src/net/rtnetlink.js'
import {bond, bondSlave, loopback, newlink, nic} from './link-fixtures.js'

/** A kernel stand-in: the test decides what each dump returns and when notifications arrive. */
class FakeSource implements LinkMessageSource {
  sink?: LinkMessageSink
  dumps = 0
  closed = false
  subscribedBeforeFirstDump?: boolean
  /** What the next dumps return (the last one repeats). */
  dumpResults: RtLinkMessage[][] = [[loopback]]
  /** Runs while a dump is in flight, before it returns: to simulate racing notifications. */
  duringDump?: (dumpNumber: number) => void

  subscribe(sink: LinkMessageSink): void {
    this.sink = sink
  }

  async dump(): Promise<RtLinkMessage[]> {
    this.subscribedBeforeFirstDump ??= this.sink !== undefined
    const n = ++this.dumps
    await Promise.resolve()
    this.duringDump?.(n)
    return this.dumpResults[Math.min(n - 1, this.dumpResults.length - 1)]!
  }

  close(): void {
    this.closed = true
  }

  notify(...messages: RtLinkMessage[]): void {
    this.sink!.messages(messages)
  }
}

function record(monitor: LinkMonitor): string[] {
  const seen: string[] = []
  monitor.on('link', (e: LinkEvent) =>
    seen.push(`${e.source} ${e.type} ${e.link.name}${e.changes.length ? ` ${e.changes.join(',')}` : ''}`),
  )
  monitor.on('resync', ({reason, events}) => seen.push(`resync ${reason} ${events}`))
  return seen
}

const tick = () => new Promise<void>((r) => setImmediate(r))

describe('LinkMonitor', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, {recursive: true, force: true})
  })

  it('subscribes before dumping, holds the dump as its inventory, then applies notifications', async () => {
    const source = new FakeSource()
    source.dumpResults = [[loopback, nic(2, 'eth0'), newlink({index: 3, name: 'br0', kind: 'bridge'})]]
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start()
    expect(source.subscribedBeforeFirstDump).toBe(true)
    expect(seen).toEqual([]) // the initial inventory is state, not events
    expect(monitor.list().map((l) => l.name)).toEqual(['lo', 'eth0', 'br0'])
    expect(monitor.get('eth0')).toMatchObject({index: 2, physical: true})
    expect(monitor.getByIndex(3)?.kind).toBe('bridge')
    expect(monitor.get('nope')).toBeUndefined()

    source.notify(nic(2, 'eth0', {master: 3, slaveKind: 'bridge'}))
    expect(seen).toEqual(['notification changed eth0 master', 'notification changed br0 members'])
    expect(monitor.get('br0')?.members).toEqual(['eth0'])
  })

  it('emits each event on its own channel too', async () => {
    const source = new FakeSource()
    const monitor = new LinkMonitor({source})
    const added: string[] = []
    const renamed: string[] = []
    monitor.on('added', (e) => added.push(e.link.name))
    monitor.on('renamed', (e) => renamed.push(`${e.previous.name}->${e.link.name}`))
    await monitor.start()
    source.notify(nic(5, 'eth5'), nic(5, 'wan0'))
    expect(added).toEqual(['eth5'])
    expect(renamed).toEqual(['eth5->wan0'])
  })

  it('dumps again when notifications raced the dump, so no stale notification is replayed', async () => {
    const source = new FakeSource()
    source.dumpResults = [
      [loopback, nic(2, 'eth0', {state: 'no-carrier'})],
      [loopback, nic(2, 'eth0')],
    ]
    // during the first dump, an old carrier-down notification and the carrier-up one arrive
    source.duringDump = (n) => {
      if (n === 1) source.notify(nic(2, 'eth0', {state: 'no-carrier'}), nic(2, 'eth0'))
    }
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start()
    expect(source.dumps).toBe(2)
    expect(seen).toEqual([])
    expect(monitor.get('eth0')?.carrier).toBe(true)
  })

  it('after three racing dumps, applies the stragglers in order on top of the last one', async () => {
    const source = new FakeSource()
    source.dumpResults = [[loopback, nic(2, 'eth0', {state: 'no-carrier'})]]
    source.duringDump = () => source.notify(nic(2, 'eth0'))
    const monitor = new LinkMonitor({source})
    await monitor.start()
    expect(source.dumps).toBe(3)
    expect(monitor.get('eth0')?.carrier).toBe(true)
  })

  it('on an overrun, re-dumps and reports the difference as resync events', async () => {
    const source = new FakeSource()
    source.dumpResults = [
      [loopback, bondSlave(2, 'eth0', 9), bondSlave(3, 'eth1', 9, {backup: true}), bond(9, 'bond0', 2)],
      // what happened while notifications were being dropped: eth0 lost carrier, eth1 took over
      [
        loopback,
        bondSlave(2, 'eth0', 9, {state: 'no-carrier', mii: 2, backup: true}),
        bondSlave(3, 'eth1', 9),
        bond(9, 'bond0', 3),
      ],
    ]
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start()
    source.sink!.overrun()
    await tick()
    await tick()
    expect(seen).toEqual([
      'resync changed eth0 operstate,carrier,bondSlave',
      'resync changed eth1 bondSlave',
      'resync changed bond0 bond',
      'resync overrun 3',
    ])
    expect(monitor.get('bond0')?.bond?.activeSlave).toBe('eth1')
  })

  it('redoes a dump during which notifications were lost, however many overruns came', async () => {
    const source = new FakeSource()
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start() // dump 1
    source.duringDump = (n) => {
      if (n === 2) {
        source.sink!.overrun()
        source.sink!.overrun()
      }
    }
    await monitor.resync() // dump 2 lost notifications: dump 3
    await tick()
    expect(source.dumps).toBe(3)
    expect(seen).toEqual(['resync requested 0'])
  })

  it('coalesces resync requests made while one runs into exactly one more pass', async () => {
    const source = new FakeSource()
    source.dumpResults = [[loopback], [loopback, nic(2, 'eth0')], [loopback, nic(2, 'eth0', {state: 'down'})]]
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start() // dump 1
    const first = monitor.resync() // dump 2
    const second = monitor.resync()
    const third = monitor.resync()
    expect(second).toBe(first)
    expect(third).toBe(first)
    await first // dump 3
    expect(source.dumps).toBe(3)
    expect(seen).toEqual([
      'resync added eth0',
      'resync requested 1',
      'resync changed eth0 adminUp,operstate,carrier',
      'resync requested 1',
    ])
  })

  it('passes warnings through and keeps going', async () => {
    const source = new FakeSource()
    const monitor = new LinkMonitor({source})
    const warnings: string[] = []
    monitor.on('warning', (w) => warnings.push(w.code))
    await monitor.start()
    source.sink!.warning(new VdpAgentError('NETLINK_DECODE', 'bad'))
    source.notify(nic(2, 'eth0'))
    expect(warnings).toEqual(['NETLINK_DECODE'])
    expect(monitor.get('eth0')).toBeDefined()
  })

  it('stops: closes the source and ignores anything that still arrives', async () => {
    const source = new FakeSource()
    const monitor = new LinkMonitor({source})
    const seen = record(monitor)
    await monitor.start()
    monitor.stop()
    expect(source.closed).toBe(true)
    source.notify(nic(2, 'eth0'))
    source.sink!.overrun()
    await tick()
    expect(seen).toEqual([])
    await expect(monitor.start()).rejects.toMatchObject({code: 'LINK_MONITOR_STATE'})
  })

  it('fails start() when the dump fails, and closes the source', async () => {
    const source = new FakeSource()
    source.dump = () => Promise.reject(new Error('EPERM'))
    const monitor = new LinkMonitor({source})
    await expect(monitor.start()).rejects.toThrow('EPERM')
    expect(source.closed).toBe(true)
  })

  it('cross-checks bond members with /proc/net/bonding, by whole names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vdpt-procbonding-'))
    dirs.push(dir)
    const source = new FakeSource()
    source.dumpResults = [[loopback, bondSlave(2, 'eth1', 9), nic(3, 'eth10'), bond(9, 'bond0', 2), bond(10, 'bond1')]]
    const monitor = new LinkMonitor({source, procBondingDir: dir})
    await monitor.start()
    await writeFile(
      join(dir, 'bond0'),
      'Bonding Mode: fault-tolerance (active-backup)\nSlave Interface: eth1\nMII Status: up\n',
    )
    await writeFile(join(dir, 'bond1'), 'Bonding Mode: fault-tolerance (active-backup)\nSlave Interface: eth10\n')
    expect(await monitor.checkBondMembers('bond0')).toEqual({
      bond: 'bond0',
      netlink: ['eth1'],
      procfs: ['eth1'],
      agree: true,
    })
    expect(await monitor.checkBondMembers('bond1')).toEqual({
      bond: 'bond1',
      netlink: [],
      procfs: ['eth10'],
      agree: false,
    })
    await expect(monitor.checkBondMembers('eth10')).rejects.toMatchObject({code: 'NOT_A_BOND'})
    await rm(join(dir, 'bond0'))
    expect(await monitor.checkBondMembers('bond0')).toEqual({bond: 'bond0', netlink: ['eth1']})
  })
})
