import {LldpDecodeError} from './errors.js'
import {ruleAction, type LldpRule} from './rules.js'
import type {LldpWarning, MalformedTlv} from './types.js'

/**
 * Collects rule violations while decoding. In strict mode any violation whose action is not 'note' throws at
 * once; in lenient mode it becomes a warning and decoding goes on.
 */
export class DecodeContext {
  readonly warnings: LldpWarning[] = []
  discardRequired = false

  constructor(readonly strict: boolean) {}

  report(rule: LldpRule, offset: number, message: string): void {
    const action = ruleAction(rule)
    if (action !== 'note') {
      if (this.strict) throw new LldpDecodeError(rule, offset, message)
      if (action === 'discard-lldpdu') this.discardRequired = true
    }
    this.warnings.push({rule, action, offset, message})
  }

  /** Report the rule and keep the TLV's octets as a MalformedTlv (lenient mode). */
  malformed(rule: LldpRule, tlvOffset: number, type: number, declaredLength: number, data: Buffer, reason: string): MalformedTlv {
    this.report(rule, tlvOffset, reason)
    return {kind: 'malformed', type, declaredLength, data, rule, reason}
  }
}
