import {closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {ensureDirectory} from '../config/ensure-dir.js'
import {FileReadError, readRegularFile} from '../config/regular-file.js'
import {VdpAgentError} from '../errors.js'
import {validateIfName} from '../net/ifname.js'

/**
 * The static uplink override: a small text file holding one interface name (and `#` comments). It wins
 * over the config and LLDP while present. `vdp-agent uplink set IF` writes it atomically; the daemon
 * watches it, so a change applies without a restart.
 */
class OverrideFileError extends VdpAgentError {
  constructor(path: string, problem: string) {
    super('OVERRIDE_INVALID', `uplink override file ${path}: ${problem}`, {path})
  }
}

/** Large enough for a name and comments; anything bigger is not an override file. */
const MAX_SIZE = 4096

/** The interface named by the override file, or undefined when there is no file. Throws OverrideFileError. */
export function readOverrideFile(path: string): string | undefined {
  let text: Buffer
  try {
    text = readRegularFile(path, MAX_SIZE, 'uplink override file')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    if (err instanceof FileReadError) throw new OverrideFileError(path, String(err.details.problem))
    throw new OverrideFileError(path, `cannot be read (${(err as Error).message})`)
  }
  return parseOverride(path, text)
}

function parseOverride(path: string, bytes: Buffer): string {
  const text = bytes.toString('utf8')
  if (text.includes('\0') || text.includes('\uFFFD'))
    throw new OverrideFileError(path, 'contains binary data, expected one interface name')
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  if (names.length === 0)
    throw new OverrideFileError(path, 'holds no interface name (remove the file to clear the override)')
  if (names.length > 1)
    throw new OverrideFileError(path, `holds ${names.length} lines, expected exactly one interface name`)
  try {
    return validateIfName(names[0])
  } catch (err) {
    throw new OverrideFileError(path, (err as Error).message)
  }
}

/** Write atomically: a reader sees the old file or the new one, never a torn write. */
export function writeOverrideFile(path: string, ifname: string, now = new Date()): void {
  const name = validateIfName(ifname)
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`)
  const content = `# vdp-agent static uplink override, written by \`vdp-agent uplink set\` at ${now.toISOString()}\n${name}\n`
  try {
    ensureDirectory(dir, 0o755, '[general] uplink_override_file')
    const fd = openSync(tmp, 'w', 0o644)
    try {
      writeSync(fd, content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
    syncDirectory(dir)
  } catch (err) {
    if (err instanceof VdpAgentError) throw err
    rmSync(tmp, {force: true})
    throw overrideWriteError(path, err)
  }
}

/** A failed write of the override file, worded by what the system said (read-only, permission, full). */
function overrideWriteError(path: string, err: unknown): VdpAgentError {
  const e = err as NodeJS.ErrnoException
  const why: Record<string, string> = {
    EROFS: 'the file system is read-only; make it writable, or set [general] uplink_override_file to a writable place',
    EACCES: "permission denied; run as root or as the daemon's user",
    EPERM: "permission denied; run as root or as the daemon's user",
    ENOSPC: 'no space left on the file system',
    EISDIR: 'a directory is in the way; remove it',
    ENOTDIR: 'a part of the path is not a directory',
  }
  const problem = why[e.code ?? ''] ?? e.message
  return new VdpAgentError(
    'OVERRIDE_WRITE_FAILED',
    `cannot write the uplink override file ${path}: ${problem} (${e.code ?? 'error'})`,
    {path, errno: e.code ?? null},
  )
}

/** Remove the override. Returns false when there was none. */
export function clearOverrideFile(path: string): boolean {
  try {
    statSync(path)
  } catch {
    return false
  }
  try {
    rmSync(path, {force: true})
    syncDirectory(dirname(path))
  } catch (err) {
    throw overrideWriteError(path, err)
  }
  return true
}

/** Make the rename or unlink itself durable. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
