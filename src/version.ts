import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package version, found by walking up from this module (works from src/ and from dist/src/). */
function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {name?: string; version?: string}
      if (pkg.name === 'vdp-agent' && pkg.version) return pkg.version
    }
    dir = dirname(dir)
  }
  return '0.0.0'
}

export const VERSION = findVersion()
