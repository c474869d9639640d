/**
 * Issue 10 item 3: a path the daemon reads (the uplink override file, the config file) that holds a named
 * pipe, a device or a directory never blocks and is refused with a clear error; size limits hold.
 * Before the fix, reading the override file from a FIFO with no writer blocked the daemon's event loop.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ConfigError, loadConfig} from '../../src/config/load.js'
import {readRegularFile} from '../../src/config/regular-file.js'
import {readOverrideFile} from '../../src/uplink/override-file.js'

const dir = () => mkdtempSync(join(tmpdir(), 'vdp-regular-'))
function fifo(): string {
  const path = join(dir(), 'fifo')
  execFileSync('mkfifo', [path])
  return path
}

describe('files that are not regular files', () => {
  it('a named pipe at the override path is refused at once (no writer needed)', () => {
    const path = fifo()
    expect(() => readOverrideFile(path)).toThrow(
      `uplink override file ${path}: is a named pipe (FIFO), not a regular file: replace it with a regular file (or remove it)`,
    )
  })

  it('a directory or a device at the override path is refused', () => {
    const d = join(dir(), 'override')
    mkdirSync(d)
    expect(() => readOverrideFile(d)).toThrow(/is a directory, not a regular file/)
    expect(() => readOverrideFile('/dev/zero')).toThrow(/is a character device, not a regular file/)
  })

  it('a named pipe or device as the config file is a config error, not a hang', () => {
    const path = fifo()
    expect(() => loadConfig(path)).toThrow(ConfigError)
    expect(() => loadConfig(path)).toThrow(
      `${path}: expected a regular config file of at most 1048576 bytes (it is a named pipe (FIFO), not a regular file: replace it with a regular file (or remove it))`,
    )
    expect(() => loadConfig('/dev/zero')).toThrow(/it is a character device/)
  })

  it('size limits apply', () => {
    const path = join(dir(), 'override')
    writeFileSync(path, `eth0\n${'#'.repeat(5000)}\n`)
    expect(() => readOverrideFile(path)).toThrow(/is larger than 4096 bytes, so it is not one/)
    const cfg = join(dir(), 'agent.ini')
    writeFileSync(cfg, `# ${'x'.repeat(2 << 20)}\n`)
    expect(() => loadConfig(cfg)).toThrow(/at most 1048576 bytes \(it is larger than 1048576 bytes/)
    expect(readRegularFile(path, 10_000, 'file').length).toBe(5006)
  })

  it('a missing file is still just missing', () => {
    expect(readOverrideFile(join(dir(), 'none'))).toBeUndefined()
  })
})

describe('directories the daemon must create', () => {
  it('names the real cause instead of ENOENT (Node reports ENOENT for a read-only file system)', async () => {
    const {ensureDirectory} = await import('../../src/config/ensure-dir.js')
    const base = dir()
    writeFileSync(join(base, 'file'), 'x')
    expect(() => ensureDirectory(join(base, 'file', 'sub'), 0o750, '[general] state_dir')).toThrow(
      expect.objectContaining({
        code: 'DIRECTORY_UNUSABLE',
        message: expect.stringMatching(
          /cannot create .*file\/sub \(\[general\] state_dir\): a part of the path is not a directory \(ENOTDIR\)/,
        ),
      }),
    )
    ensureDirectory(join(base, 'a', 'b'), 0o750, 'x') // and works when it can
  })
})
