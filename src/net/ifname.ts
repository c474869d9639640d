import {VdpAgentError} from '../errors.js'

/** The kernel's IFNAMSIZ is 16 bytes including the terminating NUL. */
const IFNAME_MAX_BYTES = 15

export class InvalidInterfaceNameError extends VdpAgentError {
  constructor(name: unknown, reason: string) {
    super('INVALID_IFNAME', `invalid interface name ${JSON.stringify(name)}: ${reason}`, {name, reason})
  }
}

/**
 * Why `name` is not an acceptable interface name, or undefined when it is.
 *
 * The rules are the kernel's `dev_valid_name()` (net/core/dev.c): 1–15 bytes, not "." or "..", no '/', ':'
 * or whitespace, where whitespace is the kernel's `isspace()`, which also counts the byte 0xA0. On top of
 * that, because these names reach argv arrays and sysfs paths:
 * - control characters (C0, DEL, C1) and lone UTF-16 surrogates are refused;
 * - '%' is refused: the kernel reads it as a name template ("eth%d"), so no existing link can have one
 *   and `ip link add` would create a different name than asked for;
 * - a leading '-' is refused: a tool could read the name as an option.
 */
export function ifNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string'
  if (name.length === 0) return 'empty'
  if (name === '.' || name === '..') return 'reserved name'
  // in /u mode a surrogate pair is one code point outside this range, so only lone halves match
  if (/[\uD800-\uDFFF]/u.test(name)) return 'contains a lone UTF-16 surrogate'
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.length > IFNAME_MAX_BYTES) return `longer than ${IFNAME_MAX_BYTES} bytes (${bytes.length})`
  for (const ch of name) {
    const cp = ch.codePointAt(0)!
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'contains a control character'
    if (ch === '/' || ch === ':') return `contains '${ch}'`
    if (ch === ' ') return 'contains whitespace'
    if (ch === '%') return "contains '%' (the kernel reads it as a name template)"
  }
  if (bytes.includes(0xa0)) return 'contains the byte 0xA0 (whitespace to the kernel)'
  if (name.startsWith('-')) return "starts with '-' (would read as a command-line option)"
  return undefined
}

/** Returns `name` unchanged when it is a valid interface name; throws InvalidInterfaceNameError otherwise. */
export function validateIfName(name: string): string {
  const problem = ifNameProblem(name)
  if (problem !== undefined) throw new InvalidInterfaceNameError(name, problem)
  return name
}

export function isValidIfName(name: unknown): name is string {
  return ifNameProblem(name) === undefined
}
