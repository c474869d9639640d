/**
 * What a caller asks the station to do for one VSI, and the checks a request must pass before anything is
 * sent. The checks follow what lldpad refuses (docs/wire-notes.md §Filter info) so a request we accept is one
 * a bridge will not reject as malformed.
 */
import {CISCO_MAX_VM_NAME} from './cisco-oui.js'
import {VdpEncodeError, VdpStationError} from './errors.js'
import {isUsableUnicastMac} from '../core/ethernet.js'
import {MANAGER_ID_LENGTH, managerIdText, NULL_MANAGER_ID} from './manager-id.js'
import {encodeTlv, type VdpOrgTlv, type VsiMode, type VsiTlv} from './vdp-codec.js'
import {hasGroup, hasMac, type FilterEntry, type VsiFilter} from './vsi-filter.js'
import type {VsiStatus} from './vsi-status.js'
import {vsiidKey, writeVsiid, type Vsiid} from './vsiid.js'

export interface VsiRequest {
  /** 16 octets (see manager-id.ts); default all zero, vdptool's mgrid2=0. */
  readonly managerId?: Buffer
  /** VSI Type ID (port profile), 0–16777215. */
  readonly typeId: number
  readonly typeVersion: number
  readonly vsiid: Vsiid
  /** VID 0 in an entry asks the bridge to assign the VLAN. */
  readonly filter: VsiFilter
  /** Migration hints (status M/S bits); networking-cisco always sends none. */
  readonly hints?: {readonly migratingTo?: boolean; readonly migratingFrom?: boolean}
  /** Organisational TLVs sent after the VSI TLV, e.g. `ciscoTlvs(...)`. */
  readonly org?: readonly VdpOrgTlv[]
}

/** A validated request with the derived values the station keys and compares by. */
export interface NormalizedRequest {
  readonly key: string
  readonly managerId: Buffer
  readonly managerKey: string
  readonly typeId: number
  readonly typeVersion: number
  readonly vsiid: Vsiid
  readonly filter: VsiFilter
  readonly status: VsiStatus
  readonly org: readonly VdpOrgTlv[]
  /** Encoded org TLVs, sent after every VSI TLV of this VSI (keep-alives and De-Associate too, as lldpad). */
  readonly orgBytes: Buffer
}

export function normalizeRequest(request: VsiRequest): NormalizedRequest {
  const managerId = request.managerId ?? NULL_MANAGER_ID
  if (!Buffer.isBuffer(managerId) || managerId.length !== MANAGER_ID_LENGTH) {
    reject('the manager ID must be 16 octets (see managerIdFromText)')
  }
  if (!Number.isInteger(request.typeId) || request.typeId < 0 || request.typeId > 0xffffff) {
    reject(`type ID must be 0–16777215, got ${request.typeId}`)
  }
  if (!Number.isInteger(request.typeVersion) || request.typeVersion < 0 || request.typeVersion > 0xff) {
    reject(`type version must be 0–255, got ${request.typeVersion}`)
  }
  checkVsiid(request.vsiid)
  const filter = checkFilter(request.filter)
  const migratingTo = request.hints?.migratingTo ?? false
  const migratingFrom = request.hints?.migratingFrom ?? false
  if (migratingTo && migratingFrom) reject('a VSI cannot be migrating both to and from this port')
  const org = [...(request.org ?? [])]
  for (const tlv of org) {
    if (tlv.kind === 'cisco-vm-name' && Buffer.byteLength(tlv.vmName, 'latin1') > CISCO_MAX_VM_NAME) {
      reject(`VM name longer than ${CISCO_MAX_VM_NAME} characters (lldpad's limit)`)
    }
  }
  let orgBytes: Buffer
  try {
    orgBytes = Buffer.concat(org.map(encodeTlv))
  } catch (error) {
    reject(`organisational TLV: ${(error as Error).message}`)
  }
  return {
    key: vsiidKey(request.vsiid),
    managerId: Buffer.from(managerId),
    managerKey: managerId.toString('hex'),
    typeId: request.typeId,
    typeVersion: request.typeVersion,
    vsiid: request.vsiid,
    filter,
    status: {kind: 'request', migratingTo, migratingFrom, reason: 0},
    org,
    orgBytes,
  }
}

/** The VSI TLV for `mode` carrying `filter` (requested or assigned VIDs). */
export function requestTlv(request: NormalizedRequest, mode: VsiMode, filter: VsiFilter): VsiTlv {
  return {
    kind: 'vsi',
    mode,
    status: request.status,
    typeId: request.typeId,
    typeVersion: request.typeVersion,
    vsiid: request.vsiid,
    filter,
  }
}

/** Same VSI as far as the bridge is concerned: manager, type, VSIID, filter layout, MACs and group IDs. */
export function sameIdentity(a: NormalizedRequest, b: NormalizedRequest): boolean {
  return (
    a.managerKey === b.managerKey &&
    a.typeId === b.typeId &&
    a.typeVersion === b.typeVersion &&
    a.key === b.key &&
    sameFilterLayout(a.filter, b.filter)
  )
}

export function sameFilterLayout(a: VsiFilter, b: VsiFilter): boolean {
  return (
    a.format === b.format &&
    a.entries.length === b.entries.length &&
    a.entries.every((e, i) => e.mac === b.entries[i].mac && e.groupId === b.entries[i].groupId)
  )
}

/**
 * Does a requested filter ask for nothing beyond what `current` has? VID 0 in the request is a wildcard (it
 * asked the bridge to choose); a non-zero VID, and PCP when PS is set, must equal the current value.
 */
export function filterSatisfies(requested: VsiFilter, current: VsiFilter): boolean {
  return (
    sameFilterLayout(requested, current) &&
    requested.entries.every((want, i) => {
      const have = current.entries[i]
      if (want.vid !== 0 && want.vid !== have.vid) return false
      return !want.ps || (have.ps && want.pcp === have.pcp)
    })
  )
}

export function describeRequest(request: NormalizedRequest): string {
  return `VSI ${request.key} (manager ${managerIdText(request.managerId)}, type ${request.typeId} v${request.typeVersion})`
}

function checkVsiid(vsiid: Vsiid): void {
  const octets = Buffer.alloc(16)
  try {
    writeVsiid(vsiid, octets, 0)
  } catch (error) {
    reject((error as VdpEncodeError).message)
  }
  // lldpad refuses an all-zero UUID or IPv6 VSIID (check_vsiid).
  if ((vsiid.format === 'uuid' || vsiid.format === 'ipv6') && octets.every((b) => b === 0)) {
    reject(`an all-zero ${vsiid.format} VSIID is not a VSI`)
  }
}

function checkFilter(filter: VsiFilter): VsiFilter {
  const {format, entries} = filter
  if (![1, 2, 3, 4].includes(format)) reject(`filter format must be 1–4, got ${format}`)
  if (entries.length < 1) reject('a filter needs at least one entry')
  if (format === 1 && entries.length > 1 && entries.some((e) => e.vid === 0)) {
    reject('with filter format 1 (VID only), VID 0 is allowed only in a single-entry filter')
  }
  return {format, entries: entries.map((e) => checkEntry(format, e))}
}

function checkEntry(format: VsiFilter['format'], e: FilterEntry): FilterEntry {
  if (!Number.isInteger(e.vid) || e.vid < 0 || e.vid > 4094 || e.vid === 1) {
    reject(`VID must be 0 (bridge assigns) or 2–4094, got ${e.vid}`)
  }
  if (!Number.isInteger(e.pcp) || e.pcp < 0 || e.pcp > 7) reject(`PCP must be 0–7, got ${e.pcp}`)
  const out: {ps: boolean; pcp: number; vid: number; mac?: string; groupId?: number} = {
    ps: e.ps,
    pcp: e.pcp,
    vid: e.vid,
  }
  if (hasGroup(format)) {
    const g = e.groupId
    if (g === undefined || !Number.isInteger(g) || g < 1 || g > 0xffffffff) {
      reject(`filter format ${format} needs a non-zero 32-bit group ID, got ${g}`)
    }
    out.groupId = g
  } else if (e.groupId !== undefined) reject(`filter format ${format} has no group ID`)
  if (hasMac(format)) {
    if (e.mac === undefined || !isUsableUnicastMac(e.mac))
      reject(`filter format ${format} needs a unicast MAC, got ${e.mac}`)
    out.mac = e.mac.toLowerCase()
  } else if (e.mac !== undefined) reject(`filter format ${format} has no MAC`)
  return out
}

function reject(message: string): never {
  throw new VdpStationError('VSI_INVALID_REQUEST', message)
}
