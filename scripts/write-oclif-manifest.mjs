// Writes oclif.manifest.json after the build, so the CLI loads only the command it runs instead of importing
// every command to list them (start-up time). Generated, not committed: `make build` and `npm run build` run it.
import {rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {Config} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
// oclif reads an existing manifest even with ignoreManifest, so a new command would never be listed.
rmSync(new URL('../oclif.manifest.json', import.meta.url), {force: true})
const config = await Config.load({root, ignoreManifest: true})
const plugin = config.plugins.get(config.pjson.name)
if (!plugin || Object.keys(plugin.manifest.commands).length === 0)
  throw new Error('no commands found: build first (tsc)')
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(plugin.manifest))
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)
