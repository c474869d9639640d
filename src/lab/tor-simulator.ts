/**
 * The ToR simulator on one interface: the bridge side of LLDP/EVB (TorLldp), ECP22 and VDP22 (VdpBridge),
 * wired to frame sockets. It is what a compute node's agent (ours, or lldpad driven by vdptool) talks to in
 * the tests, the demo and the benchmarks; docs/tor-simulator.md describes it.
 *
 * - LLDP: LLDPDUs to 01:80:c2:00:00:00 with the bridge EVB TLV; received on all three LLDP groups. The station's
 *   EVB TLV decides the R/RTE/RWD/RKA the VDP bridge runs with (each the larger of both sides).
 * - ECP/VDP: EtherType 0x8940 on the nearest-customer-bridge group, handed to the VdpBridge. Like lldpad's
 *   bridge, ECP is ignored (no ACK) until the station's EVB TLV has been heard (`requireStationEvb`).
 * - A station that (re)appears gets a fresh ECP receiver: its first request is new whatever its number.
 */
import {randomInt} from 'node:crypto'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import {
  ETHERTYPE_ECP,
  ETHERTYPE_LLDP,
  LLDP_AGENT_ADDRESSES,
  NEAREST_CUSTOMER_BRIDGE,
  normalizeMac,
} from '../core/ethernet.js'
import {errorMessage, VdpAgentError} from '../errors.js'
import type {EvbTlv} from '../lldp/index.js'
import type {EvbBridgePolicy} from '../lldp-agent/evb-negotiation.js'
import type {Logger} from '../log/logger.js'
import type {FrameIO, FrameSocket} from '../net/frames.js'
import {validateIfName} from '../net/ifname.js'
import {type Clock, systemClock} from '../core/clock.js'
import type {EcpCounters} from '../vdp/ecp-transport.js'
import {LLDPAD_DEFAULT_EVB} from '../vdp/timers.js'
import {vsiidKey, type Vsiid} from '../vdp/vsiid.js'
import {
  DEFAULT_TOR_IDENTITY,
  DEFAULT_TOR_LLDP_TIMERS,
  TorLldp,
  type StationChange,
  type TorIdentity,
  type TorLldpCounters,
  type TorLldpTimers,
} from './tor-lldp.js'
import {faultsToJson, parseVsiid, type FaultsJson} from './tor-options.js'
import {
  seededRandom,
  VdpBridge,
  type BridgeEvent,
  type BridgeVsiSnapshot,
  type BridgeFaults,
  type BridgeVsiView,
  type VdpBridgeCounters,
  type VlanPolicy,
} from './vdp-bridge.js'
import {type EvbNegotiated, type EvbValues, evbValuesOf} from '../model/evb.js'

/** lldpad's bridge defaults (R 3, RTE 8, RWD 20, RKA 20), reflective relay and group IDs offered. */
export const DEFAULT_TOR_EVB_POLICY: EvbBridgePolicy = Object.freeze({
  ...LLDPAD_DEFAULT_EVB,
  rrCapable: true,
  groupId: true,
})

/**
 * lldpad parses each received VDPDU 2 ms after ACKing it, from a single buffer: a second ECPDU inside that
 * window overwrites the first (docs/vdp.md "Talking to lldpad"). Spacing our ECPDUs keeps an lldpad station safe.
 */
export const LLDPAD_SAFE_TX_GAP_MS = 3

export interface TorSimulatorOptions {
  readonly frames: FrameIO
  readonly ifname: string
  /** The interface's MAC: source of our frames and the chassis ID. */
  readonly localMac: string
  readonly clock?: Clock
  readonly identity?: Partial<TorIdentity>
  readonly evb?: Partial<EvbBridgePolicy>
  readonly lldpTimers?: Partial<TorLldpTimers>
  readonly vlanPolicy?: VlanPolicy
  readonly faults?: BridgeFaults
  /** Seed of the fault dice (drop and reject rates); default 1, so a run can be repeated. */
  readonly seed?: number
  /** Ignore ECP until the station's EVB TLV has been heard, as lldpad's bridge does. Default true. */
  readonly requireStationEvb?: boolean
  /** Minimum gap between our ECPDUs; default LLDPAD_SAFE_TX_GAP_MS. */
  readonly minTxGapMs?: number
  /** Drop VSIs whose keep-alives stop, with an unsolicited De-Associate. Default true. */
  readonly expireVsis?: boolean
  readonly maxVsis?: number
  /** Our first ECP sequence number; default random, so a restarted simulator is never taken for a duplicate. */
  readonly firstSequence?: number
  /**
   * Keep the VSIs in this JSON file across restarts of the simulator, as a switch keeps its VSI state when its
   * LLDP/VDP process restarts: loaded at start, rewritten after every change (a kill -9 loses at most the
   * changes of the last few milliseconds).
   */
  readonly stateFile?: string
  /** lldpad's "TODO mismatch filter data" rule (VdpBridgeOptions.strictFilter); default true. */
  readonly strictFilter?: boolean
  readonly log?: Logger
  readonly onEvent?: (event: TorEvent) => void
}

export type TorEvent =
  | {
      readonly type: 'station'
      readonly change: 'appeared' | 'changed'
      readonly stationMac: string
      readonly station: EvbTlv
      readonly negotiated: EvbNegotiated
    }
  | {
      readonly type: 'station'
      readonly change: 'gone'
      readonly stationMac: string
      readonly reason: 'shutdown' | 'expired' | 'evb-withdrawn'
    }
  | {
      readonly type: 'associated' | 'preassociated'
      /** The VSIID key ("uuid:…"). */
      readonly vsiid: string
      readonly vids: number[]
      readonly macs: string[]
      readonly groupIds: number[]
      /** False for a re-association that changed something (a keep-alive emits nothing). */
      readonly first: boolean
    }
  | {readonly type: 'deassociated'; readonly vsiid: string; readonly initiator: 'station' | 'bridge' | 'expired'}
  | {readonly type: 'rejected'; readonly vsiid: string; readonly code: number; readonly keep: boolean}
  /** A request answered with silence (strictFilter: a known VSI asked with another filter). */
  | {readonly type: 'ignored'; readonly vsiid: string; readonly why: string}
  | {readonly type: 'restored'; readonly vsis: number; readonly file: string}
  | {readonly type: 'vlan-changed'; readonly target: string; readonly vid: number; readonly vsis: number}
  | {readonly type: 'faults-changed'; readonly faults: FaultsJson}

export interface TorStatus {
  interface: string
  mac: string
  systemName: string
  portId: string
  state: 'idle' | 'running' | 'stopped'
  vlanPolicy: VlanPolicy
  faults: FaultsJson
  requireStationEvb: boolean
  /** The station's EVB TLV and what was negotiated with it; absent while no station is heard. */
  station?: {mac: string; evb: EvbTlv; negotiated: EvbNegotiated}
  /** What we advertise. */
  bridgeEvb: EvbTlv
  /** What the VDP bridge runs with now. */
  params: EvbValues
  vsis: number
  counters: {
    lldp: TorLldpCounters
    /** ECP frames received, and those dropped because no station EVB TLV had been heard. */
    ecp: {received: number; ignoredBeforeEvb: number}
    transport: EcpCounters
    bridge: VdpBridgeCounters
  }
}

/** TOR_NOT_RUNNING: a frame to send while the sockets are closed (counted as lost by the sender). */
class TorSimulatorError extends VdpAgentError {}

export class TorSimulator {
  readonly ifname: string
  readonly localMac: string
  private readonly frames: FrameIO
  private readonly clock: Clock
  private readonly identity: TorIdentity
  private readonly policy: EvbBridgePolicy
  private readonly vlanPolicy: VlanPolicy
  private readonly requireStationEvb: boolean
  private readonly log?: Logger
  private readonly onEvent: (event: TorEvent) => void
  private readonly lldp: TorLldp
  private readonly bridge: VdpBridge
  private faults: BridgeFaults
  private params: EvbValues
  private lldpSocket: FrameSocket | undefined
  /**
   * LLDPDUs heard before our first one went out, handled right after it: a (re)started switch announces itself
   * as one that has not heard the station yet (no echo of its status), however fast the station's LLDPDU came.
   * undefined once the first LLDPDU is out.
   */
  private heardBeforeFirstLldpdu: Buffer[] | undefined = []
  private ecpSocket: FrameSocket | undefined
  private state: 'idle' | 'running' | 'stopped' = 'idle'
  private readonly ecpStats = {received: 0, ignoredBeforeEvb: 0}
  private readonly stateFile?: string
  private saveTimer?: ReturnType<typeof setTimeout>

  constructor(options: TorSimulatorOptions) {
    this.ifname = validateIfName(options.ifname)
    this.localMac = normalizeMac(options.localMac)
    this.frames = options.frames
    this.clock = options.clock ?? systemClock
    this.identity = {...DEFAULT_TOR_IDENTITY, ...options.identity}
    this.policy = {...DEFAULT_TOR_EVB_POLICY, ...options.evb}
    this.vlanPolicy = options.vlanPolicy ?? {kind: 'segment'}
    this.faults = options.faults ?? {}
    this.requireStationEvb = options.requireStationEvb ?? true
    this.log = options.log
    this.onEvent = options.onEvent ?? (() => {})
    this.stateFile = options.stateFile
    this.params = evbValuesOf(this.policy)
    this.lldp = new TorLldp({
      clock: this.clock,
      send: (frame) => {
        this.sendOn(this.lldpSocket, frame)
        const heard = this.heardBeforeFirstLldpdu
        this.heardBeforeFirstLldpdu = undefined
        for (const early of heard ?? []) this.lldp.receive(early)
      },
      localMac: this.localMac,
      policy: this.policy,
      identity: this.identity,
      timers: {...DEFAULT_TOR_LLDP_TIMERS, ...options.lldpTimers},
      onStation: (change) => this.onStation(change),
    })
    this.bridge = new VdpBridge({
      clock: this.clock,
      send: (frame) => this.sendOn(this.ecpSocket, frame),
      localMac: this.localMac,
      evb: this.params,
      vlanPolicy: this.vlanPolicy,
      faults: this.faults,
      random: seededRandom(options.seed ?? 1),
      maxVsis: options.maxVsis,
      firstSequence: options.firstSequence ?? randomInt(1, 0x10000),
      minTxGapMs: options.minTxGapMs ?? LLDPAD_SAFE_TX_GAP_MS,
      expireVsis: options.expireVsis,
      strictFilter: options.strictFilter ?? true,
      onEvent: (event) => this.onBridgeEvent(event),
    })
  }

  /** Load the state file, if there is one (missing: start empty). */
  private loadState(): void {
    if (this.stateFile === undefined) return
    let text: string
    try {
      text = readFileSync(this.stateFile, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    let snapshots: BridgeVsiSnapshot[]
    try {
      snapshots = (JSON.parse(text) as {vsis: BridgeVsiSnapshot[]}).vsis
      this.bridge.restore(snapshots)
    } catch (err) {
      throw new TorSimulatorError(
        'TOR_STATE_FILE',
        `the state file ${this.stateFile} cannot be read: ${errorMessage(err)}`,
        {file: this.stateFile},
      )
    }
    this.onEvent({type: 'restored', vsis: snapshots.length, file: this.stateFile})
  }

  /** Rewrite the state file soon (changes of one burst of frames share one write). */
  private stateChanged(): void {
    if (this.stateFile === undefined || this.saveTimer !== undefined) return
    this.saveTimer = setTimeout(() => this.saveState(), 2)
  }

  private saveState(): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    if (this.stateFile === undefined) return
    try {
      const tmp = `${this.stateFile}.tmp`
      writeFileSync(tmp, JSON.stringify({vsis: this.bridge.snapshot()}))
      renameSync(tmp, this.stateFile)
    } catch (err) {
      this.log?.error({file: this.stateFile, err: errorMessage(err)}, 'cannot write the state file')
    }
  }

  /** Open the sockets and start advertising. Throws FrameIoError when the interface cannot be used. */
  start(): void {
    if (this.state !== 'idle') return
    this.loadState()
    this.lldpSocket = this.frames.open(this.ifname, ETHERTYPE_LLDP, {
      multicast: [...LLDP_AGENT_ADDRESSES],
      onFrame: (frame) => {
        if (!this.heardBeforeFirstLldpdu) this.lldp.receive(frame)
        else if (this.heardBeforeFirstLldpdu.length < 16) this.heardBeforeFirstLldpdu.push(frame)
      },
      onError: (err) => this.log?.warn({ifname: this.ifname, err: err.message}, 'LLDP socket error'),
    })
    try {
      this.ecpSocket = this.frames.open(this.ifname, ETHERTYPE_ECP, {
        multicast: [NEAREST_CUSTOMER_BRIDGE],
        onFrame: (frame) => this.onEcpFrame(frame),
        onError: (err) => this.log?.warn({ifname: this.ifname, err: err.message}, 'ECP socket error'),
      })
    } catch (err) {
      this.lldpSocket.close()
      throw err
    }
    this.state = 'running'
    this.lldp.start()
  }

  /** Send the shutdown LLDPDU, stop the bridge's timers and close the sockets. Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return
    this.lldp.stop()
    if (this.saveTimer !== undefined) this.saveState()
    this.bridge.close()
    this.state = 'stopped'
    this.lldpSocket?.close()
    this.ecpSocket?.close()
  }

  status(): TorStatus {
    const heard = this.lldp.heardStation
    const negotiated = this.lldp.negotiated
    return {
      interface: this.ifname,
      mac: this.localMac,
      systemName: this.identity.systemName,
      portId: this.identity.portId,
      state: this.state,
      vlanPolicy: this.vlanPolicy,
      faults: faultsToJson(this.faults),
      requireStationEvb: this.requireStationEvb,
      ...(heard && negotiated ? {station: {mac: heard.mac, evb: heard.evb, negotiated}} : {}),
      bridgeEvb: this.lldp.bridgeTlv,
      params: this.params,
      vsis: this.bridge.size,
      counters: {
        lldp: this.lldp.counters,
        ecp: {...this.ecpStats},
        transport: this.bridge.transport.counters,
        bridge: this.bridge.counters,
      },
    }
  }

  vsis(): BridgeVsiView[] {
    return this.bridge.list()
  }

  vsi(vsiid: Vsiid): BridgeVsiView | undefined {
    return this.bridge.get(vsiid)
  }

  get currentFaults(): BridgeFaults {
    return this.faults
  }

  /** Replace the whole fault set ({} clears every fault). */
  setFaults(faults: BridgeFaults): void {
    this.faults = faults
    this.bridge.setFaults(faults)
    this.onEvent({type: 'faults-changed', faults: faultsToJson(faults)})
  }

  /** Unsolicited De-Associate of these VSIs; returns how many the bridge held. */
  deassociate(vsiids: Vsiid | readonly Vsiid[]): number {
    return this.bridge.deassociate(vsiids)
  }

  /** Move one VSI, or a group's VSIs (and future ones), to `vid`; stations learn it at their next keep-alive. */
  changeVlan(target: Vsiid | {readonly groupId: number}, vid: number): number {
    const vsis = this.bridge.changeVlan(target, vid)
    this.stateChanged()
    const label = 'groupId' in target ? `group:${target.groupId}` : vsiidKey(target)
    this.onEvent({type: 'vlan-changed', target: label, vid, vsis})
    return vsis
  }

  private onEcpFrame(frame: Buffer): void {
    this.ecpStats.received++
    if (this.requireStationEvb && this.lldp.heardStation === undefined) {
      this.ecpStats.ignoredBeforeEvb++
      return
    }
    this.bridge.receive(frame)
  }

  private onStation(change: StationChange): void {
    if (change.change === 'gone') {
      this.onEvent({type: 'station', change: 'gone', stationMac: change.mac, reason: change.reason})
      return
    }
    // A station that appears may have restarted: its first ECPDU is new whatever its sequence number.
    if (change.change === 'appeared') this.bridge.transport.resetReceiver()
    const params = evbValuesOf(change.negotiated)
    if (!sameParams(params, this.params)) {
      this.params = params
      this.bridge.setParams(params)
    }
    this.onEvent({
      type: 'station',
      change: change.change,
      stationMac: change.station.mac,
      station: change.station.evb,
      negotiated: change.negotiated,
    })
  }

  private onBridgeEvent(event: BridgeEvent): void {
    this.stateChanged()
    switch (event.type) {
      case 'associated':
      case 'preassociated': {
        const entries = this.bridge.get(parseVsiid(event.key))?.filter.entries ?? []
        this.onEvent({
          type: event.type,
          vsiid: event.key,
          vids: event.vids,
          macs: entries.flatMap((e) => (e.mac ? [e.mac] : [])),
          groupIds: entries.flatMap((e) => (e.groupId !== undefined ? [e.groupId] : [])),
          first: event.first,
        })
        return
      }
      case 'deassociated':
        this.onEvent({type: 'deassociated', vsiid: event.key, initiator: event.initiator})
        return
      case 'rejected':
        this.onEvent({type: 'rejected', vsiid: event.key, code: event.code, keep: event.keep})
        return
      case 'ignored':
        this.onEvent({type: 'ignored', vsiid: event.key, why: event.why})
    }
  }

  private sendOn(socket: FrameSocket | undefined, frame: Buffer): void {
    if (socket === undefined || this.state !== 'running') {
      throw new TorSimulatorError('TOR_NOT_RUNNING', `the ToR simulator on ${this.ifname} is not running`)
    }
    try {
      socket.send(frame)
    } catch (err) {
      this.log?.debug({ifname: this.ifname, err: errorMessage(err)}, 'frame not sent')
      throw err
    }
  }
}

function sameParams(a: EvbValues, b: EvbValues): boolean {
  return a.retries === b.retries && a.rte === b.rte && a.rwd === b.rwd && a.rka === b.rka
}
