import {Command, Errors} from '@oclif/core'

import {exitCodeFor} from '../error-codes.js'
import {VdpAgentError} from '../errors.js'

/**
 * The base of every vdp-agent command: a typed error (VdpAgentError) ends the command with its message, no
 * stack, and the exit code of its code in src/error-codes.ts, also under --json (where oclif would exit 1).
 * Commands that read the agent's config and ask the daemon extend BaseCommand (src/cli/base-command.ts); the
 * others (`lldp decode`, `lab *`, `daemon`) extend this one directly, so they offer no --config they ignore.
 */
export abstract class VdpCommand extends Command {
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    let e = err
    if (err instanceof VdpAgentError)
      e = Object.assign(new Errors.CLIError(err.message, {exit: exitCodeFor(err.code)}), {code: err.code})
    if (this.jsonEnabled() && e.oclif?.exit !== undefined) process.exitCode = e.oclif.exit
    // Commands with a --json of their own (the decoders' JSON Lines) are not oclif's JSON mode: a script still
    // gets the error object of docs/json/error.schema.json on stdout, the text goes to stderr as usual.
    if (!this.jsonEnabled() && this.argv.includes('--json')) {
      const code = (e as {code?: unknown}).code
      process.stdout.write(
        JSON.stringify({error: {...(typeof code === 'string' ? {code} : {}), message: e.message}}) + '\n',
      )
    }
    return super.catch(e)
  }
}
