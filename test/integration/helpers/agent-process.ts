import {AgentRunner, runCli} from '../../../src/lab/agent-runner.js'

export {makeAgentHome, type CliResult} from '../../../src/lab/agent-runner.js'
/** The daemon under test (src/lab/agent-runner.ts). */
export const AgentProcess = AgentRunner
export type AgentProcess = AgentRunner
/** Run the compiled CLI (optionally inside a network namespace). */
export const cli = (args: string[], opts: {netns?: string} = {}) => runCli(args, opts)

/** Poll `fn` until it returns a value that passes `ok` (bounded). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await fn()
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** `vdp-agent <args> --json` parsed. */
export async function cliJson<T = Record<string, unknown>>(args: string[], config: string): Promise<T> {
  const r = await cli([...args, '--json', '--config', config])
  if (r.code !== 0) throw new Error(`vdp-agent ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
