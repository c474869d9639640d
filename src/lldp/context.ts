import {LldpDecodeError} from './errors.js'
import {ruleAction, type LldpRule} from './rules.js'
import type {LldpWarning, MalformedTlv} from './types.js'

/** Shared by every frame without warnings (most of them): decoding allocates no array for them. */
const NO_WARNINGS: readonly LldpWarning[] = Object.freeze([])

/**
 * Collects rule violations while decoding. In strict mode any violation whose action is not 'note' throws at
 * once; in lenient mode it becomes a warning and decoding goes on.
 */
export class DecodeContext {
  warnings: readonly LldpWarning[] = NO_WARNINGS
  discardRequired = false

  constructor(public strict: boolean) {}

  /** Reuse for the next frame: the decoder is synchronous, so one context serves all calls. */
  reset(strict: boolean): this {
    this.strict = strict
    this.warnings = NO_WARNINGS
    this.discardRequired = false
    return this
  }

  report(rule: LldpRule, offset: number, message: string): void {
    const action = ruleAction(rule)
    if (action !== 'note') {
      if (this.strict) throw new LldpDecodeError(rule, offset, message)
      if (action === 'discard-lldpdu') this.discardRequired = true
    }
    const warning = {rule, action, offset, message}
    // A fresh array per frame (reset() drops the reference, so the previous frame's array is never touched).
    if (this.warnings === NO_WARNINGS) this.warnings = [warning]
    else (this.warnings as LldpWarning[]).push(warning)
  }

  /** Report the rule and keep the TLV's octets as a MalformedTlv (lenient mode). */
  malformed(
    rule: LldpRule,
    tlvOffset: number,
    type: number,
    declaredLength: number,
    data: Buffer,
    reason: string,
  ): MalformedTlv {
    this.report(rule, tlvOffset, reason)
    return {kind: 'malformed', type, declaredLength, data, rule, reason}
  }
}
