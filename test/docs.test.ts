/**
 * Citations stay inside the repository: comments, test names and docs cite the standards' clauses or our own
 * docs/, never a note that a reader of this repository cannot open, and every docs/ section they cite exists.
 */
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const SCANNED_DIRS = ['src', 'native', 'test', 'bench', 'commands', 'docs', 'scripts', 'packaging']
const SCANNED_FILES = ['README.md', 'CONTRIBUTING.md']
const THIS_FILE = relative(root, fileURLToPath(import.meta.url))

/** Research notes that were never part of the repository (their facts now live in docs/, in our words). */
const ABSENT_NOTES =
  /\b(?:protocol|dfa-agent-study|lab-recipes|npm-stack|code-review|oslo-messaging-wire)(?:\.md\b|\s+§)|shared\/docs\b/

interface TextFile {
  path: string
  lines: string[]
}

/** The text files under `path` (a file or a folder), skipping captures and other binary files. */
function textFiles(path: string): TextFile[] {
  const full = join(root, path)
  if (!existsSync(full)) return []
  if (statSync(full).isDirectory()) {
    return readdirSync(full).flatMap((name) =>
      name === 'node_modules' || name === 'build' ? [] : textFiles(join(path, name)),
    )
  }
  const bytes = readFileSync(full)
  if (bytes.length > 2_000_000 || bytes.includes(0)) return []
  return [{path, lines: bytes.toString('utf8').split('\n')}]
}

const files = [...SCANNED_DIRS, ...SCANNED_FILES].flatMap((p) => textFiles(p)).filter((f) => f.path !== THIS_FILE)

function headings(doc: string): string[] {
  return readFileSync(join(root, doc), 'utf8')
    .split('\n')
    .filter((l) => /^#{1,6} /.test(l))
    .map((l) => l.replace(/^#+ /, '').trim())
}

describe('citations stay inside the repository', () => {
  it('scans the source, test, docs and packaging trees', () => {
    expect(files.some((f) => f.path === join('src', 'vdp', 'ecp-codec.ts'))).toBe(true)
    expect(files.some((f) => f.path === join('docs', 'wire-notes.md'))).toBe(true)
  })

  it('cites no document that is not in the repository', () => {
    const hits = files.flatMap((f) =>
      f.lines.flatMap((line, i) => (ABSENT_NOTES.test(line) ? [`${f.path}:${i + 1}: ${line.trim()}`] : [])),
    )
    expect(hits).toEqual([])
  })

  it('every docs/X.md cited exists', () => {
    const missing = files.flatMap((f) =>
      f.lines.flatMap((line, i) =>
        [...line.matchAll(/\bdocs\/([\w-]+\.md)\b/g)]
          .filter((m) => !existsSync(join(root, 'docs', m[1])))
          .map((m) => `${f.path}:${i + 1}: docs/${m[1]}`),
      ),
    )
    expect(missing).toEqual([])
  })

  it('every section of docs/wire-notes.md cited by "§Heading" exists', () => {
    const sections = headings('docs/wire-notes.md').sort((a, b) => b.length - a.length)
    let cited = 0
    const broken = files.flatMap((f) =>
      f.lines.flatMap((line, i) => {
        const at = line.indexOf('wire-notes')
        if (at < 0) return []
        return line
          .slice(at)
          .split('§')
          .slice(1)
          .filter((after) => {
            cited++
            return !sections.some((s) => after.startsWith(s))
          })
          .map((after) => `${f.path}:${i + 1}: §${after.slice(0, 40)}`)
      }),
    )
    expect(broken).toEqual([])
    expect(cited).toBeGreaterThan(40)
  })

  it('every docs section cited by its quoted heading exists', () => {
    const broken = files.flatMap((f) =>
      f.lines.flatMap((line, i) =>
        [...line.matchAll(/\bdocs\/([\w-]+\.md),? "([^"]+)"/g)]
          .filter(
            (m) => existsSync(join(root, 'docs', m[1])) && !headings(join('docs', m[1])).some((h) => h.includes(m[2])),
          )
          .map((m) => `${f.path}:${i + 1}: docs/${m[1]} "${m[2]}"`),
      ),
    )
    expect(broken).toEqual([])
  })
})
