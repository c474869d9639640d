/**
 * Base of the `vdp-agent lab tor*` commands. Not BaseCommand: these commands take no agent config, so they
 * must not offer --config. Typed errors become clean messages with the project's exit codes (2 bad argument).
 */
import {Command, Errors} from '@oclif/core'
import {exitCodeFor} from '../cli/base-command.js'
import {VdpAgentError} from '../errors.js'

export abstract class TorLabCommand extends Command {
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    let e = err
    if (err instanceof VdpAgentError) e = Object.assign(new Errors.CLIError(err.message, {exit: exitCodeFor(err.code)}), {code: err.code})
    if (this.jsonEnabled() && e.oclif?.exit !== undefined) process.exitCode = e.oclif.exit
    return super.catch(e)
  }
}
