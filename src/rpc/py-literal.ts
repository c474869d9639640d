import {VdpAgentError} from '../errors.js'

/**
 * A safe parser for the Python literal text the DFA server sends (`str(dict)` / `str(list)`, Python 2 or 3):
 * dicts, lists, tuples, strings in either quote style with `u`/`r`/`b` prefixes and backslash escapes,
 * adjacent-string concatenation, ints (optionally with Python 2's `L` suffix, hex/octal/binary), floats,
 * `True`/`False`/`None`. Nothing is evaluated: any other token (a name, a call, an operator) is an error.
 * This replaces the upstream agent's `eval()` of these payloads (a remote-code-execution hole).
 *
 * Output: dicts become plain objects (keys are strings; int keys are converted), lists and tuples arrays.
 * Keys are defined as own properties, so `__proto__` in the input cannot touch a prototype.
 */
export class PyLiteralError extends VdpAgentError {
  constructor(message: string, offset: number) {
    super('PY_LITERAL', `not a Python literal: ${message} at offset ${offset}`, {offset})
  }
}

export type PyValue = null | boolean | number | string | PyValue[] | {[key: string]: PyValue}

export interface PyLiteralLimits {
  /** Most characters accepted (default 16 MiB). */
  maxLength?: number
  /** Deepest nesting of containers (default 32). */
  maxDepth?: number
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
}

class Parser {
  private pos = 0

  constructor(
    private readonly src: string,
    private readonly maxDepth: number,
  ) {}

  parseDocument(): PyValue {
    const value = this.value(0)
    this.skipSpace()
    if (this.pos !== this.src.length) this.fail('unexpected text after the value')
    return value
  }

  private fail(message: string): never {
    throw new PyLiteralError(message, this.pos)
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /[ \t\r\n]/.test(this.src[this.pos])) this.pos++
  }

  private value(depth: number): PyValue {
    this.skipSpace()
    const c = this.src[this.pos]
    if (c === undefined) this.fail('unexpected end of text')
    if (c === '{' || c === '[' || c === '(') {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`)
      return c === '{' ? this.dict(depth + 1) : this.sequence(c === '[' ? ']' : ')', depth + 1)
    }
    if (c === "'" || c === '"') return this.strings()
    if (/[uUrRbB]/.test(c) && /['"]/.test(this.src[this.pos + 1] ?? '')) return this.strings()
    if (/[uUbB]/.test(c) && /[rR]/.test(this.src[this.pos + 1] ?? '') && /['"]/.test(this.src[this.pos + 2] ?? ''))
      return this.strings()
    if (/[-+0-9.]/.test(c)) return this.number()
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos, this.pos + 64))?.[0]
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length
      return word === 'True' ? true : word === 'False' ? false : null
    }
    this.fail(word ? `the name ${JSON.stringify(word)} is not a literal` : `unexpected character ${JSON.stringify(c)}`)
  }

  private dict(depth: number): {[key: string]: PyValue} {
    this.pos++ // {
    const out: {[key: string]: PyValue} = {}
    for (;;) {
      this.skipSpace()
      if (this.src[this.pos] === '}') {
        this.pos++
        return out
      }
      const keyAt = this.pos
      const key = this.value(depth)
      if (typeof key !== 'string' && typeof key !== 'number')
        throw new PyLiteralError('a dict key must be a string or a number', keyAt)
      this.skipSpace()
      if (this.src[this.pos] !== ':') this.fail("expected ':' after a dict key")
      this.pos++
      const value = this.value(depth)
      Object.defineProperty(out, String(key), {value, enumerable: true, writable: true, configurable: true})
      this.skipSpace()
      if (this.src[this.pos] === ',') this.pos++
      else if (this.src[this.pos] !== '}') this.fail("expected ',' or '}' in a dict")
    }
  }

  private sequence(close: ']' | ')', depth: number): PyValue[] {
    this.pos++
    const out: PyValue[] = []
    for (;;) {
      this.skipSpace()
      if (this.src[this.pos] === close) {
        this.pos++
        return out
      }
      out.push(this.value(depth))
      this.skipSpace()
      if (this.src[this.pos] === ',') this.pos++
      else if (this.src[this.pos] !== close) this.fail(`expected ',' or '${close}'`)
    }
  }

  /** One or more adjacent string literals ('a' 'b' is 'ab' in Python). */
  private strings(): string {
    let text = this.string()
    for (;;) {
      const save = this.pos
      this.skipSpace()
      const c = this.src[this.pos]
      if (c === "'" || c === '"' || (/[uUrRbB]/.test(c ?? '') && /['"rR]/.test(this.src[this.pos + 1] ?? ''))) {
        text += this.string()
      } else {
        this.pos = save
        return text
      }
    }
  }

  private string(): string {
    let raw = false
    while (/[uUrRbB]/.test(this.src[this.pos])) {
      if (/[rR]/.test(this.src[this.pos])) raw = true
      this.pos++
    }
    const quote = this.src[this.pos]
    if (quote !== "'" && quote !== '"') this.fail('expected a quote')
    const triple = this.src.startsWith(quote.repeat(3), this.pos)
    this.pos += triple ? 3 : 1
    let out = ''
    for (;;) {
      const c = this.src[this.pos]
      if (c === undefined) this.fail('unterminated string')
      if (triple ? this.src.startsWith(quote.repeat(3), this.pos) : c === quote) {
        this.pos += triple ? 3 : 1
        return out
      }
      if (!triple && c === '\n') this.fail('newline in a string')
      if (c === '\\') {
        out += raw ? this.rawEscape() : this.escape()
        continue
      }
      out += c
      this.pos++
    }
  }

  private rawEscape(): string {
    const next = this.src[this.pos + 1]
    if (next === undefined) this.fail('unterminated string')
    this.pos += 2
    return `\\${next}`
  }

  private escape(): string {
    const e = this.src[this.pos + 1]
    if (e === undefined) this.fail('unterminated string')
    if (e === '\n') {
      this.pos += 2
      return ''
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
    if (hexLen > 0) {
      const hex = this.src.slice(this.pos + 2, this.pos + 2 + hexLen)
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) this.fail(`bad \\${e} escape`)
      const code = Number.parseInt(hex, 16)
      if (code > 0x10ffff) this.fail('code point out of range')
      this.pos += 2 + hexLen
      return String.fromCodePoint(code)
    }
    const octal = /^[0-7]{1,3}/.exec(this.src.slice(this.pos + 1, this.pos + 4))?.[0]
    if (octal) {
      this.pos += 1 + octal.length
      return String.fromCodePoint(Number.parseInt(octal, 8))
    }
    this.pos += 2
    // An unknown escape keeps its backslash, as Python does.
    return ESCAPES[e] ?? `\\${e}`
  }

  private number(): number {
    const m =
      /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?)[lL]?/.exec(
        this.src.slice(this.pos, this.pos + 400),
      )
    if (!m) this.fail('bad number')
    this.pos += m[0].length
    let text = m[0].replace(/_/g, '').replace(/[lL]$/, '')
    const negative = text.startsWith('-')
    if (/^[-+]/.test(text)) text = text.slice(1)
    let n: number
    if (/^0[xXoObB]/.test(text)) n = Number(text.toLowerCase())
    else if (/^0\d+$/.test(text) && !/^0+$/.test(text))
      n = Number.parseInt(text, 8) // Python 2 octal
    else n = Number(text)
    if (!Number.isFinite(n)) this.fail('number out of range')
    if (Number.isInteger(n) && !/[.eE]/.test(text) && !Number.isSafeInteger(n)) this.fail('integer beyond 2^53')
    return negative ? -n : n
  }
}

/** Parse Python literal text (see the class comment). Throws PyLiteralError, never evaluates anything. */
export function parsePyLiteral(text: string, limits: PyLiteralLimits = {}): PyValue {
  const maxLength = limits.maxLength ?? 16 * 1024 * 1024
  if (text.length > maxLength) throw new PyLiteralError(`longer than ${maxLength} characters`, 0)
  return new Parser(text, limits.maxDepth ?? 32).parseDocument()
}

/**
 * A server payload: JSON when it parses as JSON (agent-side tools and newer servers), otherwise a Python
 * literal (`str(dict)` of the upstream server).
 */
export function parsePayload(text: string, limits: PyLiteralLimits = {}): PyValue {
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return parsePyLiteral(trimmed, limits) // JSON's true/false/null are not Python: try Python first
    } catch (pyErr) {
      try {
        if (text.length > (limits.maxLength ?? 16 * 1024 * 1024)) throw pyErr
        return JSON.parse(trimmed) as PyValue
      } catch {
        throw pyErr
      }
    }
  }
  return parsePyLiteral(trimmed, limits)
}
