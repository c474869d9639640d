// Writes the package's man pages and bash completion from the sources `--help` and agent.ini come from:
// vdp-agent(8) and the completion from oclif.manifest.json (every command, argument and flag), agent.ini(5)
// from the config schema (src/config/schema.ts, compiled). Markdown is turned into roff by go-md2man.
//   node scripts/write-package-docs.mjs OUT_DIR [MANIFEST]
// writes OUT_DIR/man/vdp-agent.8, OUT_DIR/man/agent.ini.5 and
// OUT_DIR/usr/share/bash-completion/completions/vdp-agent. Run after `npm run build`.
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {SECTION_DOCS, defaultText, typeText} from '../dist/src/config/render.js'
import {configSchema, sectionNames} from '../dist/src/config/schema.js'

const root = new URL('..', import.meta.url)
const [outDir, manifestPath = new URL('oclif.manifest.json', root).pathname] = process.argv.slice(2)
if (!outDir) throw new Error('usage: write-package-docs.mjs OUT_DIR [MANIFEST]')

const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
const commands = Object.values(manifest.commands)
  .filter((c) => !c.hidden)
  .sort((a, b) => a.id.localeCompare(b.id))
const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000)
const month = date.toLocaleString('en-GB', {month: 'long', year: 'numeric', timeZone: 'UTC'})
const defaults = configSchema.general

/** Markdown-escape plain text; `code` becomes bold (a literal in a man page). */
function md(text) {
  return String(text)
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1 ? `**${esc(part.slice(1, -1))}**` : esc(part),
    )
    .join('')
}
const esc = (s) => s.replace(/[\\*_[\]<>#|]/g, (c) => `\\${c}`)
const words = (id) => id.split(':').join(' ')

function flagTerm(name, flag) {
  const names = [flag.char ? `**-${flag.char}**` : null, `**--${name}**`].filter(Boolean).join(', ')
  if (flag.type === 'boolean') return flag.allowNo ? `${names}, **--no-${name}**` : names
  return `${names}=*${flag.options ? flag.options.join('|') : (flag.helpValue ?? 'VALUE').replace(/[<>]/g, '')}*`
}

function flagText(flag) {
  const parts = [flag.summary ?? flag.description ?? '']
  if (flag.summary && flag.description) parts.push(flag.description)
  if (flag.default !== undefined && flag.type !== 'boolean') parts.push(`Default: ${flag.default}.`)
  if (flag.env) parts.push(`Environment: ${flag.env}.`)
  return md(parts.join(' ').replace(/\n/g, ' '))
}

function usage(cmd) {
  const args = Object.values(cmd.args ?? {}).map((a) =>
    a.required ? `*${a.name.toUpperCase()}*` : `[*${a.name.toUpperCase()}*]`,
  )
  return [`**vdp-agent ${words(cmd.id)}**`, ...args, '[*OPTIONS*]'].join(' ')
}

function commandSection(cmd) {
  const out = [`## ${words(cmd.id)}`, '', usage(cmd), '']
  if (cmd.summary) out.push(md(cmd.summary), '')
  if (cmd.description) out.push(md(cmd.description.replace(/\n/g, ' ')), '')
  for (const arg of Object.values(cmd.args ?? {}))
    out.push(`*${arg.name.toUpperCase()}*`, `: ${md(arg.description ?? '')}`, '')
  for (const [name, flag] of Object.entries(cmd.flags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (flag.hidden) continue
    out.push(flagTerm(name, flag), `: ${flagText(flag)}`, '')
  }
  return out
}

function agentPage() {
  return [
    `% VDP-AGENT 8 "${month}" "vdp-agent ${pjson.version}" "System Manager's Manual"`,
    '',
    '# NAME',
    '',
    'vdp-agent \\- host-side uplink agent for IEEE 802.1Qbg (EVB/VDP22) fabrics',
    '',
    '# SYNOPSIS',
    '',
    '**vdp-agent** *COMMAND* [*OPTIONS*]',
    '',
    '**vdp-agent** [*COMMAND*] **--help**',
    '',
    '# DESCRIPTION',
    '',
    md(pjson.description),
    '',
    `The daemon (**vdp-agent daemon**, run by the systemd unit vdp-agent.service) keeps its state in ${md(defaults.state_dir.default)}/vdp-agent.db and answers the other commands on its control socket. The read-only commands answer from the database when the daemon is down and say so. Every command prints JSON with **--json**.`,
    '',
    '# COMMANDS',
    '',
    ...commands.flatMap(commandSection),
    '# EXIT STATUS',
    '',
    '**0**',
    ': Success.',
    '',
    '**1**',
    ': Failure.',
    '',
    '**2**',
    ': Bad usage or argument, for example an invalid interface name.',
    '',
    '**3**',
    ': The daemon is not reachable (and, for a read-only command, its database cannot be read).',
    '',
    '**78**',
    ': Invalid configuration; the message names the file, line, section, key, the bad value and what was expected.',
    '',
    '# ENVIRONMENT',
    '',
    '**VDP\\_AGENT\\_CONFIG**',
    ': The configuration file, as **--config**.',
    '',
    '# FILES',
    '',
    '*/etc/vdp-agent/agent.ini*',
    ': The configuration, see **agent.ini**(5).',
    '',
    `*${md(defaults.uplink_override_file.default)}*`,
    `: ${md(defaults.uplink_override_file.doc)}`,
    '',
    `*${md(defaults.state_dir.default)}/vdp-agent.db*`,
    `: ${md(defaults.state_dir.doc)}`,
    '',
    `*${md(defaults.control_socket.default)}*`,
    `: ${md(defaults.control_socket.doc)} Members of the vdp-agent group may use the CLI without root.`,
    '',
    '# SEE ALSO',
    '',
    '**agent.ini**(5), **systemd.exec**(5), **lldpcli**(8), **lldptool**(8), **vdptool**(8)',
    '',
  ].join('\n')
}

function iniPage() {
  const out = [
    `% AGENT.INI 5 "${month}" "vdp-agent ${pjson.version}" "File Formats Manual"`,
    '',
    '# NAME',
    '',
    'agent.ini \\- vdp-agent configuration file',
    '',
    '# SYNOPSIS',
    '',
    '*/etc/vdp-agent/agent.ini*',
    '',
    '# DESCRIPTION',
    '',
    'An INI file of sections in brackets and **key = value** lines; **;** and **#** start comments. Every key is optional and shown below with its type and default. Times are in seconds. Unknown keys and sections only warn (with a suggestion); a bad value stops the daemon with exit status 78 and a message naming the file, line, section, key, the value and what was expected. **vdp-agent config check** validates a file without starting anything; SIGHUP makes the daemon reload it (a bad file is reported and the running configuration kept). The annotated default file is installed as the configuration.',
    '',
  ]
  for (const section of sectionNames) {
    out.push(`# [${section}]`, '', ...SECTION_DOCS[section].split('\n').map(md).join(' ').split('\n'), '')
    for (const [key, spec] of Object.entries(configSchema[section])) {
      const value = defaultText(spec)
      out.push(
        `**${esc(key)}** = *${value === '' ? '(empty)' : md(value)}*`,
        `: ${md(spec.doc)} (${md(typeText(spec))})`,
        '',
      )
    }
  }
  out.push('# SEE ALSO', '', '**vdp-agent**(8)', '')
  return out.join('\n')
}

/** Bash completion: subcommands by position, each command's flags, values of option flags, files otherwise. */
function bashCompletion() {
  const subs = new Map([['_', new Set()]])
  const flags = new Map()
  const values = new Map()
  for (const cmd of commands) {
    const parts = cmd.id.split(':')
    parts.forEach((part, i) => {
      const parent = i === 0 ? '_' : parts.slice(0, i).join(':')
      if (!subs.has(parent)) subs.set(parent, new Set())
      subs.get(parent).add(part)
    })
    const names = ['--help']
    for (const [name, flag] of Object.entries(cmd.flags ?? {})) {
      if (flag.hidden) continue
      names.push(`--${name}`, ...(flag.char ? [`-${flag.char}`] : []))
      if (flag.type === 'option') {
        values.set(`--${name}`, flag.options ? flag.options.join(' ') : '')
        if (flag.char) values.set(`-${flag.char}`, flag.options ? flag.options.join(' ') : '')
      }
    }
    flags.set(cmd.id, names.join(' '))
  }
  const assoc = (m) => [...m].map(([k, v]) => `[${k}]="${v instanceof Set ? [...v].join(' ') : v}"`).join(' ')
  return `# bash completion for vdp-agent (generated from oclif.manifest.json by scripts/write-package-docs.mjs)
_vdp_agent()
{
    local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
    local -A subs=(${assoc(subs)})
    local -A flags=(${assoc(flags)})
    local -A values=(${assoc(values)})
    local i word path="" skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=\${COMP_WORDS[i]}
        if ((skip)); then skip=0; continue; fi
        if [[ $word == -* ]]; then [[ -n \${values[$word]+set} ]] && skip=1; continue; fi
        [[ -n $path && -n \${flags[$path]+set} ]] && continue
        path=\${path:+$path:}$word
    done
    if [[ -n \${values[$prev]+set} ]]; then
        if [[ -n \${values[$prev]} ]]; then
            mapfile -t COMPREPLY < <(compgen -W "\${values[$prev]}" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
    elif [[ -n $path && -n \${flags[$path]+set} ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "\${flags[$path]}" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
    else
        local words=\${subs[\${path:-_}]}
        if [[ $cur == -* ]]; then words="--help"; [[ -z $path ]] && words+=" --version"; fi
        mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
    fi
}
complete -F _vdp_agent vdp-agent
`
}

mkdirSync(join(outDir, 'man'), {recursive: true})
for (const [file, markdown] of [
  ['vdp-agent.8', agentPage()],
  ['agent.ini.5', iniPage()],
]) {
  const roff = execFileSync('go-md2man', [], {input: markdown, encoding: 'utf8'})
  writeFileSync(join(outDir, 'man', file), roff)
}
const completionDir = join(outDir, 'usr/share/bash-completion/completions')
mkdirSync(completionDir, {recursive: true})
writeFileSync(join(completionDir, 'vdp-agent'), bashCompletion())
console.log(`man pages and bash completion for ${commands.length} commands written under ${outDir}`)
