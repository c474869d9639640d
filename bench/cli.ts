/**
 * bench/cli: how long the read-only commands take to answer against a running daemon, side by side with a
 * bare `node -e 0` on the same machine (the floor any Node.js CLI pays), and where the time goes.
 *
 *   node dist/bench/cli.js [--runs 10]
 *
 * A daemon runs in a lab namespace on a private home with a few VSIs and an uplink override (so the answers
 * are not empty). Each command and `node -e 0` run in turn (A B A B ...), --runs times each after one
 * warm-up; the report gives medians and each command's ratio to bare node. The breakdown times what a CLI
 * start can load (oclif, better-sqlite3, pino, the fast path's modules) as `node -e "await import(...)"`,
 * each against bare node too. Timed from spawn to exit (the whole process), as an operator sees it.
 */
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {AgentRunner, CHILD_ENV, CLI, makeAgentHome, runCli} from '../src/lab/agent-runner.js'
import {Lab} from '../src/lab/netns.js'

const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 10
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url))

function timeOnce(argv: string[], env: NodeJS.ProcessEnv = CHILD_ENV): number {
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), {env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** A and bare node alternately, one warm-up each; medians and the median of the pairwise ratios. */
function sideBySide(argv: string[], env?: NodeJS.ProcessEnv): {ms: number; nodeMs: number; ratio: number} {
  const bare = [process.execPath, '-e', '0']
  timeOnce(argv, env)
  timeOnce(bare)
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < RUNS; i++) {
    a.push(timeOnce(argv, env))
    b.push(timeOnce(bare))
  }
  return {ms: median(a), nodeMs: median(b), ratio: median(a.map((x, i) => x / b[i]))}
}

const row = (what: string, r: {ms: number; nodeMs: number; ratio: number}) =>
  console.log(
    `${what.padEnd(58)} ${r.ms.toFixed(1).padStart(7)} ms  ${r.nodeMs.toFixed(1).padStart(6)} ms  ${r.ratio.toFixed(2).padStart(5)}×`,
  )

const lab = new Lab()
try {
  const ns = await lab.addNamespace('clibench')
  const home = makeAgentHome('', {dir: await lab.tempDir('clibench'), logLevel: 'info'})
  const agent = await AgentRunner.start(lab, ns, home)
  for (let i = 0; i < 5; i++) {
    const port = `0b6f2c3e-1d4a-4e5f-8a9b-0c1d2e3f40${String(i).padStart(2, '0')}`
    const r = await runCli([
      'vm',
      'up',
      '--port',
      port,
      '--mac',
      `02:00:00:00:01:${String(i).padStart(2, '0')}`,
      '--net',
      '5f3c1a9e-0d2b-4c6f-9a71-2e8b4d0c7f15',
      '--segment',
      String(30000 + i),
      '--config',
      home.config,
    ])
    if (r.code !== 0) throw new Error(`vm up: ${r.stderr}`)
  }

  console.log(`CLI against a running daemon: median of ${RUNS}, whole process, side by side with bare node`)
  console.log(`${'command'.padEnd(58)} ${'median'.padStart(10)}  ${'node -e 0'.padStart(9)}  ratio`)
  const commands = [
    ['status'],
    ['status', '--json'],
    ['uplink', 'show'],
    ['neighbors'],
    ['neighbors', '--json'],
    ['vsi', 'list'],
    ['vsi', 'list', '--json'],
  ]
  for (const c of commands)
    row(`vdp-agent ${c.join(' ')}`, sideBySide([process.execPath, CLI, ...c, '--config', home.config]))
  // The same commands forced through oclif (the path they take when the daemon is down, and took before).
  for (const c of [
    ['status', '--json'],
    ['vsi', 'list'],
  ]) {
    row(
      `vdp-agent ${c.join(' ')} (through oclif)`,
      sideBySide([process.execPath, CLI, ...c, '--config', home.config], {...CHILD_ENV, VDP_AGENT_NO_FAST_PATH: '1'}),
    )
  }

  console.log('\nwhere the time goes: node -e "await import(X)" against bare node')
  const imports: [string, string][] = [
    ['@oclif/core', '@oclif/core'],
    ['oclif execute() of `--version` (manifest, no command module)', ''],
    ['better-sqlite3 (and its native addon)', 'better-sqlite3'],
    ['pino', 'pino'],
    ['the fast path (config loader, control client, views)', './dist/src/cli/fast-path.js'],
    ['the LLDP codec and formatter (neighbors -v)', './dist/src/cli/neighbor-tlvs.js'],
  ]
  for (const [what, spec] of imports) {
    const argv =
      spec === ''
        ? [process.execPath, CLI, '--version']
        : [process.execPath, '--input-type=module', '-e', `await import(${JSON.stringify(spec)})`]
    row(what, sideBySide(argv))
  }
  await agent.stop()
} finally {
  await lab.destroy()
}
