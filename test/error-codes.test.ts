import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {EXIT_CONFIG} from '../src/config/load.js'
import {ERROR_CODES, EXIT, type ErrorCode, exitCodeFor, isErrorCode} from '../src/error-codes.js'
import {VdpAgentError} from '../src/errors.js'
import {EXIT_NO_PERMISSION} from '../src/net/raw-capability.js'
import {EXIT_STORE_CORRUPT} from '../src/store/store.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')
const codes = Object.keys(ERROR_CODES) as ErrorCode[]

describe('error codes: one closed set, the exit codes derived from it', () => {
  it('gives each code its exit code, and 1 to a code outside the set (a newer daemon)', () => {
    expect(exitCodeFor('CONFIG_INVALID')).toBe(78)
    expect(exitCodeFor('BAD_ARGUMENT')).toBe(2)
    expect(exitCodeFor('INVALID_IFNAME')).toBe(2)
    expect(exitCodeFor('UNKNOWN_PORT')).toBe(2)
    expect(exitCodeFor('DAEMON_UNREACHABLE')).toBe(3)
    expect(exitCodeFor('DAEMON_TIMEOUT')).toBe(3)
    expect(exitCodeFor('DAEMON_ACCESS_DENIED')).toBe(77)
    expect(exitCodeFor('STORE_CORRUPT')).toBe(65)
    expect(exitCodeFor('NO_RAW_SOCKETS')).toBe(77)
    expect(exitCodeFor('VSI_TABLE_FULL')).toBe(1)
    expect(exitCodeFor('SOMETHING_NEW')).toBe(1)
    expect(isErrorCode('SOMETHING_NEW')).toBe(false)
    expect(isErrorCode('toString')).toBe(false)
  })

  it('agrees with the exit-code constants the daemon and config modules name', () => {
    expect(EXIT.config).toBe(EXIT_CONFIG)
    expect(EXIT.dataError).toBe(EXIT_STORE_CORRUPT)
    expect(EXIT.noPermission).toBe(EXIT_NO_PERMISSION)
  })

  it('types VdpAgentError.code by the set: only its codes compile', () => {
    expect(new VdpAgentError('QUEUE_FULL', 'x').code).toBe('QUEUE_FULL')
    // @ts-expect-error: a code outside the set does not compile
    expect(new VdpAgentError('NOT_A_CODE', 'x').code).toBe('NOT_A_CODE')
  })

  it('has a one-line meaning for each code, and codes in UPPER_SNAKE_CASE', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/)
      expect(ERROR_CODES[code].meaning, code).toMatch(/^\S.*\.$/)
      expect(ERROR_CODES[code].meaning, code).not.toContain('\n')
    }
  })

  it('docs/errors.md lists exactly the set, each with its exit code', () => {
    const rows = [...read('docs/errors.md').matchAll(/^\| `([A-Z0-9_]+)` \| (\d+) \|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ])
    expect(rows.map(([code]) => code).sort()).toEqual([...codes].sort())
    for (const [code, exit] of rows) expect(exit, String(code)).toBe(ERROR_CODES[code as ErrorCode].exit)
  })

  it("the README's exit codes are those of the set (plus 0), and docs/errors.md says the same", () => {
    const readme = read('README.md')
    const start = readme.indexOf('Exit codes: ')
    expect(start).toBeGreaterThan(0)
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start))
    const listed = [...paragraph.matchAll(/(?:^Exit codes: |;\s+)(\d+) /g)].map((m) => Number(m[1]))
    const derived = new Set<number>([0, ...codes.map((c) => ERROR_CODES[c].exit)])
    expect(listed.sort((a, b) => a - b)).toEqual([...derived].sort((a, b) => a - b))
    const docs = read('docs/errors.md')
    const docLine = docs.slice(docs.indexOf('Exit codes: '), docs.indexOf('\n\n', docs.indexOf('Exit codes: ')))
    expect(
      [...docLine.matchAll(/(?:^Exit codes: |;\s+)(\d+) /g)].map((m) => Number(m[1])).sort((a, b) => a - b),
    ).toEqual([...derived].sort((a, b) => a - b))
    // what each README code is described as matches the table's groups
    for (const code of codes) {
      const exit = ERROR_CODES[code].exit
      expect(paragraph, `${code} exits ${exit}`).toMatch(new RegExp(`(^Exit codes: |;\\s+)${exit} `))
    }
  })
})
