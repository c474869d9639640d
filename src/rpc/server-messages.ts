import type {VmUpRequest} from '../agent/vm-port.js'
import {parsePortUuid, parseVmUp} from '../agent/vm-port.js'
import {VdpAgentError, errorMessage} from '../errors.js'
import {isObject} from './oslo-envelope.js'
import {parsePayload} from './py-literal.js'

/**
 * Schemas of the server -> agent messages (upstream agent/dfa_agent.py RpcCallBacks; docs/rpc.md): the `msg` argument of
 * `send_vm_info` (one vm_info dict or a bulk list, Python `str()` text or JSON) and of `send_msg_to_agent`
 * type 1002 (the uplink the server remembers, JSON). Pure: text in, validated values out.
 */
class ServerMessageError extends VdpAgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('RPC_BAD_PAYLOAD', message, details)
  }
}

/** Most entries in one bulk list (the port intake's own bound). */
const MAX_VM_INFO_ENTRIES = 20_000

export type VmInfoEntry =
  | {ok: true; status: 'up'; port: VmUpRequest}
  | {ok: true; status: 'down'; portUuid: string}
  | {ok: false; portUuid: string | null; reason: string}

/** `oui.vm_uuid` is the Nova device_id without dashes; our store keeps dashed UUIDs. */
function dashedUuid(v: unknown): unknown {
  if (typeof v === 'string' && /^[0-9a-f]{32}$/i.test(v))
    return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`
  return v
}

/** One vm_info dict (`_make_vm_info` upstream) to our VM-port intake's shape; errors stay per entry. */
function parseVmInfoEntry(raw: unknown, hostId: string): VmInfoEntry {
  const portUuid = isObject(raw) && typeof raw.port_uuid === 'string' ? raw.port_uuid.toLowerCase() : null
  try {
    if (!isObject(raw)) throw new ServerMessageError('a vm_info entry is not a dict')
    if (raw.host !== undefined && raw.host !== null && raw.host !== '' && raw.host !== hostId) {
      throw new ServerMessageError(`vm_info for host ${JSON.stringify(raw.host)} sent to ${JSON.stringify(hostId)}`)
    }
    if (raw.status === 'down') return {ok: true, status: 'down', portUuid: parsePortUuid({portUuid: raw.port_uuid})}
    if (raw.status !== 'up')
      throw new ServerMessageError(`status ${JSON.stringify(raw.status)}: expected 'up' or 'down'`)
    const oui = isObject(raw.oui) ? raw.oui : {}
    const ip = oui.ip_addr === '0.0.0.0' ? undefined : oui.ip_addr
    const port = parseVmUp({
      portUuid: raw.port_uuid,
      mac: raw.vm_mac,
      netUuid: raw.net_uuid,
      segmentationId: raw.segmentation_id,
      vmName: oui.vm_name,
      vmUuid: dashedUuid(oui.vm_uuid),
      ipv4: ip,
    })
    return {ok: true, status: 'up', port}
  } catch (err) {
    return {ok: false, portUuid, reason: errorMessage(err)}
  }
}

/** `send_vm_info`'s msg: one dict or a list of dicts. Throws on text that is not a literal or not dicts. */
export function parseSendVmInfo(msg: unknown, hostId: string): {bulk: boolean; entries: VmInfoEntry[]} {
  if (typeof msg !== 'string') throw new ServerMessageError('send_vm_info: msg is not a string')
  const value = parsePayload(msg)
  if (Array.isArray(value)) {
    if (value.length > MAX_VM_INFO_ENTRIES)
      throw new ServerMessageError(`send_vm_info: ${value.length} entries, at most ${MAX_VM_INFO_ENTRIES}`)
    return {bulk: true, entries: value.map((v) => parseVmInfoEntry(v, hostId))}
  }
  if (!isObject(value)) throw new ServerMessageError('send_vm_info: msg is neither a dict nor a list')
  return {bulk: false, entries: [parseVmInfoEntry(value, hostId)]}
}

export interface ServerUplinkInfo {
  uplink: string | null
  vethIntf: string | null
}

const IFNAME = /^[^\s/:]{1,15}$/

/** `send_msg_to_agent` type 1002: the server's `agents.configurations` JSON, e.g. `{"uplink": "eth5", "veth_intf": "LLDPLeth5"}`. */
export function parseServerUplink(msg: unknown): ServerUplinkInfo {
  if (typeof msg !== 'string') throw new ServerMessageError('send_msg_to_agent: msg is not a string')
  const v = parsePayload(msg)
  if (!isObject(v)) throw new ServerMessageError('send_msg_to_agent: msg is not a dict')
  const name = (key: string): string | null => {
    const x = v[key]
    if (x === undefined || x === null || x === '') return null
    if (typeof x !== 'string' || !IFNAME.test(x))
      throw new ServerMessageError(`send_msg_to_agent: ${key} ${JSON.stringify(x)} is not an interface name`)
    return x
  }
  return {uplink: name('uplink'), vethIntf: name('veth_intf')}
}
