#!/usr/bin/env node
// vdp-agent CLI entry. The read-only commands first try the fast path (dist/src/cli/fast-path.js: ask the
// running daemon over the control socket without loading oclif, SQLite or pino); everything else, and those
// commands when the fast path declines, go through oclif, which loads the command from oclif.manifest.json.
const READ_ONLY = new Set(['status', 'uplink', 'neighbors', 'vsi'])

const {runFastPath} = READ_ONLY.has(process.argv[2]) ? await import('../dist/src/cli/fast-path.js') : {}
if (!(runFastPath && (await runFastPath(process.argv.slice(2))))) {
  // oclif and its clean-stack ask the passwd database for the shell and home when SHELL or HOME is unset, and
  // Node throws when the uid has no passwd entry (a unit's bare uid, a container): the daemon would die before
  // it starts. No command of ours uses either, so name neutral ones instead (Debian's home for system users).
  process.env.SHELL ??= '/bin/sh'
  process.env.HOME ??= '/nonexistent'
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
