/**
 * Issue 10 item 2: a client of the control socket cannot make the daemon wait on it or hold unbounded
 * memory. Real Unix sockets; bounded waits on counts, never timing assertions.
 */
import {mkdtempSync} from 'node:fs'
import {type Socket, connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Writable} from 'node:stream'

import {afterEach, describe, expect, it} from 'vitest'

import {callDaemon} from '../../src/control/client.js'
import {ControlServer, type ControlLimits} from '../../src/control/server.js'
import {createLogger} from '../../src/log/logger.js'

const BIG = Array.from({length: 2000}, (_, i) => ({
  portUuid: `port-${i}`,
  state: 'associated',
  vdpVlan: 100 + (i % 3000),
  failReason: null,
}))

let server: ControlServer | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await server?.close()
  server = undefined
})

async function start(limits: Partial<ControlLimits> = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'vdp-ctl-')), 'control.sock')
  const logs: Record<string, unknown>[] = []
  const log = createLogger({
    level: 'info',
    format: 'json',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        done()
      },
    }),
  })
  const calls = {list: 0, status: 0}
  server = new ControlServer(
    path,
    {
      'vsi.list': () => {
        calls.list++
        return BIG
      },
      status: () => {
        calls.status++
        return {ok: true}
      },
    },
    log,
    limits,
  )
  await server.listen()
  return {path, logs, calls}
}

/** A client that sends `n` pipelined requests and never reads its answers. */
async function greedyClient(path: string, n: number): Promise<Socket> {
  const s = connect(path)
  sockets.push(s)
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject))
  s.pause() // never read
  s.write(Array.from({length: n}, (_, i) => JSON.stringify({id: i + 1, method: 'vsi.list'}) + '\n').join(''))
  return s
}

const waitUntil = async (what: string, ok: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('control socket bounds', () => {
  it('300 pipelined vsi.list from a client that never reads: answers stop at the output bound, others are served', async () => {
    const {path, calls} = await start({maxPendingRequests: 1000, maxOutputBytes: 256 * 1024, stalledClientMs: 60_000})
    await greedyClient(path, 300)
    await waitUntil('the first answers', () => calls.list > 0)
    // Another client is answered while the greedy one holds its connection.
    expect(await callDaemon(path, 'status')).toEqual({ok: true})
    expect(await callDaemon(path, 'status')).toEqual({ok: true})
    // Before the fix every one of the 300 answers (about 150 KB each, 45 MB) was built and queued at once.
    // Now only the answers that fit into what the kernel and the output bound hold were built.
    expect(calls.list).toBeGreaterThan(0)
    expect(calls.list).toBeLessThan(300)
    const built = calls.list
    await new Promise((r) => setTimeout(r, 200))
    expect(calls.list).toBe(built) // and nothing more while it does not read
  })

  it('a client that resumes reading gets every answer, in order', async () => {
    const {path, calls} = await start({maxPendingRequests: 1000, maxOutputBytes: 64 * 1024, stalledClientMs: 60_000})
    const s = await greedyClient(path, 50)
    await waitUntil('the first answers', () => calls.list > 0)
    const ids: number[] = []
    let buf = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        ids.push((JSON.parse(buf.slice(0, nl)) as {id: number}).id)
        buf = buf.slice(nl + 1)
      }
    })
    s.resume()
    await waitUntil('50 answers', () => ids.length === 50)
    expect(ids).toEqual(Array.from({length: 50}, (_, i) => i + 1))
  })

  it('a client stalled past stalledClientMs is dropped with a clear log', async () => {
    const {path, logs} = await start({maxPendingRequests: 1000, maxOutputBytes: 64 * 1024, stalledClientMs: 300})
    const s = await greedyClient(path, 300)
    const closed = new Promise((r) => s.once('close', r))
    await waitUntil('drop logged', () => logs.some((l) => l.code === 'CLIENT_STALLED'))
    const line = logs.find((l) => l.code === 'CLIENT_STALLED')!
    expect(line.msg).toMatch(/^control client dropped: the client left \d+ bytes of answers unread for 300 ms/)
    s.resume()
    await closed
    expect(await callDaemon(path, 'status')).toEqual({ok: true})
  })

  it('a client holding unread answers without asking for more is dropped too (time-bounded, not only request-bounded)', async () => {
    const {path, logs, calls} = await start({maxOutputBytes: 1024, stalledClientMs: 300})
    // Two answers of ~150 KB: more than the kernel's socket buffer holds, and nothing left to ask.
    const s = await greedyClient(path, 2)
    const closed = new Promise((r) => s.once('close', r))
    await waitUntil('both answered', () => calls.list === 2)
    await waitUntil('drop logged', () => logs.some((l) => l.code === 'CLIENT_STALLED'))
    s.destroy()
    await closed
    expect(await callDaemon(path, 'status')).toEqual({ok: true})
  })

  it('more requests waiting than maxPendingRequests: the client is dropped, told why, and logged', async () => {
    const {path, logs, calls} = await start({maxPendingRequests: 100})
    const s = connect(path)
    sockets.push(s)
    let text = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => (text += d))
    const closed = new Promise((r) => s.once('close', r))
    s.write(Array.from({length: 500}, (_, i) => JSON.stringify({id: i + 1, method: 'status'}) + '\n').join(''))
    await closed
    expect(text).toContain('"code":"TOO_MANY_REQUESTS"')
    expect(text).toContain('more than 100 requests waiting on one connection; read the answers before sending more')
    expect(calls.status).toBeLessThanOrEqual(100)
    expect(logs.some((l) => l.code === 'TOO_MANY_REQUESTS' && String(l.msg).startsWith('control client dropped'))).toBe(
      true,
    )
  })

  it('connections over maxConnections are refused and logged; the others still work', async () => {
    const {path, logs} = await start({maxConnections: 3})
    const held = await Promise.all([0, 1, 2].map(() => greedyClient(path, 0)))
    expect(held).toHaveLength(3)
    const extra = connect(path)
    sockets.push(extra)
    await new Promise((r) => extra.once('close', r))
    await waitUntil('refusal logged', () => logs.some((l) => String(l.msg).includes('too many clients at once')))
    for (const s of held) s.destroy()
    await waitUntil('status answered', () => true)
    await new Promise((r) => setTimeout(r, 50))
    expect(await callDaemon(path, 'status')).toEqual({ok: true})
  })
})
