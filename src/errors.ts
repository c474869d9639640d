import type {ErrorCode} from './error-codes.js'

/**
 * Every error vdp-agent raises on purpose is a VdpAgentError: a stable machine-readable `code` from the
 * closed set in src/error-codes.ts (documented in docs/errors.md, with the exit code it gives) plus a message
 * written for an operator. Callers branch on `code`, never on message text.
 */
export class VdpAgentError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown>

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.details = details
  }

  toJSON(): {code: ErrorCode; message: string; details: Record<string, unknown>} {
    return {code: this.code, message: this.message, details: this.details}
  }
}

/** Narrow an unknown thrown value to a message, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
