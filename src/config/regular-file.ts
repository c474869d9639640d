import {type Stats, closeSync, constants, fstatSync, openSync, readSync, statSync} from 'node:fs'

import {VdpAgentError} from '../errors.js'

/**
 * A file the daemon reads (config, uplink override) that is not a regular file or is too large. `code`
 * NOT_REGULAR_FILE or FILE_TOO_LARGE; details hold the path. A named pipe, device or directory at such a
 * path must never block the daemon (a FIFO's open and read wait for a writer) nor make it read without end.
 */
export class FileReadError extends VdpAgentError {}

/** What a non-regular file is, in words an operator recognises. */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)'
  if (st.isDirectory()) return 'a directory'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Read a small regular file without ever blocking: a stat first (a device is never opened), then an
 * O_NONBLOCK open (a FIFO swapped in meanwhile does not wait for a writer), an fstat of what was opened,
 * and a read bounded by `maxBytes`. `what` names the file in errors ("uplink override file").
 * Throws FileReadError for a non-regular or too large file; other errors (ENOENT, EACCES) are thrown as
 * they are, for the caller to word.
 */
export function readRegularFile(path: string, maxBytes: number, what: string): Buffer {
  check(statSync(path), path, maxBytes, what)
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  try {
    check(fstatSync(fd), path, maxBytes, what)
    return readBounded(fd, maxBytes, () => tooLarge(path, maxBytes, what))
  } finally {
    closeSync(fd)
  }
}

/**
 * Read an open descriptor to its end, at most `maxBytes`: past that `tooLarge()` is thrown, so a file that
 * grows meanwhile (or a pipe that never ends) costs at most maxBytes + 1 of memory.
 */
export function readBounded(fd: number, maxBytes: number, tooLarge: () => Error): Buffer {
  const buf = Buffer.alloc(maxBytes + 1)
  let length = 0
  for (;;) {
    const n = readSync(fd, buf, length, buf.length - length, null)
    if (n === 0) break
    length += n
    if (length > maxBytes) throw tooLarge()
  }
  return buf.subarray(0, length)
}

function check(st: Stats, path: string, maxBytes: number, what: string): void {
  if (!st.isFile()) {
    const problem = `is ${fileKind(st)}, not a regular file: replace it with a regular file (or remove it)`
    throw new FileReadError('NOT_REGULAR_FILE', `${what} ${path} ${problem}`, {path, problem})
  }
  if (st.size > maxBytes) throw tooLarge(path, maxBytes, what)
}

function tooLarge(path: string, maxBytes: number, what: string): FileReadError {
  const problem = `is larger than ${maxBytes} bytes, so it is not one`
  return new FileReadError('FILE_TOO_LARGE', `${what} ${path} ${problem}`, {path, maxBytes, problem})
}
