/**
 * Issue 11: our oslo.messaging layer (OsloRpc over RabbitTransport) against a real oslo.messaging 14 peer
 * (the Python stand-in of the DFA server) through a private RabbitMQ, in both directions; replies from a
 * server before oslo.messaging 9.2 (reply exchange); hostile and malformed payloads.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CallOutcome, DfaStandin, pyStr} from '../../src/lab/dfa-standin.js'
import {PrivateBroker, brokerPortFor} from '../../src/lab/rabbitmq.js'
import {createLogger} from '../../src/log/logger.js'
import {RemoteRpcError} from '../../src/rpc/oslo-envelope.js'
import {OsloRpc, type BadMessage, RpcEndpointError} from '../../src/rpc/oslo-rpc.js'
import {parsePayload} from '../../src/rpc/py-literal.js'
import {RabbitTransport} from '../../src/rpc/rabbit-transport.js'
import {parseBrokerUrl} from '../../src/rpc/transport-url.js'

const dir = mkdtempSync(join(tmpdir(), 'vdp-rpc-oslo-'))
const broker = new PrivateBroker({port: brokerPortFor(1)})
const log = createLogger({level: 'fatal', format: 'json'})
let standin: DfaStandin
let transport: RabbitTransport
let rpc: OsloRpc
const HOST = 'compute-t1'
const received: {method: string; args: Record<string, unknown>; ctx: Record<string, unknown>}[] = []
const bad: BadMessage[] = []

beforeAll(async () => {
  await broker.start()
  standin = new DfaStandin({
    url: broker.url.replace('amqp://', 'rabbit://'),
    record: join(dir, 'record.jsonl'),
    timeoutS: 5,
  })
  await standin.started()
  transport = new RabbitTransport({
    broker: parseBrokerUrl(broker.url),
    publishExchanges: [{exchange: 'dfa', type: 'topic', durable: false, autoDelete: false}],
  })
  rpc = new OsloRpc({transport, log, exchange: 'dfa', durable: false})
  rpc.onBadMessage((m) => bad.push(m))
  await rpc.startReplies()
  await rpc.serve(`dfa_agent_${HOST}`, HOST, {
    send_vm_info: (args, ctx) => {
      const vms = parsePayload(String(args.msg))
      received.push({method: 'send_vm_info', args: {vms}, ctx})
      return null
    },
    send_msg_to_agent: (args, ctx) => {
      received.push({method: 'send_msg_to_agent', args: {msg: JSON.parse(String(args.msg))}, ctx})
      return null
    },
    update_ip_rule: () => {
      throw new RpcEndpointError('RPC_NOT_SUPPORTED', 'update_ip_rule is not supported', 'NotImplementedError')
    },
  })
}, 120_000)

afterAll(async () => {
  await rpc?.close()
  await transport?.close()
  await standin?.stop()
  await broker.destroy()
  rmSync(dir, {recursive: true, force: true})
}, 60_000)

describe('agent -> oslo.messaging server', () => {
  it('calls return the server results and casts arrive, in upstream formats', async () => {
    expect(await rpc.call('dfa_server_q', 'request_uplink_info', {agent: HOST}, {}, 5000)).toBe(0)
    const uplink = JSON.stringify({agent: HOST, uplink: 'eth5', veth_intf: '', memb_port_list: null, fail_reason: ''})
    expect(await rpc.call('dfa_server_q', 'save_uplink', {msg: uplink}, {}, 5000)).toBe(true)
    const result = JSON.stringify({
      port_uuid: '11111111-2222-3333-4444-555555555555',
      result: 'SUCCESS',
      fail_reason: null,
      local_vlan: 100,
      vdp_vlan: 3001,
    })
    expect(await rpc.call('dfa_server_q', 'update_vm_result', {msg: result}, {agent: HOST}, 5000)).toBe(0)
    await rpc.cast('dfa_server_q', 'heartbeat', {msg: JSON.stringify({when: 'Mon Nov 30 15:10:07 2026', agent: HOST})})
    const hb = await standin.waitFor('heartbeat', () => standin.records('heartbeat')[0])
    expect(hb.parsed).toEqual({when: 'Mon Nov 30 15:10:07 2026', agent: HOST})
    expect(standin.records('update_vm_result')[0].ctxt).toMatchObject({agent: HOST})
  })

  it('an unknown method comes back as a remote NoSuchMethod; a raising endpoint as its exception', async () => {
    const err = await rpc.call('dfa_server_q', 'no_such_method', {}, {}, 5000).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteRpcError)
    expect((err as RemoteRpcError).failure.class).toBe('NoSuchMethod')
    await standin.fault('update_vm_result', 'raise', {count: 1})
    const err2 = await rpc
      .call('dfa_server_q', 'update_vm_result', {msg: '{"port_uuid": "x", "result": "SUCCESS"}'}, {}, 5000)
      .catch((e: unknown) => e)
    expect((err2 as RemoteRpcError).failure).toMatchObject({
      class: 'RuntimeError',
      message: 'injected failure in update_vm_result',
    })
  })

  it('a call to a topic nobody listens on fails at once (mandatory; oslo would wait for its timeout)', async () => {
    const t0 = Date.now()
    const err = await rpc
      .call('dfa_nobody_q', 'request_uplink_info', {agent: HOST}, {}, 20_000)
      .catch((e: unknown) => e)
    expect((err as {code: string}).code).toBe('RPC_NO_ROUTE')
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it('a server slower than the timeout gives RPC_TIMEOUT, and the late reply is dropped quietly', async () => {
    await standin.fault('update_vm_result', 'sleep', {seconds: 2, count: 1})
    const err = await rpc
      .call('dfa_server_q', 'update_vm_result', {msg: '{"port_uuid": "y", "result": "SUCCESS"}'}, {}, 800)
      .catch((e: unknown) => e)
    expect((err as {code: string}).code).toBe('RPC_TIMEOUT')
    await new Promise((r) => setTimeout(r, 2500))
    expect(rpc.pendingCalls).toBe(0)
  })
})

describe('oslo.messaging server -> agent', () => {
  const vm = {
    status: 'up',
    vm_mac: 'fa:16:3e:00:00:01',
    segmentation_id: 30001,
    host: HOST,
    port_uuid: '11111111-2222-3333-4444-555555555555',
    net_uuid: '66666666-7777-8888-9999-000000000000',
    oui: {
      ip_addr: '0.0.0.0',
      vm_name: 'vm-1',
      vm_uuid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      fwd_mod: 'anycast-gateway',
      oui_id: 'cisco',
    },
  }

  it('send_vm_info with one VM and a bulk list (Python str() text) reaches our endpoint; the caller gets None', async () => {
    const one = await standin.call(HOST, 'send_vm_info', pyStr(vm))
    expect(one).toMatchObject({result: null})
    const bulk = await standin.call(HOST, 'send_vm_info', pyStr([vm, {...vm, status: 'down'}]))
    expect(bulk).toMatchObject({result: null})
    const got = received.filter((r) => r.method === 'send_vm_info')
    expect(got[0].args.vms).toEqual(vm)
    expect((got[1].args.vms as unknown[]).length).toBe(2)
  })

  it('send_msg_to_agent carries the context type 1002', async () => {
    await standin.call(HOST, 'send_msg_to_agent', JSON.stringify({uplink: 'eth5', veth_intf: 'LLDPLeth5'}), {
      type: 1002,
    })
    expect(received.find((r) => r.method === 'send_msg_to_agent')).toMatchObject({
      ctx: {type: 1002},
      args: {msg: {uplink: 'eth5'}},
    })
  })

  it('update_ip_rule: the Python caller gets NotImplementedError; an unknown method NoSuchMethod', async () => {
    const r = await standin.call(
      HOST,
      'update_ip_rule',
      pyStr({ip: '10.0.0.5', mac: 'fa:16:3e:00:00:01', port: 'p', status: 'up'}),
    )
    expect(r.error_class).toBe('NotImplementedError')
    const r2 = await standin.call(HOST, 'no_such', '{}')
    expect(r2.error).toMatch(/NoSuchMethod|Endpoint does not support RPC method no_such/)
  })

  it('a payload eval() would execute is refused as a ValueError and executes nothing', async () => {
    const marker = join(dir, 'pwned')
    const hostile = `__import__('os').system('touch ${marker}')`
    const r: CallOutcome = await standin.call(HOST, 'send_vm_info', hostile)
    expect(r.error_class).toBe('ValueError')
    expect(r.error).toMatch(/not a Python literal/)
    expect(existsSync(marker)).toBe(false)
    expect(bad.some((b) => b.code === 'PY_LITERAL')).toBe(true)
    // the consumer carries on: the next message is served
    expect(await standin.call(HOST, 'send_vm_info', pyStr(vm))).toMatchObject({result: null})
  })

  it('undecodable bodies are dropped and reported, never requeued', async () => {
    const before = bad.length
    await transport.publish({exchange: 'dfa', routingKey: `dfa_agent_${HOST}`, body: Buffer.from('not json at all')})
    await transport.publish({
      exchange: 'dfa',
      routingKey: `dfa_agent_${HOST}`,
      body: Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"method\\": 42}"}'),
    })
    await standin.waitFor('two bad messages', () => bad.length >= before + 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(bad.length).toBe(before + 2) // not redelivered
    const out = await broker.ctl(['list_queues', 'name', 'messages'])
    expect(out).toMatch(new RegExp(`dfa_agent_${HOST}\\s+0`))
  })
})

describe('a server before oslo.messaging 9.2 (replies to the reply_<uuid> exchange)', () => {
  it('its replies arrive through our reply exchange binding', async () => {
    await standin.stop()
    standin = new DfaStandin({
      url: broker.url.replace('amqp://', 'rabbit://'),
      record: join(dir, 'record-pre92.jsonl'),
      pre92Replies: true,
      timeoutS: 5,
    })
    await standin.started()
    expect(await rpc.call('dfa_server_q', 'request_uplink_info', {agent: HOST}, {}, 5000)).toBe(0)
    expect(
      await rpc.call(
        'dfa_server_q',
        'save_uplink',
        {msg: JSON.stringify({agent: HOST, uplink: '', veth_intf: ''})},
        {},
        5000,
      ),
    ).toBe(true)
    // and it really used the exchange: a queue bound only to the default exchange would not have seen it
    const bindings = await broker.ctl(['list_bindings', 'source_name', 'destination_name'])
    expect(bindings).toContain(`${rpc.replyQueue}\t${rpc.replyQueue}`)
  })
})

describe('recovery by itself', () => {
  it('a client started before its broker, first host dead (failover list), connects when the broker comes up and its call goes through', async () => {
    const late = new PrivateBroker({port: brokerPortFor(3)})
    const url = `rabbit://guest:guest@127.0.0.1:1,guest:guest@127.0.0.1:${late.opts.port}/`
    const t = new RabbitTransport({
      broker: parseBrokerUrl(url),
      publishExchanges: [{exchange: 'dfa', type: 'topic', durable: false, autoDelete: false}],
      retryLowMs: 200,
      retryHighMs: 2000,
    })
    const r = new OsloRpc({transport: t, log, exchange: 'dfa', durable: false})
    let s: DfaStandin | undefined
    try {
      void r.startReplies()
      await new Promise((res) => setTimeout(res, 1000))
      expect(t.state.connected).toBe(false)
      expect(t.state.lastError ?? '').not.toContain('guest:guest')
      await late.start()
      s = new DfaStandin({
        url: `rabbit://guest:guest@127.0.0.1:${late.opts.port}/`,
        record: join(dir, 'record-late.jsonl'),
        timeoutS: 5,
      })
      await s.started()
      await s.waitFor('connected', () => t.state.connected, 30_000)
      expect(await r.call('dfa_server_q', 'request_uplink_info', {agent: HOST}, {}, 10_000)).toBe(0)
    } finally {
      await r.close()
      await t.close()
      await s?.stop()
      await late.destroy()
    }
  }, 120_000)
})
