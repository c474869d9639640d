import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {configSchema} from '../src/config/schema.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

function commandIds(dir = join(root, 'commands')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return commandIds(path)
    return name.endsWith('.ts')
      ? [relative(join(root, 'commands'), path).replace(/\.ts$/, '').split('/').join(' ')]
      : []
  })
}

describe('README stays true to the code', () => {
  it('documents every config key in its section row', () => {
    for (const [section, keys] of Object.entries(configSchema)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`[${section}]\``))
      expect(row, `README row for [${section}]`).toBeDefined()
      for (const key of Object.keys(keys)) expect(row, `[${section}] ${key}`).toContain(`\`${key}\``)
    }
  })

  it('shows every command', () => {
    for (const id of commandIds()) expect(readme, id).toContain(`vdp-agent ${id}`)
  })

  it('names the test command that .ci/run runs', () => {
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8')
    expect(ci).toContain('make test')
    expect(readme).toContain('make test')
  })
})
