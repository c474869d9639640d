// Writes debian/copyright (machine-readable, DEP-5) for the staged package: the project's own files, then one
// stanza per bundled npm module (its package.json `license`, the copyright lines of its LICENSE file), then
// each licence's text (from /usr/share/common-licenses where Debian has it, else the first module's LICENSE).
//   node scripts/write-deb-copyright.mjs STAGE_DIR      (STAGE_DIR/usr/lib/vdp-agent/node_modules is read)
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

const [stage] = process.argv.slice(2)
if (!stage) throw new Error('usage: write-deb-copyright.mjs STAGE_DIR')
const appDir = 'usr/lib/vdp-agent'
const COMMON = {'Apache-2.0': 'Apache-2.0'}

/** Every installed module: node_modules/<name>, node_modules/@scope/<name>, and nested node_modules. */
function modules(dir, rel) {
  const out = []
  if (!existsSync(dir)) return out
  for (const entry of readdirSync(dir).sort()) {
    const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry]
    for (const name of names) {
      const pkgFile = join(dir, name, 'package.json')
      if (!existsSync(pkgFile)) continue
      out.push({path: `${rel}/${name}`, dir: join(dir, name), pkg: JSON.parse(readFileSync(pkgFile, 'utf8'))})
      out.push(...modules(join(dir, name, 'node_modules'), `${rel}/${name}/node_modules`))
    }
  }
  return out
}

function licenseFile(dir) {
  const f = readdirSync(dir).find((n) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(n))
  return f ? readFileSync(join(dir, f), 'utf8') : undefined
}

const indent = (text) =>
  text
    .trim()
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l.trimEnd()}`))
    .join('\n')

const stanzas = [
  [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: vdp-agent',
    'Comment: The bundled npm modules under /usr/lib/vdp-agent/node_modules each keep their own LICENSE file.',
  ].join('\n'),
  ['Files: *', 'Copyright: vdp-agent contributors', 'License: Apache-2.0'].join('\n'),
]
const texts = new Map()
for (const m of modules(join(stage, appDir, 'node_modules'), `${appDir}/node_modules`)) {
  const spdx = String(m.pkg.license ?? (m.pkg.licenses ?? []).map((l) => l.type).join(' OR ') ?? 'UNKNOWN')
  const license = spdx.replace(/[()]/g, '').replace(/ OR /g, ' or ').replace(/ AND /g, ' and ')
  const text = licenseFile(m.dir)
  const holders = (text ?? '')
    .split('\n')
    .filter((l) => /^\s*copyright\s+(\(c\)|©|\d)/i.test(l))
    .map((l) => l.trim())
  const author = typeof m.pkg.author === 'string' ? m.pkg.author : m.pkg.author?.name
  stanzas.push(
    [
      `Files: ${m.path}/*`,
      `Copyright: ${holders.length > 0 ? holders.join('\n ') : (author ?? `the ${m.pkg.name} authors`)}`,
      `License: ${license}`,
      ...(m.pkg.name === 'better-sqlite3'
        ? ['Comment: build/Release/better_sqlite3.node also contains SQLite, which is in the public domain.']
        : []),
    ].join('\n'),
  )
  for (const name of license.split(/ or | and /))
    if (!texts.has(name) || (!texts.get(name) && text)) texts.set(name, text)
}
texts.set('Apache-2.0', texts.get('Apache-2.0'))
for (const [name, text] of [...texts].sort(([a], [b]) => a.localeCompare(b))) {
  const common = COMMON[name]
  const body = common
    ? `On Debian systems the full text of this licence is in /usr/share/common-licenses/${common}.`
    : (text ?? `See the LICENSE file of each module licensed ${name}.`)
  stanzas.push(`License: ${name}\n${indent(body)}`)
}
writeFileSync(join(stage, 'debian', 'copyright'), stanzas.join('\n\n') + '\n')
console.log(`debian/copyright: ${stanzas.length - 2 - texts.size} bundled modules, ${texts.size} licences`)
