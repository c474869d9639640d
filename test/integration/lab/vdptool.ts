/**
 * Reading vdptool's output (docs/wire-notes.md §vdptool output; docs/net.md "lldpad in a namespace"). vdptool
 * exits 0 when the bridge refuses or nothing answers within -W's 5 s, and 1 when lldpad refuses the command itself
 * ("FAILED: …"): both are outcomes a test looks at, so neither throws here.
 */
import {LabCommandError} from '../../../src/lab/netns.js'
import type {LldpadHandle} from '../../helpers/peers.js'

export interface VdptoolRun {
  stdout: string
  exitCode: number
  lines: string[]
}

async function vdptool(lldpad: LldpadHandle, argv: string[]): Promise<VdptoolRun> {
  try {
    const {stdout} = await lldpad.vdptool(argv)
    return {stdout, exitCode: 0, lines: stdout.split('\n')}
  } catch (err) {
    if (!(err instanceof LabCommandError) || typeof err.details.exitCode !== 'number') throw err
    const stdout = String(err.details.stdout ?? '')
    return {stdout, exitCode: err.details.exitCode, lines: stdout.split('\n')}
  }
}

export interface VsiArgs {
  uuid: string
  filter: string
  typeId?: number
}

/** `vdptool -i IF -T -W -V MODE …` as networking-cisco runs it: set, then wait for lldpad's event. */
export function vdpRequest(
  lldpad: LldpadHandle,
  ifname: string,
  mode: 'assoc' | 'deassoc' | 'preassoc',
  vsi: VsiArgs,
): Promise<VdptoolRun> {
  return vdptool(lldpad, [
    '-i',
    ifname,
    '-T',
    '-W',
    '-V',
    mode,
    '-c',
    `mode=${mode}`,
    '-c',
    'mgrid2=0',
    '-c',
    `typeid=${vsi.typeId ?? 0}`,
    '-c',
    'typeidver=0',
    '-c',
    `uuid=${vsi.uuid}`,
    '-c',
    'hints=none',
    '-c',
    `filter=${vsi.filter}`,
  ])
}

/** The lines of the "Response from VDP" block (TAB-indented), or [] when none came. */
export function responseLines(run: VdptoolRun): string[] {
  const start = run.lines.indexOf('Response from VDP')
  if (start < 0) return []
  const block: string[] = []
  for (const line of run.lines.slice(start + 1)) {
    if (!line.startsWith('\t')) break
    block.push(line)
  }
  return block
}

/** UUIDs of the VSIs lldpad holds on the interface (`vdptool -t -V assoc`). */
export async function listedVsis(
  lldpad: LldpadHandle,
  ifname: string,
): Promise<Map<string, {filter: string; hints: string}>> {
  const run = await vdptool(lldpad, ['-i', ifname, '-t', '-V', 'assoc'])
  const vsis = new Map<string, {filter: string; hints: string}>()
  let uuid: string | undefined
  let hints = ''
  for (const line of run.lines) {
    const m = /^\t(\w+) = (.*)$/.exec(line)
    if (!m) continue
    if (m[1] === 'uuid') uuid = m[2]
    if (m[1] === 'hints') hints = m[2]
    if (m[1] === 'filter' && uuid) vsis.set(uuid, {filter: m[2], hints})
  }
  return vsis
}
