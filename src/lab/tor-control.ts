/**
 * Runtime control of a running ToR simulator over the newline-JSON control socket (src/control), so tests, the
 * demo and benchmarks can inject what a switch does on its own: unsolicited De-Associates, VLAN changes,
 * faults. Every parameter is checked (tor-options.ts); a bad one gets a BAD_ARGUMENT error reply.
 *
 *   status                                  → TorStatus
 *   vsis                                    → BridgeVsiView[]
 *   deassociate  {vsiid: text | text[]}     → {deassociated: n}   (n = how many the bridge held)
 *   change-vlan  {vsiid | groupId, vid}     → {changed: n}
 *   set-faults   {dropAckRate?, dropResponseRate?, responseDelayMs?, reject?}  → {faults}  (replaces all)
 */
import type {HandlersOf} from '../control/protocol.js'
import {
  type FaultsJson,
  faultsToJson,
  parseFaults,
  parseGroupId,
  parseVid,
  parseVsiid,
  parseVsiids,
  TorOptionError,
} from './tor-options.js'
import type {TorSimulator, TorStatus} from './tor-simulator.js'
import type {BridgeVsiView} from './vdp-bridge.js'

export const TOR_CONTROL_METHODS = ['status', 'vsis', 'deassociate', 'change-vlan', 'set-faults'] as const

/** The simulator's control methods: params as `lab tor-ctl` sends them, results as the simulator answers. */
export interface TorControlMethods {
  status: {params: void; result: TorStatus}
  vsis: {params: void; result: BridgeVsiView[]}
  deassociate: {params: {vsiid: string | string[]}; result: {deassociated: number}}
  'change-vlan': {params: ({vsiid: string} | {groupId: number}) & {vid: number}; result: {changed: number}}
  'set-faults': {params: FaultsJson; result: {faults: FaultsJson}}
}

export function torControlHandlers(sim: TorSimulator): HandlersOf<TorControlMethods> {
  return {
    status: () => sim.status(),
    vsis: () => sim.vsis(),
    deassociate: (params) => {
      const p = paramsOf(params, ['vsiid'])
      return {deassociated: sim.deassociate(parseVsiids(p.vsiid))}
    },
    'change-vlan': (params) => {
      const p = paramsOf(params, ['vsiid', 'groupId', 'vid'])
      if ((p.vsiid === undefined) === (p.groupId === undefined)) {
        throw new TorOptionError('change-vlan takes either vsiid or groupId (one of them)')
      }
      const vid = parseVid(p.vid)
      const target = p.vsiid !== undefined ? parseVsiid(p.vsiid) : {groupId: parseGroupId(p.groupId)}
      return {changed: sim.changeVlan(target, vid)}
    },
    'set-faults': (params) => {
      sim.setFaults(parseFaults(params ?? {}))
      return {faults: faultsToJson(sim.currentFaults)}
    },
  }
}

function paramsOf(params: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new TorOptionError(`parameters must be a JSON object with ${keys.join(', ')}`)
  }
  const extra = Object.keys(params).filter((k) => !keys.includes(k))
  if (extra.length > 0)
    throw new TorOptionError(`unknown parameters ${extra.join(', ')} (known: ${keys.join(', ')})`, {extra})
  return params as Record<string, unknown>
}
