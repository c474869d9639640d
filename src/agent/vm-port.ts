import {isGroupMac, isMacText, parseMac} from '../core/ethernet.js'
import {VdpAgentError} from '../errors.js'
import type {VmPort} from '../model/vsi.js'
import {previewValue} from '../value-preview.js'

/** A VM event's port failed validation (from the CLI or the controller): nothing is recorded or queued. */
class VmPortError extends VdpAgentError {
  constructor(field: string, value: unknown, expected: string) {
    // A preview, not the value: an error reply never echoes a whole (maybe huge or deeply nested) input.
    super('BAD_ARGUMENT', `${field} = ${previewValue(value)}: expected ${expected}`, {field})
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** aa:bb:cc:dd:ee:ff (src/core/ethernet.ts, the one place for MAC addresses). */
const MAC: Pick<RegExp, 'test'> = {test: (text) => isMacText(text)}
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
/** Printable, no control characters: the name travels in a Cisco VDP TLV (lldpad's limit is 100). */
const VM_NAME = /^[\x20-\x7e]{1,100}$/

export interface VmUpRequest extends VmPort {
  /** A VLAN to request instead of letting the switch assign one (VID 0). */
  vlan?: number | null
}

function str(
  params: Record<string, unknown>,
  field: string,
  pattern: Pick<RegExp, 'test'>,
  expected: string,
  optional = false,
): string | undefined {
  const v = params[field]
  if (v === undefined || v === null || v === '') {
    if (optional) return undefined
    throw new VmPortError(field, v, expected)
  }
  if (typeof v !== 'string' || !pattern.test(v)) throw new VmPortError(field, v, expected)
  return v
}

function int(
  params: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  optional = false,
): number | undefined {
  const v = params[field]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw new VmPortError(field, v, `an integer from ${min} to ${max}`)
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new VmPortError(field, v, `an integer from ${min} to ${max}`)
  return v
}

function isUnicast(mac: string): boolean {
  return !isGroupMac(parseMac(mac)) && mac !== '00:00:00:00:00:00'
}

/** The fields of a VM-up request; any other key is refused (a misspelt optional field must not vanish). */
const VM_UP_FIELDS = new Set(['portUuid', 'mac', 'netUuid', 'segmentationId', 'vmName', 'vmUuid', 'ipv4', 'vlan'])

function refuseUnknownKeys(p: object, known: ReadonlySet<string>, where: string): void {
  const unknown = Object.keys(p).filter((k) => !known.has(k))
  if (unknown.length > 0)
    throw new VmPortError(
      where,
      unknown.length === 1 ? unknown[0] : unknown.slice(0, 5).join(', '),
      `only the keys ${[...known].join(', ')} (unknown key${unknown.length === 1 ? '' : 's'})`,
    )
}

/** Validate a VM-up request from untrusted input (control socket, RPC). */
export function parseVmUp(input: unknown): VmUpRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new VmPortError('params', input, 'an object')
  const p = input as Record<string, unknown>
  refuseUnknownKeys(p, VM_UP_FIELDS, 'key')
  const mac = str(p, 'mac', MAC, 'a MAC address aa:bb:cc:dd:ee:ff')!.toLowerCase()
  if (!isUnicast(mac)) throw new VmPortError('mac', mac, 'a unicast MAC address (not multicast, broadcast or all-zero)')
  return {
    portUuid: str(p, 'portUuid', UUID, 'a UUID')!.toLowerCase(),
    mac,
    netUuid: str(p, 'netUuid', UUID, 'a UUID')!.toLowerCase(),
    // a VXLAN/DFA segment ID is 24 bits; 0 means none and cannot be a VDP group ID
    segmentationId: int(p, 'segmentationId', 1, 0xffffff)!,
    vmName: str(p, 'vmName', VM_NAME, 'a printable name of at most 100 characters', true) ?? null,
    vmUuid: str(p, 'vmUuid', UUID, 'a UUID', true)?.toLowerCase() ?? null,
    ipv4: str(p, 'ipv4', IPV4, 'an IPv4 address', true) ?? null,
    // VID 1 is rejected by lldpad and 4095 is reserved (802.1Q)
    vlan: int(p, 'vlan', 2, 4094, true) ?? null,
  }
}

export function parsePortUuid(input: unknown): string {
  if (typeof input !== 'object' || input === null) throw new VmPortError('params', input, 'an object')
  return str(input as Record<string, unknown>, 'portUuid', UUID, 'a UUID')!.toLowerCase()
}

/** Most ports in one bulk request (the controller's VM list); larger lists are split by the sender. */
const MAX_BULK_PORTS = 20_000

/** A bulk VM list: ports to associate and port UUIDs to de-associate. */
export function parseVmBulk(input: unknown): {up: VmUpRequest[]; down: string[]} {
  const shape = 'an object {"up": [ports...], "down": [port UUIDs...]} (either list may be left out, not both)'
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new VmPortError('the bulk list', input, shape)
  const p = input as {up?: unknown; down?: unknown}
  refuseUnknownKeys(p, new Set(['up', 'down']), 'key')
  if (p.up === undefined && p.down === undefined) throw new VmPortError('the bulk list', input, shape)
  const up = p.up ?? []
  const down = p.down ?? []
  if (!Array.isArray(up)) throw new VmPortError('up', up, 'an array of ports')
  if (!Array.isArray(down)) throw new VmPortError('down', down, 'an array of port UUIDs')
  if (up.length + down.length > MAX_BULK_PORTS)
    throw new VmPortError('up/down', `${up.length + down.length} ports`, `at most ${MAX_BULK_PORTS} ports per request`)
  const parsedUp = up.map((u, i) => {
    try {
      return parseVmUp(u)
    } catch (err) {
      throw new VmPortError(`up[${i}]`, u, (err as Error).message)
    }
  })
  const parsedDown = down.map((d, i) => {
    try {
      return parsePortUuid({portUuid: d})
    } catch (err) {
      throw new VmPortError(`down[${i}]`, d, (err as Error).message)
    }
  })
  const seen = new Set<string>()
  for (const id of [...parsedUp.map((u) => u.portUuid), ...parsedDown]) {
    if (seen.has(id)) throw new VmPortError('up/down', id, 'each port once per request')
    seen.add(id)
  }
  return {up: parsedUp, down: parsedDown}
}
