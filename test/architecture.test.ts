/**
 * The module layers of docs/architecture.md ("Layers"), enforced: a module of src/ imports only modules of a
 * lower layer, never one of its own layer or above, so no import runs upward and no two modules import each
 * other. (File-level cycles, type-only ones included, are dpdm's in `make lint`.)
 */
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const SRC = fileURLToPath(new URL('../src', import.meta.url))

/** Lowest first; the same table as docs/architecture.md. */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['lldp', 'pcap', 'log'],
  ['model'],
  ['vdp'],
  ['net'],
  ['config'],
  ['store'],
  ['lldp-agent', 'dataplane'],
  ['uplink'],
  ['agent'],
  ['rpc', 'metrics'],
  ['control'],
  ['daemon'],
  ['cli', 'lab'],
]

const layerOf = new Map(LAYERS.flatMap((mods, i) => mods.map((m) => [m, i] as const)))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : []
  })
}

/** The module (top folder of src/) of a file; undefined for the shared files at the top of src/ (errors.ts...). */
function moduleOf(file: string): string | undefined {
  const parts = relative(SRC, file).split('/')
  return parts.length > 1 ? parts[0] : undefined
}

/** Every import between two modules: "from → to (file)". */
function moduleImports(): {from: string; to: string; file: string}[] {
  return sourceFiles(SRC).flatMap((file) => {
    const from = moduleOf(file)
    if (!from) return []
    const specifiers = [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.\.?\/[^']+)'/g)].map(
      (m) => m[1],
    )
    return specifiers.flatMap((spec) => {
      const to = moduleOf(normalize(join(dirname(file), spec)))
      return to && to !== from ? [{from, to, file: relative(SRC, file)}] : []
    })
  })
}

describe('module layers (docs/architecture.md)', () => {
  it('every module of src/ has a layer', () => {
    const modules = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory())
    expect(modules.filter((m) => !layerOf.has(m))).toEqual([])
  })

  it('no import runs upward or sideways', () => {
    const imports = moduleImports()
    expect(imports.length).toBeGreaterThan(50) // the scan sees the real graph
    const wrong = imports
      .filter(({from, to}) => layerOf.get(to)! >= layerOf.get(from)!)
      .map(({from, to, file}) => `${from} → ${to} (${file})`)
    expect(wrong).toEqual([])
  })
})
