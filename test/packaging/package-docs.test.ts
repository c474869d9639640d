/**
 * The package's man pages and bash completion are generated from the oclif manifest and the config schema
 * (scripts/write-package-docs.mjs): every command, flag and config key appears, and the completion completes.
 * Runs on the built tree (`make build`); needs go-md2man and man (Makefile DEBIAN_PACKAGES).
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {configSchema, sectionNames} from '../../src/config/schema.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {id: string; flags: Record<string, {char?: string}>}>
}
let out: string

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'vdp-agent-docs-'))
  execFileSync(process.execPath, [join(ROOT, 'scripts/write-package-docs.mjs'), out], {cwd: ROOT})
})
afterAll(() => rmSync(out, {recursive: true, force: true}))

/** The page as man renders it for an 80-column terminal (hyphenation and justification off). */
const render = (page: string) =>
  execFileSync('man', ['-l', join(out, 'man', page)], {
    env: {...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '', LANG: 'C.UTF-8'},
    encoding: 'utf8',
  }).replace(/‐\n\s*/g, '')

describe('man pages', () => {
  it('vdp-agent(8) has every command and each of its flags', () => {
    const text = render('vdp-agent.8')
    for (const cmd of Object.values(manifest.commands)) {
      expect(text).toContain(`vdp-agent ${cmd.id.split(':').join(' ')}`)
      for (const flag of Object.keys(cmd.flags)) expect(text, `${cmd.id} --${flag}`).toContain(`--${flag}`)
    }
    expect(text).toMatch(/EXIT STATUS[\s\S]*78/)
  })

  it('agent.ini(5) has every section and key with its default', () => {
    const text = render('agent.ini.5')
    for (const section of sectionNames) {
      expect(text).toContain(`[${section}]`)
      for (const [key, spec] of Object.entries(configSchema[section])) {
        expect(text, key).toContain(key)
        const dflt = Array.isArray(spec.default) ? spec.default.join(', ') : String(spec.default)
        if (dflt !== '') expect(text, `${key} default`).toContain(`${key} = ${dflt}`)
      }
    }
  })
})

describe('bash completion', () => {
  /** COMP_WORDS as bash would split `vdp-agent <line>`; the last word is the one being completed. */
  const complete = (line: string): string[] => {
    const script = `source ${JSON.stringify(join(out, 'usr/share/bash-completion/completions/vdp-agent'))}
COMP_WORDS=(vdp-agent ${line}); COMP_CWORD=\${#COMP_WORDS[@]}; [[ "${line}" == *" " || -z "${line}" ]] && COMP_WORDS+=("") || COMP_CWORD=$((COMP_CWORD-1))
_vdp_agent; printf '%s\\n' "\${COMPREPLY[@]}"`
    return execFileSync('bash', ['-c', script], {encoding: 'utf8'}).split('\n').filter(Boolean).sort()
  }

  it('completes commands, topics, flags and flag values', () => {
    expect(complete('')).toEqual(expect.arrayContaining(['status', 'uplink', 'vsi', 'neighbors', 'daemon']))
    expect(complete('--')).toEqual(['--help', '--version'])
    expect(complete('uplink --')).toEqual(['--help'])
    expect(complete('up')).toEqual(['uplink'])
    expect(complete('uplink ')).toEqual(['clear', 'set', 'show'])
    expect(complete('vsi list --s')).toEqual(['--state'])
    expect(complete('vsi list --state a')).toEqual(['associated', 'associating'])
    expect(complete('daemon --log-level w')).toEqual(['warn'])
    expect(complete('neighbors -')).toEqual(
      expect.arrayContaining(['-v', '--verbose', '--json', '--config', '-c', '--help']),
    )
    expect(complete('--config /etc/x.ini vsi list --po')).toEqual(['--port'])
  })
})
