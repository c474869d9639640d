#!/usr/bin/env node
// vdp-agent CLI entry. The read-only commands first try the fast path (dist/src/cli/fast-path.js: ask the
// running daemon over the control socket without loading oclif, SQLite or pino); everything else, and those
// commands when the fast path declines, go through oclif, which loads the command from oclif.manifest.json.
const READ_ONLY = new Set(['status', 'uplink', 'neighbors', 'vsi'])

const {runFastPath} = READ_ONLY.has(process.argv[2]) ? await import('../dist/src/cli/fast-path.js') : {}
if (!(runFastPath && (await runFastPath(process.argv.slice(2))))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
