/**
 * The agent's OpenFlow flows, as values: what they are for (cookies), what should be installed (desired
 * state), the text `ovs-ofctl` reads and prints, and the difference between the two (the audit plan).
 * Pure: no I/O. See docs/dataplane.md.
 */
import {ETHERTYPE_ECP, ETHERTYPE_LLDP} from '../core/ethernet.js'
import {VdpAgentError} from '../errors.js'

/** "vdpa" in ASCII: the upper 32 bits of every cookie of ours, so an audit finds exactly our flows. */
const AGENT_COOKIE_TAG = 0x76647061n
const AGENT_COOKIE_MASK = 0xffffffff00000000n

/** What a flow does; bits 31..24 of the cookie. */
export const FlowKind = {
  /** External bridge: from the patch port, lvid -> the switch's VLAN. */
  outbound: 1,
  /** Integration bridge: from the patch port, the switch's VLAN -> lvid. */
  inbound: 2,
  /** External bridge: the switch's LLDP/ECP frames from the uplink are ours, never a VM's. */
  dropControl: 3,
} as const
export type FlowKind = (typeof FlowKind)[keyof typeof FlowKind]

/** Priorities of the original agent (dfa-agent: 4 outbound, 3 inbound); the drops come first. */
const PRIORITY = {outbound: 4, inbound: 3, dropControl: 100} as const

/** A value that would reach an OVS command and is not what it must be. */
export class DataplaneValueError extends VdpAgentError {
  constructor(what: string, value: unknown, expected: string) {
    super('DATAPLANE_BAD_VALUE', `${what} = ${JSON.stringify(value)}: expected ${expected}`, {what})
  }
}

/** An 802.1Q VID usable on a port: 1..4094 (0 is priority-tagged, 4095 reserved; IEEE 802.1Q 9.6). */
export function checkVlan(what: string, vlan: unknown): number {
  if (typeof vlan !== 'number' || !Number.isInteger(vlan) || vlan < 1 || vlan > 4094)
    throw new DataplaneValueError(what, vlan, 'a VLAN ID from 1 to 4094')
  return vlan
}

/** An OpenFlow port number of a real port (1..0xfeff; OpenFlow 1.0 reserves the rest). */
function checkOfport(what: string, ofport: unknown): number {
  if (typeof ofport !== 'number' || !Number.isInteger(ofport) || ofport < 1 || ofport > 0xfeff)
    throw new DataplaneValueError(what, ofport, 'an OpenFlow port number from 1 to 65279')
  return ofport
}

/** The cookie of one flow: tag, kind, and the lvid (translation) or an index (drops). */
export function cookieOf(kind: FlowKind, index: number): bigint {
  if (!Number.isInteger(index) || index < 0 || index > 0xfff)
    throw new DataplaneValueError('cookie index', index, 'an integer from 0 to 4095')
  return (AGENT_COOKIE_TAG << 32n) | (BigInt(kind) << 24n) | BigInt(index)
}

export function isAgentCookie(cookie: bigint): boolean {
  return (cookie & AGENT_COOKIE_MASK) === AGENT_COOKIE_TAG << 32n
}

const cookieHex = (cookie: bigint) => `0x${cookie.toString(16)}`
/** The match-field filter for `ovs-ofctl dump-flows` / `del-flows`: every flow of ours. */
export const AGENT_COOKIE_FILTER = `cookie=${cookieHex(AGENT_COOKIE_TAG << 32n)}/${cookieHex(AGENT_COOKIE_MASK)}`

export type BridgeRole = 'integration' | 'external'

/** One flow in table 0: `match` and `actions` exactly as `ovs-ofctl dump-flows --no-stats` prints them. */
export interface Flow {
  bridge: BridgeRole
  cookie: bigint
  /** `priority=N,field=value,...` */
  match: string
  actions: string
}

/** A network's translation: Neutron's local VLAN on br-int and the VLAN the switch assigned. */
export interface Translation {
  lvid: number
  vdpVlan: number
}

export interface PatchPorts {
  /** The patch port on the integration bridge (int-br-ethd). */
  integration: number
  /** Its peer on the external bridge (phy-br-ethd). */
  external: number
}

/** The two translation flows of one network (dfa-agent §4.4, with cookies). */
export function translationFlows(t: Translation, patch: PatchPorts): Flow[] {
  const lvid = checkVlan('lvid', t.lvid)
  const vlan = checkVlan('VDP VLAN', t.vdpVlan)
  const ext = checkOfport('external patch port', patch.external)
  const int = checkOfport('integration patch port', patch.integration)
  return [
    {
      bridge: 'external',
      cookie: cookieOf(FlowKind.outbound, lvid),
      match: `priority=${PRIORITY.outbound},in_port=${ext},dl_vlan=${lvid}`,
      actions: `mod_vlan_vid:${vlan},NORMAL`,
    },
    {
      bridge: 'integration',
      cookie: cookieOf(FlowKind.inbound, lvid),
      match: `priority=${PRIORITY.inbound},in_port=${int},dl_vlan=${vlan}`,
      actions: `mod_vlan_vid:${lvid},NORMAL`,
    },
  ]
}

/** The switch's LLDP and ECP frames arriving on the uplink go nowhere in the datapath (the agent taps them). */
export function controlDropFlows(uplinkOfport: number): Flow[] {
  const port = checkOfport('uplink port', uplinkOfport)
  return [ETHERTYPE_LLDP, ETHERTYPE_ECP].map((type, i) => ({
    bridge: 'external' as const,
    cookie: cookieOf(FlowKind.dropControl, i),
    match: `priority=${PRIORITY.dropControl},in_port=${port},dl_type=0x${type.toString(16)}`,
    actions: 'drop',
  }))
}

export interface DesiredInput {
  patch?: PatchPorts
  uplinkOfport?: number
  translations: Iterable<Translation & {network: string}>
}

export interface DesiredFlows {
  flows: Flow[]
  /** Networks whose flows could not be built (a bad value): reported, the others still programmed. */
  errors: {network: string; reason: string}[]
}

/** Everything that should be installed. One bad network never keeps the others out. */
export function desiredFlows(input: DesiredInput): DesiredFlows {
  const flows: Flow[] = []
  const errors: DesiredFlows['errors'] = []
  if (input.uplinkOfport !== undefined) flows.push(...controlDropFlows(input.uplinkOfport))
  const seenLvid = new Map<number, string>()
  for (const t of input.translations) {
    if (!input.patch) break
    try {
      const other = seenLvid.get(t.lvid)
      if (other !== undefined)
        throw new DataplaneValueError('lvid', t.lvid, `a local VLAN of one network (also used by ${other})`)
      flows.push(...translationFlows(t, input.patch))
      seenLvid.set(t.lvid, t.network)
    } catch (err) {
      errors.push({network: t.network, reason: (err as Error).message})
    }
  }
  return {flows, errors}
}

/** One line for `ovs-ofctl add-flows` (file format, with a command word). */
export function addLine(f: Flow): string {
  return `add cookie=${cookieHex(f.cookie)},table=0,${f.match},actions=${f.actions}`
}

/** Deletes exactly this flow of ours (strict: same priority and match, and our cookie). */
export function deleteLine(f: Pick<Flow, 'cookie' | 'match'>): string {
  return `delete_strict cookie=${cookieHex(f.cookie)}/-1,table=0,${f.match}`
}

const DUMP_LINE = /^\s*cookie=(0x[0-9a-f]+),\s*(?:table=(\d+),\s*)?(priority=\d+\S*)\s+actions=(\S+)\s*$/

/** Parses `ovs-ofctl --no-stats --no-names dump-flows` output; lines that are not flows are skipped. */
export function parseDumpFlows(bridge: BridgeRole, text: string): Flow[] {
  const flows: Flow[] = []
  for (const line of text.split('\n')) {
    const m = DUMP_LINE.exec(line)
    if (!m || (m[2] !== undefined && m[2] !== '0')) continue
    flows.push({bridge, cookie: BigInt(m[1]), match: m[3], actions: m[4]})
  }
  return flows
}

export interface AuditPlan {
  add: Flow[]
  /** Installed flows of ours that nothing wants (stale), by strict match. */
  remove: Flow[]
  /** Installed and as desired. */
  ok: number
}

const flowKey = (f: Flow) => `${f.bridge} ${cookieHex(f.cookie)} ${f.match}`

/** What to add and delete so that our installed flows (by cookie) equal the desired ones. */
export function planAudit(desired: readonly Flow[], installed: readonly Flow[]): AuditPlan {
  const have = new Map<string, Flow[]>()
  for (const f of installed) {
    if (!isAgentCookie(f.cookie)) continue
    const key = flowKey(f)
    have.set(key, [...(have.get(key) ?? []), f])
  }
  const plan: AuditPlan = {add: [], remove: [], ok: 0}
  const wanted = new Set<string>()
  for (const f of desired) {
    const key = flowKey(f)
    wanted.add(key)
    const same = have.get(key)
    if (same?.length === 1 && same[0].actions === f.actions) plan.ok++
    else plan.add.push(f) // `add` replaces a flow with the same match and priority
  }
  for (const [key, flows] of have) if (!wanted.has(key)) plan.remove.push(...flows)
  return plan
}

/** One-line text of a flow, for `vdp-agent flows` and logs. */
export function flowText(f: Flow): string {
  return `cookie=${cookieHex(f.cookie)} ${f.match} actions=${f.actions}`
}
