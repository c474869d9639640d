/**
 * The daemon's one scheduler (issue 8): the controller link's heartbeat, topology check, outbox relay and
 * connection poll and the dataplane's flow audit are tasks on it, next to reconcile and prune; `status` lists
 * them, a run that found no answer or failed is counted, a failed one runs again, and a SIGHUP changes periods.
 * The controller link runs on a recording AMQP transport (what is published is kept); time is the manual clock.
 * Also what a restart must not lose: the topology the server was told, and restored neighbours that age out.
 */
import {strict as assert} from 'node:assert'

import pino from 'pino'
import {afterEach, describe, expect, it} from 'vitest'

import {defaultConfig} from '../../src/config/load.js'
import {ManualClock} from '../../src/core/clock.js'
import type {PeriodicTask} from '../../src/core/scheduler.js'
import {NoDataplane} from '../../src/dataplane/dataplane.js'
import {ControllerLink} from '../../src/rpc/controller-link.js'
import {decodeRequest, unwrapEnvelope} from '../../src/rpc/oslo-envelope.js'
import type {AmqpTransport, ConsumerHandle, OutboundMessage, TransportState} from '../../src/rpc/transport.js'
import type {NeighborRecord} from '../../src/model/neighbor.js'
import {Store} from '../../src/store/store.js'
import {type FlowHarness, flowHarness} from './flow-harness.js'

/** Keeps what is published; connected only when the test says so; nothing ever answers a call. */
class RecordingTransport implements AmqpTransport {
  readonly state: TransportState = {connected: false, lastError: null, connects: 0}
  readonly published: OutboundMessage[] = []
  refreshes = 0
  private readonly listeners: ((s: TransportState) => void)[] = []

  async publish(msg: OutboundMessage): Promise<void> {
    if (!this.state.connected) throw new Error('not connected')
    this.published.push(msg)
  }

  async consume(): Promise<ConsumerHandle> {
    return {close: async () => undefined}
  }

  refreshState(): boolean {
    this.refreshes++
    return this.state.connected
  }

  onStateChange(listener: (s: TransportState) => void): void {
    this.listeners.push(listener)
  }

  onReturn(): void {}

  async close(): Promise<void> {
    this.setConnected(false)
  }

  setConnected(connected: boolean): void {
    this.state.connected = connected
    if (connected) this.state.connects++
    for (const l of this.listeners) l({...this.state})
  }

  /** The methods cast or called, in order. */
  methods(): string[] {
    return this.published.map((m) => String(decodeRequest(unwrapEnvelope(m.body)).method))
  }
}

let open: FlowHarness | undefined
afterEach(async () => {
  const h = open
  open = undefined
  await h?.close()
})

const task = (h: FlowHarness, name: string) => {
  const found = h.daemon.status().tasks?.find((t) => t.name === name)
  if (!found) throw new Error(`no task ${name}`)
  return found
}

describe('periodic work on the daemon scheduler', () => {
  it('lists the controller tasks; a heartbeat skipped while disconnected counts as no answer; a SIGHUP changes its period', async () => {
    const transport = new RecordingTransport()
    open = await flowHarness({
      ini: '[rpc]\ntransport = amqp\nheartbeat_interval = 30\n',
      controller: (deps) => new ControllerLink({...deps, version: 'test', transport}),
    })
    const h = open
    await h.start()
    expect(h.daemon.status().tasks?.map((t) => [t.name, t.periodS])).toEqual([
      ['reconcile', 30],
      ['prune', 30],
      ['heartbeat', 30],
      ['topology', 5],
      ['outbox-relay', 1],
      ['rpc-connection', 1],
    ])
    // the first heartbeat is due at start: the broker is away, so it is skipped (no answer), nothing is queued
    expect(task(h, 'heartbeat')).toMatchObject({runs: 1, noAnswer: 1, errors: 0})
    await h.settle(30_000)
    expect(task(h, 'heartbeat')).toMatchObject({runs: 2, noAnswer: 2})
    expect(task(h, 'rpc-connection')).toMatchObject({runs: 30, noAnswer: 30})
    expect(task(h, 'outbox-relay')).toMatchObject({runs: 30, noAnswer: 30})
    expect(transport.refreshes).toBe(30)
    expect(transport.published).toEqual([])

    // connected: a heartbeat at once (the server learns we are back), then one per period, counted as done
    transport.setConnected(true)
    await h.settle()
    expect(transport.methods().filter((m) => m === 'heartbeat')).toHaveLength(1)
    await h.settle(30_000)
    expect(transport.methods().filter((m) => m === 'heartbeat')).toHaveLength(2)
    expect(task(h, 'heartbeat')).toMatchObject({runs: 3, noAnswer: 2, errors: 0, lastError: null})
    expect(h.daemon.status().rpc).toMatchObject({heartbeatsSent: 2, lastHeartbeat: {seq: 2}})
    expect(task(h, 'rpc-connection')).toMatchObject({runs: 60, noAnswer: 30})

    // SIGHUP with heartbeat_interval = 5: the next heartbeat 5 s later
    h.rewriteConfig((text) => text.replace('heartbeat_interval = 30', 'heartbeat_interval = 5'))
    expect(h.daemon.reload()).toMatchObject({ok: true})
    expect(task(h, 'heartbeat').periodS).toBe(5)
    await h.settle(5_000)
    expect(transport.methods().filter((m) => m === 'heartbeat')).toHaveLength(3)
    expect(task(h, 'heartbeat').runs).toBe(4)
  })

  it('a switch that left while the daemon was down is reported gone to the server when its TTL runs out', async () => {
    const transport = new RecordingTransport()
    open = await flowHarness({
      ini: '[rpc]\ntransport = amqp\n',
      controller: (deps) => new ControllerLink({...deps, version: 'test', transport}),
    })
    const h = open
    await h.start()
    await h.until('the uplink is up', () => h.daemon.status().uplink.state === 'up', 30_000)
    // the broker stays away: what the server would hear is the outbox, the newest message per subject
    const topology = () =>
      h.daemon.store.outbox
        .pending(100)
        .filter((m) => m.method === 'save_topo_disc_params')
        .map((m) => (m.payload as {remote_evb_cfgd: boolean}).remote_evb_cfgd)
    expect(topology()).toEqual([true])
    // killed; the switch goes meanwhile, its goodbye unheard: the new run knows it only from the database
    await h.crashDaemon(() => h.tor.stop())
    expect(h.daemon.store.neighbors.list()).toHaveLength(1)
    await h.until('the neighbour aged out', () => h.daemon.store.neighbors.list().length === 0, 180_000)
    await h.settle(100)
    expect(topology()).toEqual([false])
  })

  it('a link started on a database with neighbours reports them at once, so a switch leaving right after is reported gone', async () => {
    // a restart: the database holds the switch the previous run heard; it leaves before this run hears it
    const store = Store.open(':memory:')
    try {
      const config = defaultConfig()
      const switchRecord: NeighborRecord = {
        ifname: 'eth0',
        destAddress: '01:80:c2:00:00:00',
        chassisId: '02:00:00:00:02:01',
        portId: 'Ethernet1/1',
        chassisSubtype: 4,
        portSubtype: 5,
        srcMac: '02:00:00:00:02:01',
        ttl: 120,
        expiresAt: 1e13,
        systemName: 'tor',
        systemDescription: null,
        portDescription: null,
        mgmtAddresses: [],
        capabilities: null,
        evb: null,
        firstSeen: 0,
        lastSeen: 0,
      }
      store.neighbors.upsert(switchRecord)
      const link = new ControllerLink({
        config: () => ({...config, rpc: {...config.rpc, transport: 'amqp'}}),
        store,
        log: pino({level: 'silent'}),
        clock: new ManualClock(1_767_225_600_000),
        intake: {up: () => assert.fail(), down: () => assert.fail(), bulk: () => assert.fail()},
        version: 'test',
        startedAt: 0,
        transport: new RecordingTransport(),
      })
      const topology = () =>
        store.outbox
          .pending(100)
          .filter((m) => m.method === 'save_topo_disc_params')
          .map((m) => (m.payload as {remote_system_name: string | null}).remote_system_name)
      link.start()
      await new Promise((r) => setImmediate(r))
      expect(topology()).toEqual(['tor'])
      store.neighbors.delete(switchRecord)
      link.neighborsChanged()
      await new Promise((r) => setImmediate(r))
      expect(topology()).toEqual([null])
      await link.stop()
    } finally {
      store.close()
    }
  })

  it('a throwing flow audit is logged and counted, and runs again at its next period', async () => {
    let calls = 0
    class AuditingDataplane extends NoDataplane {
      override tasks(): PeriodicTask[] {
        return [
          {
            name: 'flow-audit',
            periodMs: () => 60_000,
            run: async () => {
              calls++
              if (calls === 1) throw new Error('ovs-ofctl: cannot connect')
              return calls === 2 ? 'no-answer' : 'done'
            },
          },
        ]
      }
    }
    open = await flowHarness({dataplane: () => new AuditingDataplane()})
    const h = open
    await h.start()
    expect(task(h, 'flow-audit')).toMatchObject({periodS: 60, runs: 0, lastRunAt: null})
    await h.settle(60_000)
    expect(task(h, 'flow-audit')).toMatchObject({runs: 1, errors: 1, lastError: 'ovs-ofctl: cannot connect'})
    expect(h.errors().map((l) => [l.msg, l.task])).toEqual([
      ['periodic task flow-audit failed; it runs again at its next period', 'flow-audit'],
    ])
    await h.settle(60_000)
    expect(task(h, 'flow-audit')).toMatchObject({runs: 2, errors: 1, noAnswer: 1, lastError: null})
    await h.settle(60_000)
    expect(task(h, 'flow-audit')).toMatchObject({runs: 3, errors: 1, noAnswer: 1})
    expect(calls).toBe(3)
  })
})
