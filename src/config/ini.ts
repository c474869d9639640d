/**
 * A small INI reader that keeps line numbers, so every config error can point at `file:line`.
 * Syntax: `[section]`, `key = value`, whole-line comments starting with `;` or `#`, and inline comments
 * introduced by whitespace followed by `;` or `#` (so values such as `amqp://h/#x` survive).
 */
interface IniEntry {
  section: string
  key: string
  value: string
  line: number
}

interface IniSyntaxProblem {
  line: number
  text: string
  expected: string
}

export interface IniDocument {
  entries: IniEntry[]
  /** Sections in order of first appearance, each with the line where it was declared. */
  sections: Map<string, number>
  problems: IniSyntaxProblem[]
}

const SECTION = /^\[([A-Za-z0-9_.-]+)\]$/
const KEY = /^[A-Za-z0-9_.-]+$/

function stripInlineComment(value: string): string {
  const match = /\s[;#]/.exec(value)
  return (match ? value.slice(0, match.index) : value).trim()
}

export function parseIni(text: string): IniDocument {
  const entries: IniEntry[] = []
  const sections = new Map<string, number>()
  const problems: IniSyntaxProblem[] = []
  let section: string | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1
    const raw = lines[i].trim()
    if (raw === '' || raw.startsWith(';') || raw.startsWith('#')) continue
    if (raw.startsWith('[')) {
      const m = SECTION.exec(stripInlineComment(raw))
      if (!m) {
        problems.push({line, text: raw, expected: 'a section header such as [general]'})
        continue
      }
      section = m[1]
      if (!sections.has(section)) sections.set(section, line)
      continue
    }
    const eq = raw.indexOf('=')
    if (eq < 0) {
      problems.push({line, text: raw, expected: '`key = value`, a [section] header or a comment'})
      continue
    }
    const key = raw.slice(0, eq).trim()
    if (!KEY.test(key)) {
      problems.push({line, text: raw, expected: 'a key made of letters, digits, `_`, `-` or `.`'})
      continue
    }
    if (section === undefined) {
      problems.push({line, text: raw, expected: 'a [section] header before the first key'})
      continue
    }
    entries.push({section, key, value: stripInlineComment(raw.slice(eq + 1)), line})
  }
  return {entries, sections, problems}
}
