import type {UplinkSource} from '../model/uplink.js'
import type {VmPort} from '../model/vsi.js'

/** Work items of the priority queue. */
export type AgentEvent =
  | {kind: 'uplink-up'; ifname: string; source: UplinkSource}
  | {kind: 'uplink-down'; ifname: string; reason: string}
  | {kind: 'vm-up'; port: VmPort}
  | {kind: 'vm-down'; portUuid: string}
  | {kind: 'vm-bulk'; up: VmPort[]; down: string[]}

/** The queue key every uplink event shares, so uplink ups and downs never pass each other. */
export const UPLINK_QUEUE_KEY = 'uplink'
