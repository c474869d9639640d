import type {PeriodicTask} from '../core/scheduler.js'

/**
 * The seam between VDP results and the host's datapath. The VDP reconciler calls it before it commits a
 * result: a port is reported associated (with its `local_vlan`) only after `portUp` resolved ok, i.e.
 * after the translation flows are in. `driver = none` programs nothing (`NoDataplane`).
 */
export interface PortBinding {
  portUuid: string
  netUuid: string
}

export type PortUpResult = {ok: true; localVlan: number | null} | {ok: false; reason: string}

export interface AuditResult {
  reason: string
  at: number
  added: number
  removed: number
  ok: number
  /** Networks (or bridges) that could not be audited, with why; the others were. */
  errors: {network: string; reason: string}[]
}

export interface FlowsView {
  driver: 'none' | 'ovs'
  state: 'idle' | 'ready' | 'failed'
  failReason: string | null
  uplink: string | null
  bridges: {integration: string; external: string}
  patch: {integration: string; external: string; integrationOfport: number; externalOfport: number} | null
  networks: {netUuid: string; lvid: number; vdpVlan: number; ports: number; error: string | null}[]
  desired: string[]
  installed: string[]
  lastAudit: AuditResult | null
  commands: number
}

/** What the metrics endpoint reports of the dataplane (src/metrics/daemon-metrics.ts). */
export interface DataplaneStats {
  ready: boolean
  /** Flows of ours (by cookie) installed now, per bridge name; a bridge that cannot be read is left out. */
  flowsByBridge: Record<string, number>
  /** Flow audits run since the daemon started, and the flows they added and removed. */
  audits: number
  auditFlowsAdded: number
  auditFlowsRemoved: number
}

export interface Dataplane {
  /** Loads what was associated before a restart (so its flows stay audited), and starts watching. */
  start(
    seed: readonly {portUuid: string; netUuid: string; localVlan: number | null; vdpVlan: number | null}[],
  ): Promise<void>
  stop(): Promise<void>
  uplinkUp(ifname: string): Promise<void>
  uplinkDown(ifname: string): Promise<void>
  /** Flows for the port's network on `vdpVlan` are in (replacing another VLAN's) when this resolves ok. */
  portUp(port: PortBinding, vdpVlan: number): Promise<PortUpResult>
  /** The last port of a network going away removes the network's flows. */
  portDown(port: PortBinding): Promise<void>
  audit(reason: string): Promise<AuditResult | null>
  view(): Promise<FlowsView>
  /** null with `driver = none` (nothing to report). */
  stats(): Promise<DataplaneStats | null>
  /** Its periodic work (the flow audit), for the daemon's scheduler; none with `driver = none`. */
  tasks(): PeriodicTask[]
}

/** `[dataplane] driver = none`: VDP only; results carry no local VLAN. */
export class NoDataplane implements Dataplane {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async uplinkUp(_ifname: string): Promise<void> {}
  async uplinkDown(_ifname: string): Promise<void> {}
  async portUp(_port: PortBinding, _vdpVlan: number): Promise<PortUpResult> {
    return {ok: true, localVlan: null}
  }
  async portDown(_port: PortBinding): Promise<void> {}
  async audit(): Promise<null> {
    return null
  }
  async stats(): Promise<null> {
    return null
  }
  tasks(): PeriodicTask[] {
    return []
  }
  async view(): Promise<FlowsView> {
    return {
      driver: 'none',
      state: 'idle',
      failReason: null,
      uplink: null,
      bridges: {integration: '', external: ''},
      patch: null,
      networks: [],
      desired: [],
      installed: [],
      lastAudit: null,
      commands: 0,
    }
  }
}
