import {VdpAgentError} from '../errors.js'
import {type LldpRule, type LldpRuleAction, ruleAction} from './rules.js'
import type {LldpTlv, LldpWarning} from './types.js'

/**
 * The only error the LLDP decoder throws. `rule` names the validation rule (see rules.ts), `offset` is the
 * byte offset in the input (frame or LLDPDU) where the problem was found.
 */
export class LldpDecodeError extends VdpAgentError {
  readonly rule: LldpRule
  readonly offset: number
  readonly action: LldpRuleAction
  /**
   * Lenient mode, 'mandatory-tlv-missing' only: the TLVs that were decoded and the warnings raised, so a
   * diagnostic tool can still show what the frame carried.
   */
  partial?: {tlvs: LldpTlv[]; warnings: readonly LldpWarning[]}

  constructor(rule: LldpRule, offset: number, message: string) {
    super('LLDP_DECODE', `${message} [${rule} at offset ${offset}]`, {rule, offset})
    this.rule = rule
    this.offset = offset
    this.action = ruleAction(rule)
  }
}

/** Raised by the encoder and builder for values that cannot be put on the wire (a 7-octet MAC, a 300-octet name). */
export class LldpEncodeError extends VdpAgentError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('LLDP_ENCODE', message, details)
  }
}
