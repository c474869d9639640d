/**
 * `[dataplane] driver = ovs`: Neutron's Open vSwitch layout (VM ports tagged with a local VLAN on the
 * integration bridge, a patch pair to the external bridge, the uplink a port of the external bridge) and
 * the agent's flows translating each network's lvid to the VLAN the switch assigned (docs/dataplane.md).
 *
 * Reads come from one OVSDB monitor (OvsdbMonitor); writes go through OvsTools (ovs-vsctl, ovs-ofctl
 * bundles). Operations that change flows run one at a time (a promise chain); port-up requests arriving
 * together are programmed together: one bundle per bridge for all of them.
 */
import {type FSWatcher, watch} from 'node:fs'

import {type Clock, type TimerHandle, systemClock} from '../core/clock.js'
import type {PeriodicTask} from '../core/scheduler.js'
import type {Logger} from '../log/logger.js'
import {validateIfName} from '../net/ifname.js'
import type {AuditResult, Dataplane, DataplaneStats, FlowsView, PortBinding, PortUpResult} from './dataplane.js'
import {
  type BridgeRole,
  type Flow,
  FlowKind,
  addLine,
  checkVlan,
  deleteLine,
  desiredFlows,
  flowText,
  planAudit,
  translationFlows,
} from './flows.js'
import type {OvsdbMonitor} from './ovsdb-monitor.js'
import {type PatchPair, findPatchPair, localVlanOf, ofportOf} from './ovs-topology.js'
import type {OvsTools} from './ovs-tools.js'

export interface OvsDataplaneOptions {
  integrationBridge: string
  externalBridge: string
  rundir: string
  /** How long to wait for a VM port's tag on the integration bridge. */
  tagTimeoutMs: number
  /** Period of the audit (the `flow-audit` task of `tasks()`); 0: none. */
  auditIntervalMs: number
  monitor: OvsdbMonitor
  tools: OvsTools
  log: Logger
  /** Audit timestamps and the one-shot audit after an OVS restart; default `systemClock`. */
  clock?: Clock
}

interface Network {
  netUuid: string
  lvid: number
  vdpVlan: number
  ports: Set<string>
  /** The translation whose flows are installed, if any. */
  installed?: {lvid: number; vdpVlan: number}
  error: string | null
}

interface Topology {
  uplinkOfport: number
  patch: PatchPair
}

interface PendingPort {
  port: PortBinding
  lvid: number
  vdpVlan: number
  resolve: (r: PortUpResult) => void
}

export class OvsDataplane implements Dataplane {
  private readonly networks = new Map<string, Network>()
  private uplink: string | null = null
  private addedUplinkPort = false
  private state: FlowsView['state'] = 'idle'
  private failReason: string | null = null
  private topology: Topology | null = null
  private serial: Promise<unknown> = Promise.resolve()
  private pending: PendingPort[] = []
  private flushScheduled = false
  private lastAudit: AuditResult | null = null
  private readonly auditTotals = {audits: 0, added: 0, removed: 0}
  private watcher?: FSWatcher
  private restartTimer?: TimerHandle
  private stopped = false
  private readonly clock: Clock

  constructor(private readonly opts: OvsDataplaneOptions) {
    validateIfName(opts.integrationBridge)
    validateIfName(opts.externalBridge)
    this.clock = opts.clock ?? systemClock
  }

  private now(): number {
    return this.clock.now()
  }

  /**
   * `flow-audit` every auditIntervalMs (none when 0): 'no-answer' when the flows could not be read (OVS away);
   * the audit logs what it found.
   */
  tasks(): PeriodicTask[] {
    if (this.opts.auditIntervalMs <= 0) return []
    return [
      {
        name: 'flow-audit',
        periodMs: () => this.opts.auditIntervalMs,
        run: async () => {
          const result = await this.audit('periodic')
          return result?.errors.some((e) => e.network === '*') ? 'no-answer' : 'done'
        },
      },
    ]
  }

  async start(seed: Parameters<Dataplane['start']>[0]): Promise<void> {
    this.stopped = false
    for (const s of seed) {
      if (s.localVlan === null || s.vdpVlan === null) continue
      const net = this.networkFor(s.netUuid, s.localVlan, s.vdpVlan)
      net.ports.add(s.portUuid)
    }
    const {monitor, log} = this.opts
    monitor.on('ready', () => {
      // a new OVSDB session: the server (or all of OVS) may have restarted
      if (monitor.generation > 1) this.auditSoon('OVSDB reconnected')
    })
    monitor.on('update', () => {
      if (this.state === 'ready' && this.topologyChanged()) this.auditSoon('OVS ports renumbered')
    })
    monitor.on('disconnected', (reason) => log.warn({reason}, 'OVSDB connection lost; reconnecting'))
    try {
      await monitor.start()
    } catch (err) {
      log.error({err: (err as Error).message}, 'Open vSwitch is not reachable yet; the dataplane waits for it')
    }
    // ovs-vswitchd re-creates its <bridge>.mgmt sockets when it restarts (and forgets every flow)
    try {
      this.watcher = watch(this.opts.rundir, (_event, file) => {
        if (file === `${this.opts.integrationBridge}.mgmt` || file === `${this.opts.externalBridge}.mgmt`)
          this.auditSoon('ovs-vswitchd restarted')
      })
      this.watcher.on('error', () => undefined)
    } catch (err) {
      log.warn(
        {err: (err as Error).message, rundir: this.opts.rundir},
        'cannot watch the OVS run directory; restarts are healed by the periodic audit',
      )
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.restartTimer) this.clock.clearTimer(this.restartTimer)
    this.restartTimer = undefined
    this.watcher?.close()
    await this.serial.catch(() => undefined)
    this.opts.monitor.stop()
  }

  uplinkUp(ifname: string): Promise<void> {
    return this.exclusive(async () => {
      validateIfName(ifname)
      this.uplink = ifname
      try {
        this.topology = await this.setUpUplink(ifname)
        this.state = 'ready'
        this.failReason = null
        this.opts.log.info(
          {uplink: ifname, bridge: this.opts.externalBridge, patch: this.topology.patch},
          'dataplane ready',
        )
      } catch (err) {
        this.state = 'failed'
        this.failReason = (err as Error).message
        this.topology = null
        this.opts.log.error({uplink: ifname, reason: this.failReason}, 'dataplane not ready')
        return
      }
      await this.auditNow('uplink up')
    })
  }

  uplinkDown(ifname: string): Promise<void> {
    return this.exclusive(async () => {
      const {tools, log, externalBridge, integrationBridge} = this.opts
      for (const bridge of [externalBridge, integrationBridge]) {
        await tools
          .deleteOurFlows(bridge)
          .catch((err: Error) => log.warn({bridge, err: err.message}, 'could not delete our flows'))
      }
      if (this.addedUplinkPort)
        await tools
          .delPort(externalBridge, ifname)
          .catch((err: Error) => log.warn({err: err.message}, 'could not remove the uplink port we added'))
      this.addedUplinkPort = false
      // the VM ports re-associate (and re-program) on the next uplink
      this.networks.clear()
      this.topology = null
      this.uplink = null
      this.state = 'idle'
      this.failReason = null
      log.info({uplink: ifname}, 'dataplane: our flows removed')
    })
  }

  async portUp(port: PortBinding, vdpVlan: number): Promise<PortUpResult> {
    try {
      checkVlan('VDP VLAN', vdpVlan)
    } catch (err) {
      return {ok: false, reason: (err as Error).message}
    }
    if (this.state !== 'ready') return {ok: false, reason: `dataplane not ready: ${this.failReason ?? 'no uplink'}`}
    let lvid: number
    try {
      lvid = await this.waitForLvid(port.portUuid)
    } catch (err) {
      return {ok: false, reason: (err as Error).message}
    }
    return new Promise((resolve) => {
      this.pending.push({port, lvid, vdpVlan, resolve})
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => void this.exclusive(() => this.flushPending()))
      }
    })
  }

  portDown(port: PortBinding): Promise<void> {
    return this.exclusive(async () => {
      const net = this.networks.get(port.netUuid)
      if (!net || !net.ports.delete(port.portUuid) || net.ports.size > 0) return
      this.networks.delete(port.netUuid)
      if (net.installed && this.topology) {
        const old = translationFlows(net.installed, this.topology.patch)
        await this.applyByBridge(old.map((f) => ({bridge: f.bridge, line: deleteLine(f)})))
        this.opts.log.info(
          {net: net.netUuid, lvid: net.installed.lvid, vlan: net.installed.vdpVlan},
          'last port of the network gone: its flows removed',
        )
      }
    })
  }

  audit(reason: string): Promise<AuditResult | null> {
    return this.exclusive(() => this.auditNow(reason))
  }

  async stats(): Promise<DataplaneStats> {
    const {integrationBridge, externalBridge, tools} = this.opts
    const flowsByBridge: Record<string, number> = {}
    if (this.opts.monitor.connected) {
      await Promise.all(
        (
          [
            ['external', externalBridge],
            ['integration', integrationBridge],
          ] as const
        ).map(async ([role, bridge]) => {
          const flows = await tools.dumpOurFlows(role, bridge).catch(() => null)
          if (flows) flowsByBridge[bridge] = flows.length
        }),
      )
    }
    const t = this.auditTotals
    return {
      ready: this.state === 'ready',
      flowsByBridge,
      audits: t.audits,
      auditFlowsAdded: t.added,
      auditFlowsRemoved: t.removed,
    }
  }

  async view(): Promise<FlowsView> {
    const {integrationBridge, externalBridge, tools} = this.opts
    const desired = this.desired().flows.map(flowText)
    let installed: string[] = []
    if (this.opts.monitor.connected) {
      const dumps = await Promise.all([
        tools.dumpOurFlows('external', externalBridge).catch(() => []),
        tools.dumpOurFlows('integration', integrationBridge).catch(() => []),
      ])
      installed = dumps.flat().map(flowText)
    }
    const t = this.topology
    return {
      driver: 'ovs',
      state: this.state,
      failReason: this.failReason,
      uplink: this.uplink,
      bridges: {integration: integrationBridge, external: externalBridge},
      patch: t
        ? {
            integration: t.patch.integrationName,
            external: t.patch.externalName,
            integrationOfport: t.patch.integration,
            externalOfport: t.patch.external,
          }
        : null,
      networks: [...this.networks.values()].map((n) => ({
        netUuid: n.netUuid,
        lvid: n.lvid,
        vdpVlan: n.vdpVlan,
        ports: n.ports.size,
        error: n.error,
      })),
      desired,
      installed,
      lastAudit: this.lastAudit,
      commands: tools.commands,
    }
  }

  // -------------------------------------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn)
    this.serial = run.catch(() => undefined)
    return run
  }

  private lvidOwner(lvid: number): Network | undefined {
    for (const n of this.networks.values()) if (n.lvid === lvid) return n
    return undefined
  }

  private networkFor(netUuid: string, lvid: number, vdpVlan: number): Network {
    let net = this.networks.get(netUuid)
    if (!net) {
      net = {netUuid, lvid, vdpVlan, ports: new Set(), error: null}
      this.networks.set(netUuid, net)
    }
    return net
  }

  /** The uplink into the external bridge, the patch pair found, the ofports known (dfa-agent §4.2, with reasons). */
  private async setUpUplink(ifname: string): Promise<Topology> {
    const {monitor, tools, integrationBridge, externalBridge} = this.opts
    if (!monitor.connected) await monitor.start(30_000) // a large database loads slowly on a busy host
    const missing = [integrationBridge, externalBridge].filter((b) => !monitor.bridgeByName(b))
    if (missing.length > 0) {
      const have = [...monitor.bridges.values()].map((b) => b.name).sort()
      throw new Error(
        `bridge ${missing.join(' and ')} not found in Open vSwitch (bridges: ${have.join(', ') || 'none'}); Neutron's OVS agent creates ${integrationBridge} and ${externalBridge}`,
      )
    }
    const holder = monitor.bridgeOfPort(ifname)
    if (holder && holder.name !== externalBridge)
      throw new Error(`the uplink ${ifname} is a port of bridge ${holder.name}, not of ${externalBridge}`)
    if (!holder) {
      await tools.addPort(externalBridge, ifname)
      this.addedUplinkPort = true
    }
    const patch = this.findPatch()
    if (!patch)
      throw new Error(
        `no patch port pair between ${integrationBridge} and ${externalBridge} (Neutron creates int-${externalBridge} and phy-${externalBridge})`,
      )
    const uplinkOfport = await monitor
      .waitFor(`an OpenFlow port number for ${ifname}`, () => this.ofportOf(externalBridge, ifname), 10_000)
      .catch(() => {
        throw new Error(
          `the uplink ${ifname} got no OpenFlow port on ${externalBridge} (is the interface usable by OVS?)`,
        )
      })
    return {uplinkOfport, patch: {...patch}}
  }

  private ofportOf(bridge: string, ifname: string): number | undefined {
    return ofportOf(this.opts.monitor, bridge, ifname)
  }

  private findPatch(): PatchPair | undefined {
    return findPatchPair(this.opts.monitor, this.opts.integrationBridge, this.opts.externalBridge)
  }

  private topologyChanged(): boolean {
    const t = this.topology
    if (!t || !this.uplink) return false
    const patch = this.findPatch()
    return (
      this.ofportOf(this.opts.externalBridge, this.uplink) !== t.uplinkOfport ||
      patch?.external !== t.patch.external ||
      patch?.integration !== t.patch.integration
    )
  }

  /** Neutron's local VLAN of a VM port: its tag on the integration bridge, waited for (event-driven). */
  private waitForLvid(portUuid: string): Promise<number> {
    const {monitor, integrationBridge, tagTimeoutMs} = this.opts
    return monitor
      .waitFor(`the tag of port ${portUuid}`, () => localVlanOf(monitor, integrationBridge, portUuid), tagTimeoutMs)
      .catch(() => {
        const found = monitor.portOfIfaceId(portUuid)
        const what = found
          ? `port ${found.port.name} has no VLAN tag on ${integrationBridge}`
          : `no interface with external_ids:iface-id=${portUuid} on ${integrationBridge}`
        throw new Error(`${what} after ${tagTimeoutMs / 1000} s (Neutron's OVS agent sets it)`)
      })
  }

  /** Programs every port-up that arrived together: one bundle per bridge, then each caller hears its result. */
  private async flushPending(): Promise<void> {
    this.flushScheduled = false
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    if (this.state !== 'ready' || !this.topology) {
      for (const p of batch) p.resolve({ok: false, reason: `dataplane not ready: ${this.failReason ?? 'no uplink'}`})
      return
    }
    const patch = this.topology.patch
    const touched = new Map<string, Network>()
    const refused = new Map<PendingPort, string>()
    for (const p of batch) {
      const existing = this.networks.get(p.port.netUuid)
      const owner = this.lvidOwner(p.lvid)
      const clash = owner && owner.netUuid !== p.port.netUuid ? owner : undefined
      if (clash) {
        refused.set(p, `local VLAN ${p.lvid} is already used by network ${clash.netUuid}`)
        continue
      }
      const net = existing ?? this.networkFor(p.port.netUuid, p.lvid, p.vdpVlan)
      // the switch's latest answer wins (a VLAN change replaces the flows); the lvid follows Neutron
      net.lvid = p.lvid
      net.vdpVlan = p.vdpVlan
      net.ports.add(p.port.portUuid)
      touched.set(net.netUuid, net)
    }
    const ops: {bridge: BridgeRole; line: string; net: string}[] = []
    for (const net of touched.values()) {
      if (net.installed && net.installed.lvid === net.lvid && net.installed.vdpVlan === net.vdpVlan) continue
      try {
        const next = translationFlows(net, patch)
        const old = net.installed ? translationFlows(net.installed, patch) : []
        const nextKeys = new Set(next.map((f) => `${f.cookie}|${f.match}`))
        for (const f of old)
          if (!nextKeys.has(`${f.cookie}|${f.match}`))
            ops.push({bridge: f.bridge, line: deleteLine(f), net: net.netUuid})
        for (const f of next) ops.push({bridge: f.bridge, line: addLine(f), net: net.netUuid})
      } catch (err) {
        net.error = (err as Error).message
      }
    }
    const failedNets = await this.applyIsolated(ops)
    for (const net of touched.values()) {
      const failure = failedNets.get(net.netUuid) ?? net.error
      if (failure) net.error = failure
      else {
        net.error = null
        if (net.installed?.vdpVlan !== undefined && net.installed.vdpVlan !== net.vdpVlan)
          this.opts.log.info(
            {net: net.netUuid, lvid: net.lvid, from: net.installed.vdpVlan, to: net.vdpVlan},
            'translation flows replaced (VLAN change)',
          )
        net.installed = {lvid: net.lvid, vdpVlan: net.vdpVlan}
      }
    }
    for (const p of batch) {
      const reason =
        refused.get(p) ??
        (touched.get(p.port.netUuid)?.error
          ? `flows for network ${p.port.netUuid}: ${touched.get(p.port.netUuid)!.error}`
          : undefined)
      p.resolve(reason ? {ok: false, reason} : {ok: true, localVlan: p.lvid})
    }
  }

  /**
   * Applies lines in one bundle per bridge; if a bundle is refused, per network, so one bad network is
   * isolated and the others still go in. Returns the networks whose lines failed, with the reason.
   */
  private async applyIsolated(ops: {bridge: BridgeRole; line: string; net: string}[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>()
    try {
      await this.applyByBridge(ops)
      return failed
    } catch {
      // fall through: find the culprit(s)
    }
    const byNet = new Map<string, typeof ops>()
    for (const op of ops) byNet.set(op.net, [...(byNet.get(op.net) ?? []), op])
    for (const [net, netOps] of byNet) {
      try {
        await this.applyByBridge(netOps)
      } catch (err) {
        failed.set(net, (err as Error).message)
      }
    }
    return failed
  }

  private async applyByBridge(ops: {bridge: BridgeRole; line: string}[]): Promise<void> {
    const {tools, integrationBridge, externalBridge} = this.opts
    const ext = ops.filter((o) => o.bridge === 'external').map((o) => o.line)
    const int = ops.filter((o) => o.bridge === 'integration').map((o) => o.line)
    await Promise.all([tools.bundle(externalBridge, ext), tools.bundle(integrationBridge, int)])
  }

  private desired(): {flows: Flow[]; errors: {network: string; reason: string}[]} {
    const t = this.topology
    if (!t || this.state !== 'ready') return {flows: [], errors: []}
    const translations = [...this.networks.values()]
      .filter((n) => n.ports.size > 0)
      .map((n) => ({network: n.netUuid, lvid: n.lvid, vdpVlan: n.vdpVlan}))
    return desiredFlows({patch: t.patch, uplinkOfport: t.uplinkOfport, translations})
  }

  /** A one-shot timer, not a periodic task: events coming together (OVS restart) give one audit. */
  private auditSoon(reason: string): void {
    if (this.restartTimer) this.clock.clearTimer(this.restartTimer)
    this.restartTimer = undefined
    if (this.stopped) return
    this.restartTimer = this.clock.setTimer(300, () => {
      this.restartTimer = undefined
      this.audit(reason).catch((err: unknown) =>
        this.opts.log.error({reason, err: (err as Error).message}, 'flow audit failed'),
      )
    })
  }

  /**
   * Compares our installed flows (by cookie) with the desired ones on both bridges: adds what is missing,
   * deletes what is stale, counts both. Ports renumbered by an OVS restart and lvids changed by Neutron are
   * re-read first. A network that cannot be programmed is reported; the others are audited all the same.
   */
  private async auditNow(reason: string): Promise<AuditResult | null> {
    const {tools, log, integrationBridge, externalBridge, monitor} = this.opts
    if (this.uplink && this.state !== 'ready') {
      // a failed uplink set-up (OVS down, patch missing): try again, it may be fixed now
      try {
        this.topology = await this.setUpUplink(this.uplink)
        this.state = 'ready'
        this.failReason = null
      } catch (err) {
        this.failReason = (err as Error).message
        return null
      }
    }
    if (this.state !== 'ready') return null
    if (this.topologyChanged()) {
      const patch = this.findPatch()
      const uplinkOfport = this.ofportOf(externalBridge, this.uplink!)
      if (!patch || !uplinkOfport) {
        this.state = 'failed'
        this.failReason = !patch
          ? `the patch pair between ${integrationBridge} and ${externalBridge} is gone`
          : `the uplink ${this.uplink} left ${externalBridge}`
        log.error({reason: this.failReason}, 'dataplane not ready')
        return null
      }
      this.topology = {uplinkOfport, patch}
    }
    for (const net of this.networks.values()) {
      for (const port of net.ports) {
        const found = monitor.portOfIfaceId(port)
        if (found?.port.tag && found.port.tag !== net.lvid) {
          log.warn(
            {net: net.netUuid, from: net.lvid, to: found.port.tag},
            'Neutron changed the local VLAN of a network',
          )
          net.lvid = found.port.tag
        }
        if (found) break
      }
    }
    // `at`: whole epoch ms, as the database stamps (the system clock has fractions)
    const result: AuditResult = {reason, at: Math.round(this.now()), added: 0, removed: 0, ok: 0, errors: []}
    const {flows, errors} = this.desired()
    result.errors.push(...errors)
    const badNets = new Set(errors.map((e) => e.network))
    let installed: Flow[]
    try {
      installed = (
        await Promise.all([
          tools.dumpOurFlows('external', externalBridge),
          tools.dumpOurFlows('integration', integrationBridge),
        ])
      ).flat()
    } catch (err) {
      result.errors.push({network: '*', reason: (err as Error).message})
      this.lastAudit = result
      this.auditTotals.audits++
      log.error({reason, err: (err as Error).message}, 'flow audit could not read the flows')
      return result
    }
    const plan = planAudit(flows, installed)
    result.ok = plan.ok
    // one line per flow, tagged with its network, so a refused bundle can be narrowed down
    const netByLvid = new Map([...this.networks.values()].map((n) => [n.lvid, n.netUuid]))
    const netOf = (f: Flow) =>
      ((f.cookie >> 24n) & 0xffn) !== BigInt(FlowKind.dropControl)
        ? (netByLvid.get(Number(f.cookie & 0xfffn)) ?? 'stale')
        : 'uplink'
    const ops = [
      ...plan.remove.map((f) => ({bridge: f.bridge, line: deleteLine(f), net: netOf(f), kind: 'remove' as const})),
      ...plan.add.map((f) => ({bridge: f.bridge, line: addLine(f), net: netOf(f), kind: 'add' as const})),
    ]
    const failed = await this.applyIsolated(ops)
    for (const op of ops) {
      if (failed.has(op.net)) continue
      if (op.kind === 'add') result.added++
      else result.removed++
    }
    for (const [network, why] of failed) result.errors.push({network, reason: why})
    for (const net of this.networks.values()) {
      if (failed.has(net.netUuid) || badNets.has(net.netUuid))
        net.error = failed.get(net.netUuid) ?? errors.find((e) => e.network === net.netUuid)?.reason ?? null
      else if (net.ports.size > 0) {
        net.error = null
        net.installed = {lvid: net.lvid, vdpVlan: net.vdpVlan}
      }
    }
    this.lastAudit = result
    this.auditTotals.audits++
    this.auditTotals.added += result.added
    this.auditTotals.removed += result.removed
    const level = result.added || result.removed || result.errors.length ? 'info' : 'debug'
    log[level](
      {reason, added: result.added, removed: result.removed, ok: result.ok, errors: result.errors.length},
      'flow audit',
    )
    return result
  }
}
