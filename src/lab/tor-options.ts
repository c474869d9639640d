/**
 * The ToR simulator's settings as people and tests write them (CLI flag text, control-socket JSON), checked
 * and turned into the typed values VdpBridge takes. Every problem is a TorOptionError with code BAD_ARGUMENT
 * (exit 2 in the CLI, an error reply on the control socket) naming the setting and what was expected.
 */
import {isIPv4, isIPv6} from 'node:net'
import {VdpAgentError} from '../errors.js'
import type {VsiMode} from '../vdp/vdp-codec.js'
import {isMacText} from '../core/ethernet.js'
import {vsiidKey, type Vsiid} from '../vdp/vsiid.js'
import type {BridgeFaults, RejectFault, VlanPolicy} from './vdp-bridge.js'

export class TorOptionError extends VdpAgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('BAD_ARGUMENT', message, details)
  }
}

/** A longer response delay is a dead bridge, which dropping responses already simulates. */
export const MAX_RESPONSE_DELAY_MS = 600_000

/** The JSON form of BridgeFaults (control socket, status output). VSIIDs are text: a UUID or a VSIID key. */
export interface FaultsJson {
  dropAckRate?: number
  dropResponseRate?: number
  responseDelayMs?: number
  reject?: RejectJson
}

interface RejectJson {
  code: number
  hard?: boolean
  keep?: boolean
  rate?: number
  /** Fields that must all match; "custom" (output only) for a match function set in code. */
  match?: {vsiids?: string[]; typeId?: number; groupId?: number; modes?: readonly VsiMode[]} | 'custom'
}

const MODES: readonly VsiMode[] = ['preassoc', 'preassoc-rr', 'assoc', 'deassoc']
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const LOCAL_ID = /^[0-9a-f]{32}$/i

/** An integer within [min, max]; `value` may be a number or decimal text (flags). */
export function parseInteger(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new TorOptionError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, {
      name,
      value,
    })
  }
  return n
}

/** A share of events, 0–1 (0.1 = one in ten). */
export function parseShare(name: string, value: unknown): number {
  const n = typeof value === 'string' && /^\d*\.?\d+$/.test(value.trim()) ? Number(value.trim()) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new TorOptionError(`${name} must be a share from 0 to 1 (0.1 = one in ten), got ${JSON.stringify(value)}`, {
      name,
      value,
    })
  }
  return n
}

/** "100-199" → a pool of VLANs 100..199 (lowest free first, one per group). */
export function parseVlanPool(text: string): VlanPolicy {
  const m = /^(\d{1,4})-(\d{1,4})$/.exec(text.trim())
  const from = m ? Number(m[1]) : NaN
  const to = m ? Number(m[2]) : NaN
  if (!m || from < 2 || to > 4094 || from > to) {
    throw new TorOptionError(
      `a VLAN pool is FROM-TO with 2 ≤ FROM ≤ TO ≤ 4094 (e.g. 100-199), got ${JSON.stringify(text)}`,
      {text},
    )
  }
  return {kind: 'pool', from, to}
}

/** "CODE[,hard][,keep]" → the error to answer with (code 1–15; lldpad names 1–5). */
export function parseRejectSpec(text: string): {code: number; hard: boolean; keep: boolean} {
  const [codeText = '', ...flags] = text.split(',').map((part) => part.trim())
  const code = parseInteger('the reject code', codeText, 1, 15)
  const unknown = flags.filter((f) => f !== 'hard' && f !== 'keep')
  if (unknown.length > 0 || new Set(flags).size !== flags.length) {
    throw new TorOptionError(`--reject is CODE[,hard][,keep] (e.g. 2,hard), got ${JSON.stringify(text)}`, {text})
  }
  return {code, hard: flags.includes('hard'), keep: flags.includes('keep')}
}

/**
 * A VSIID as text: a bare UUID (what vdptool and networking-cisco use), or the engine's key form
 * "uuid:…", "mac:…", "ipv4:…", "ipv6:…", "local:<32 hex digits>".
 */
export function parseVsiid(text: unknown): Vsiid {
  if (typeof text !== 'string') throw new TorOptionError(`a VSIID must be text, got ${JSON.stringify(text)}`)
  const t = text.trim()
  if (UUID.test(t)) return {format: 'uuid', uuid: t.toLowerCase()}
  const colon = t.indexOf(':')
  const format = t.slice(0, colon)
  const value = t.slice(colon + 1)
  if (format === 'uuid' && UUID.test(value)) return {format, uuid: value.toLowerCase()}
  if (format === 'mac' && isMacText(value)) return {format, mac: value.toLowerCase()}
  if (format === 'ipv4' && isIPv4(value)) return {format, address: value}
  // as the decoder prints it (RFC 5952), so it compares equal to what the bridge holds
  if (format === 'ipv6' && isIPv6(value)) return {format, address: value.toLowerCase()}
  if (format === 'local' && LOCAL_ID.test(value)) return {format, id: value.toLowerCase()}
  throw new TorOptionError(
    `${JSON.stringify(text)} is not a VSIID (a UUID, or uuid:/mac:/ipv4:/ipv6:/local: followed by one)`,
    {text},
  )
}

/** VSIIDs from one text or a list of them (control-socket parameters). */
export function parseVsiids(value: unknown): Vsiid[] {
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw new TorOptionError('at least one VSIID is needed')
  return list.map(parseVsiid)
}

export function parseGroupId(value: unknown): number {
  return parseInteger('a group ID', value, 1, 0xffffffff)
}

export function parseVid(value: unknown): number {
  return parseInteger('a VLAN ID', value, 2, 4094)
}

/** A whole fault set from JSON (control socket `set-faults`); unknown keys are refused, typos included. */
export function parseFaults(json: unknown): BridgeFaults {
  const o = objectWith(json, 'faults', ['dropAckRate', 'dropResponseRate', 'responseDelayMs', 'reject'])
  const faults: {-readonly [K in keyof BridgeFaults]: BridgeFaults[K]} = {}
  if (o.dropAckRate !== undefined) faults.dropAckRate = parseShare('dropAckRate', o.dropAckRate)
  if (o.dropResponseRate !== undefined) faults.dropResponseRate = parseShare('dropResponseRate', o.dropResponseRate)
  if (o.responseDelayMs !== undefined)
    faults.responseDelayMs = parseInteger('responseDelayMs', o.responseDelayMs, 0, MAX_RESPONSE_DELAY_MS)
  if (o.reject !== undefined && o.reject !== null) faults.reject = parseReject(o.reject)
  return faults
}

function parseReject(json: unknown): RejectFault {
  const o = objectWith(json, 'reject', ['code', 'hard', 'keep', 'rate', 'match'])
  const reject: {-readonly [K in keyof RejectFault]: RejectFault[K]} = {
    code: parseInteger('reject.code', o.code, 1, 15),
  }
  if (o.hard !== undefined) reject.hard = bool('reject.hard', o.hard)
  if (o.keep !== undefined) reject.keep = bool('reject.keep', o.keep)
  if (o.rate !== undefined) reject.rate = parseShare('reject.rate', o.rate)
  if (o.match !== undefined) {
    const m = objectWith(o.match, 'reject.match', ['vsiids', 'typeId', 'groupId', 'modes'])
    reject.match = {
      ...(m.vsiids !== undefined ? {vsiids: parseVsiids(m.vsiids)} : {}),
      ...(m.typeId !== undefined ? {typeId: parseInteger('reject.match.typeId', m.typeId, 0, 0xffffff)} : {}),
      ...(m.groupId !== undefined ? {groupId: parseGroupId(m.groupId)} : {}),
      ...(m.modes !== undefined ? {modes: parseModes(m.modes)} : {}),
    }
  }
  return reject
}

function parseModes(value: unknown): VsiMode[] {
  const list = Array.isArray(value) ? value : [value]
  for (const mode of list) {
    if (!MODES.includes(mode as VsiMode)) {
      throw new TorOptionError(`reject.match.modes takes ${MODES.join(', ')}; got ${JSON.stringify(mode)}`)
    }
  }
  return list as VsiMode[]
}

/** BridgeFaults back to JSON (a function match, possible only in code, shows as "custom"). */
export function faultsToJson(faults: BridgeFaults): FaultsJson {
  const {reject, ...rates} = faults
  if (!reject) return {...rates}
  const {match, ...rest} = reject
  if (match === undefined) return {...rates, reject: rest}
  if (typeof match === 'function') return {...rates, reject: {...rest, match: 'custom'}}
  const {vsiids, ...fields} = match
  return {...rates, reject: {...rest, match: {...fields, ...(vsiids ? {vsiids: vsiids.map(vsiidKey)} : {})}}}
}

function objectWith(json: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TorOptionError(`${what} must be a JSON object, got ${JSON.stringify(json)}`)
  }
  const extra = Object.keys(json).filter((k) => !keys.includes(k))
  if (extra.length > 0)
    throw new TorOptionError(`${what} has unknown keys ${extra.join(', ')} (known: ${keys.join(', ')})`, {extra})
  return json as Record<string, unknown>
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TorOptionError(`${name} must be true or false, got ${JSON.stringify(value)}`)
  return value
}
