import {mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Worker} from 'node:worker_threads'

import {describe, expect, it} from 'vitest'

import {clearOverrideFile, readOverrideFile, writeOverrideFile} from '../../src/uplink/override-file.js'

const tempDir = () => mkdtempSync(join(tmpdir(), 'vdp-override-'))

describe('uplink override file', () => {
  it('writes, reads back and clears', () => {
    const path = join(tempDir(), 'etc', 'uplink-override')
    expect(readOverrideFile(path)).toBeUndefined()
    writeOverrideFile(path, 'eth5')
    expect(readOverrideFile(path)).toBe('eth5')
    expect(readdirSync(join(path, '..'))).toEqual(['uplink-override']) // no temporary file left behind
    expect(clearOverrideFile(path)).toBe(true)
    expect(clearOverrideFile(path)).toBe(false)
    expect(readOverrideFile(path)).toBeUndefined()
  })

  it('refuses to write an invalid interface name', () => {
    const path = join(tempDir(), 'uplink-override')
    expect(() => writeOverrideFile(path, 'eth0; reboot')).toThrow(expect.objectContaining({code: 'INVALID_IFNAME'}))
    expect(readOverrideFile(path)).toBeUndefined()
  })

  it('accepts comments and surrounding blank lines', () => {
    const path = join(tempDir(), 'uplink-override')
    writeFileSync(path, '# pinned by ops, ticket 42\n\n  bond0  \n\n')
    expect(readOverrideFile(path)).toBe('bond0')
  })

  const garbage: [string, string | Buffer, RegExp][] = [
    ['empty', '', /holds no interface name/],
    ['only comments', '# nothing\n', /holds no interface name/],
    ['two names', 'eth0\neth1\n', /holds 2 lines, expected exactly one interface name/],
    ['binary', Buffer.from([0x65, 0x74, 0x68, 0x00, 0xff, 0x0a]), /contains binary data/],
    ['not an interface name', 'eth0/1\n', /invalid interface name "eth0\/1"/],
    ['too long', 'averyveryverylongname\n', /longer than 15 bytes/],
    ['huge', 'x'.repeat(10_000), /larger than 4096 bytes/],
  ]
  for (const [name, content, message] of garbage) {
    it(`garbage gives a typed error: ${name}`, () => {
      const path = join(tempDir(), 'uplink-override')
      writeFileSync(path, content)
      let caught: unknown
      try {
        readOverrideFile(path)
      } catch (err) {
        caught = err
      }
      expect(caught).toMatchObject({code: 'OVERRIDE_INVALID', message: expect.stringMatching(message)})
      expect((caught as Error).message).toContain(path)
    })
  }

  it('is atomic: a concurrent reader only ever sees a complete old or new file', async () => {
    const path = join(tempDir(), 'uplink-override')
    writeOverrideFile(path, 'eth0')
    // The reader runs on its own thread, reading as fast as it can while this thread rewrites the file.
    const worker = new Worker(
      `const {readFileSync} = require('node:fs'); const {parentPort, workerData} = require('node:worker_threads');
       const seen = {}; let stop = false; parentPort.on('message', () => { stop = true });
       (function loop() { for (let i = 0; i < 200; i++) { let t; try { t = readFileSync(workerData, 'utf8') } catch (e) { t = 'ERROR ' + e.code }
         const name = t.split('\\n').filter(l => l && !l.startsWith('#')).join('|'); seen[name] = (seen[name] || 0) + 1 }
         if (stop) parentPort.postMessage(seen); else setImmediate(loop) })()`,
      {eval: true, workerData: path},
    )
    for (let i = 0; i < 400; i++) writeOverrideFile(path, i % 2 ? 'eth0' : 'bond12')
    const seen = await new Promise<Record<string, number>>((resolve) => {
      worker.once('message', resolve)
      worker.postMessage('stop')
    })
    await worker.terminate()
    expect(Object.keys(seen).sort()).toEqual(expect.arrayContaining(['eth0']))
    for (const name of Object.keys(seen)) expect(['eth0', 'bond12']).toContain(name)
  })
})
