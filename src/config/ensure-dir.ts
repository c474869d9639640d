import {accessSync, constants, existsSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

import {VdpAgentError} from '../errors.js'

/**
 * What the system said about a directory or file the daemon must write, in an operator's words. Node's
 * recursive mkdir reports ENOENT on a read-only file system, so the real cause is found by retrying the
 * first missing level on its own (see `ensureDirectory`).
 */
function describeWriteErrno(code: string | undefined): string | undefined {
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'ENOSPC':
      return 'no space left on the file system'
    case 'ENOTDIR':
      return 'a part of the path is not a directory'
    case 'EEXIST':
      return 'a file that is not a directory is in the way'
    default:
      return undefined
  }
}

/**
 * mkdir -p that says why it failed. Throws VdpAgentError code DIRECTORY_UNUSABLE naming `what` (the key
 * that set the path), the directory, the real errno (EROFS, not the ENOENT Node reports for a read-only
 * file system) and what to do.
 */
export function ensureDirectory(dir: string, mode: number, what: string): void {
  try {
    mkdirSync(dir, {recursive: true, mode})
    return
  } catch (err) {
    const code = realCause(dir) ?? (err as NodeJS.ErrnoException).code
    const why = describeWriteErrno(code) ?? (err as Error).message
    throw new VdpAgentError(
      'DIRECTORY_UNUSABLE',
      `cannot create ${dir} (${what}): ${why} (${code ?? 'error'}); make it writable for the daemon's user or point ${what} elsewhere`,
      {
        path: dir,
        errno: code ?? null,
      },
    )
  }
}

/** The errno of creating the first missing level of `dir` by itself, or of writing to its deepest existing ancestor. */
function realCause(dir: string): string | undefined {
  let child = dir
  let parent = dirname(dir)
  while (parent !== child && !existsSync(parent)) {
    child = parent
    parent = dirname(parent)
  }
  try {
    accessSync(parent, constants.W_OK)
    mkdirSync(child)
    return undefined
  } catch (err) {
    return (err as NodeJS.ErrnoException).code
  }
}

/** Whether `dir` can be written, and if not why (EROFS, EACCES...), for messages about files inside it. */
export function writeProblem(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK)
    return undefined
  } catch (err) {
    return (err as NodeJS.ErrnoException).code
  }
}
