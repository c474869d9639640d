import {type FSWatcher, watch} from 'node:fs'
import {basename, dirname} from 'node:path'

import {ensureDirectory} from '../config/ensure-dir.js'

/**
 * Calls `onChange` shortly after the override file is created, replaced, edited or removed. It watches
 * the directory, not the file: an atomic write replaces the file's inode, which a file watch would miss.
 */
export class OverrideWatcher {
  private watcher?: FSWatcher
  private timer?: NodeJS.Timeout

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
    private readonly settleMs = 30,
  ) {}

  start(): void {
    const dir = dirname(this.path)
    ensureDirectory(dir, 0o755, '[general] uplink_override_file')
    const name = basename(this.path)
    this.watcher = watch(dir, {persistent: false}, (_event, file) => {
      if (file !== null && file !== name) return
      clearTimeout(this.timer)
      this.timer = setTimeout(this.onChange, this.settleMs)
    })
    this.watcher.on('error', () => {
      // The directory went away; the daemon's periodic reconciliation still reads the file.
      this.stop()
    })
  }

  stop(): void {
    clearTimeout(this.timer)
    this.watcher?.close()
    this.watcher = undefined
  }
}
