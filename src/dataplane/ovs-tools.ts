/**
 * The two Open vSwitch commands the agent runs, with argv arrays and timeouts, never a shell: `ovs-vsctl`
 * for the rare database writes (the uplink into the external bridge) and `ovs-ofctl` for flows, batched:
 * one process per bridge and batch, in an OpenFlow 1.4 bundle (atomic: all lines or none). Every name is
 * checked by validateIfName (OVS port and bridge names are netdev names) before it reaches a command.
 */
import {execFile} from 'node:child_process'
import {join} from 'node:path'

import {VdpAgentError} from '../errors.js'
import {validateIfName} from '../net/ifname.js'
import {AGENT_COOKIE_FILTER, type BridgeRole, type Flow, parseDumpFlows} from './flows.js'

class OvsCommandError extends VdpAgentError {
  constructor(command: string, args: readonly string[], detail: string) {
    super('OVS_COMMAND', `${command} ${args.join(' ')}: ${detail.trim()}`, {command})
  }
}

export interface OvsToolsOptions {
  /** OVS's run directory: db.sock and <bridge>.mgmt live there (/run/openvswitch on Debian). */
  rundir: string
  /** Each command's limit (ovs-vsctl --timeout as well). */
  timeoutMs: number
}

export class OvsTools {
  /** Processes started, for the benchmark and `vdp-agent flows`. */
  commands = 0

  constructor(private readonly opts: OvsToolsOptions) {}

  get dbSocket(): string {
    return join(this.opts.rundir, 'db.sock')
  }

  /** The bridge's OpenFlow management socket (no TCP listener needed). */
  mgmtTarget(bridge: string): string {
    return `unix:${join(this.opts.rundir, `${validateIfName(bridge)}.mgmt`)}`
  }

  /** `ovs-vsctl --db=… --timeout=… -- --may-exist add-port BR PORT` */
  addPort(bridge: string, port: string): Promise<string> {
    return this.vsctl(['--', '--may-exist', 'add-port', validateIfName(bridge), validateIfName(port)])
  }

  delPort(bridge: string, port: string): Promise<string> {
    return this.vsctl(['--', '--if-exists', 'del-port', validateIfName(bridge), validateIfName(port)])
  }

  /** Applies `add`/`delete_strict` lines atomically on one bridge (an OpenFlow 1.4 bundle). */
  async bundle(bridge: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return
    for (const line of lines)
      if (!/^(add|delete_strict|delete) [\w=,:./\-x]+$/.test(line))
        throw new OvsCommandError('ovs-ofctl', [], `refusing flow line ${JSON.stringify(line)}`)
    await this.run('ovs-ofctl', ['--bundle', 'add-flows', this.mgmtTarget(bridge), '-'], `${lines.join('\n')}\n`)
  }

  /** Our flows on one bridge (by cookie), parsed. */
  async dumpOurFlows(role: BridgeRole, bridge: string): Promise<Flow[]> {
    const out = await this.run('ovs-ofctl', [
      '--no-stats',
      '--no-names',
      'dump-flows',
      this.mgmtTarget(bridge),
      AGENT_COOKIE_FILTER,
    ])
    return parseDumpFlows(role, out)
  }

  /** Deletes every flow of ours on one bridge (nothing of the operator's: the cookie mask selects ours). */
  async deleteOurFlows(bridge: string): Promise<void> {
    await this.run('ovs-ofctl', ['del-flows', this.mgmtTarget(bridge), AGENT_COOKIE_FILTER])
  }

  private vsctl(args: string[]): Promise<string> {
    const seconds = Math.max(1, Math.ceil(this.opts.timeoutMs / 1000))
    return this.run('ovs-vsctl', [`--db=unix:${this.dbSocket}`, `--timeout=${seconds}`, ...args])
  }

  private run(command: string, args: string[], stdin?: string): Promise<string> {
    this.commands++
    return new Promise((resolve, reject) => {
      const child = execFile(
        command,
        args,
        {timeout: this.opts.timeoutMs, maxBuffer: 64 * 1024 * 1024},
        (err, stdout, stderr) => {
          if (err) reject(new OvsCommandError(command, args, stderr || err.message))
          else resolve(stdout)
        },
      )
      if (stdin !== undefined) child.stdin!.end(stdin)
    })
  }
}
