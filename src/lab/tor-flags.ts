/**
 * The fault flags shared by `vdp-agent lab tor` (faults from the start) and `vdp-agent lab tor-ctl set-faults`
 * (faults changed at run time), and their translation into BridgeFaults. Values are checked by tor-options.ts,
 * so a bad value fails with BAD_ARGUMENT (exit 2) and a message naming the flag.
 */
import {Flags} from '@oclif/core'
import {
  MAX_RESPONSE_DELAY_MS,
  parseGroupId,
  parseInteger,
  parseRejectSpec,
  parseShare,
  parseVsiid,
} from './tor-options.js'
import type {BridgeFaults, RejectFault} from './vdp-bridge.js'

const FAULTS = 'FAULTS'

export const torFaultFlags = {
  'drop-acks': Flags.string({
    summary: 'Share (0–1) of ECP ACKs not sent, so the station retransmits (0.1 = one in ten).',
    helpGroup: FAULTS,
  }),
  'drop-responses': Flags.string({
    summary: 'Share (0–1) of VDP responses not sent; the request still takes effect, the station times out.',
    helpGroup: FAULTS,
  }),
  'delay-ms': Flags.string({
    summary: `Send VDP responses this many milliseconds late (0–${MAX_RESPONSE_DELAY_MS}).`,
    helpGroup: FAULTS,
  }),
  reject: Flags.string({
    summary:
      'Answer requests with an error: CODE[,hard][,keep]. 1 invalid format, 2 insufficient resources, ' +
      '3 VSI manager unreachable, 4 other failure, 5 invalid VID/group/MAC; 6–15 reserved.',
    helpGroup: FAULTS,
  }),
  'reject-vsiid': Flags.string({
    summary: 'Reject only this VSI (a UUID, or uuid:/mac:/… key); repeat for several.',
    multiple: true,
    dependsOn: ['reject'],
    helpGroup: FAULTS,
  }),
  'reject-group': Flags.string({
    summary: 'Reject only VSIs with a filter entry of this group ID.',
    dependsOn: ['reject'],
    helpGroup: FAULTS,
  }),
  'reject-type-id': Flags.string({
    summary: 'Reject only VSIs of this VSI type ID.',
    dependsOn: ['reject'],
    helpGroup: FAULTS,
  }),
  'reject-rate': Flags.string({
    summary: 'Share (0–1) of matching requests rejected; default 1.',
    dependsOn: ['reject'],
    helpGroup: FAULTS,
  }),
}

export interface TorFaultFlagValues {
  'drop-acks'?: string
  'drop-responses'?: string
  'delay-ms'?: string
  reject?: string
  'reject-vsiid'?: string[]
  'reject-group'?: string
  'reject-type-id'?: string
  'reject-rate'?: string
}

/** The fault set the flags describe; {} when none is given. */
export function faultsFromFlags(flags: TorFaultFlagValues): BridgeFaults {
  const faults: {-readonly [K in keyof BridgeFaults]: BridgeFaults[K]} = {}
  if (flags['drop-acks'] !== undefined) faults.dropAckRate = parseShare('--drop-acks', flags['drop-acks'])
  if (flags['drop-responses'] !== undefined)
    faults.dropResponseRate = parseShare('--drop-responses', flags['drop-responses'])
  if (flags['delay-ms'] !== undefined)
    faults.responseDelayMs = parseInteger('--delay-ms', flags['delay-ms'], 0, MAX_RESPONSE_DELAY_MS)
  if (flags.reject !== undefined) faults.reject = rejectFromFlags(flags.reject, flags)
  return faults
}

function rejectFromFlags(spec: string, flags: TorFaultFlagValues): RejectFault {
  const {code, hard, keep} = parseRejectSpec(spec)
  const match = {
    ...(flags['reject-vsiid'] ? {vsiids: flags['reject-vsiid'].map(parseVsiid)} : {}),
    ...(flags['reject-group'] !== undefined ? {groupId: parseGroupId(flags['reject-group'])} : {}),
    ...(flags['reject-type-id'] !== undefined
      ? {typeId: parseInteger('--reject-type-id', flags['reject-type-id'], 0, 0xffffff)}
      : {}),
  }
  return {
    code,
    hard,
    keep,
    ...(Object.keys(match).length > 0 ? {match} : {}),
    ...(flags['reject-rate'] !== undefined ? {rate: parseShare('--reject-rate', flags['reject-rate'])} : {}),
  }
}

/** Whether any fault flag was given (tor-ctl set-faults refuses an empty set unless --clear says so). */
export function hasFaultFlags(flags: TorFaultFlagValues): boolean {
  return Object.keys(torFaultFlags).some((name) => flags[name as keyof TorFaultFlagValues] !== undefined)
}
