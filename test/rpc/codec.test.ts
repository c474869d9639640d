import {describe, expect, it} from 'vitest'
import fc from 'fast-check'

import {ctime} from '../../src/rpc/ctime.js'
import {
  RpcWireError,
  decodeReply,
  decodeRequest,
  encodeCall,
  encodeCast,
  encodeReply,
  pyJsonDumps,
  unwrapEnvelope,
} from '../../src/rpc/oslo-envelope.js'
import {PyLiteralError, parsePayload, parsePyLiteral} from '../../src/rpc/py-literal.js'
import {parseSendVmInfo, parseServerUplink} from '../../src/rpc/server-messages.js'
import {describeBroker, parseBrokerUrl, redactCredentials} from '../../src/rpc/transport-url.js'
import {pyStr} from '../../src/lab/dfa-standin.js'

describe('Python literal parser', () => {
  it('reads what str(dict) of Python 2 and 3 writes', () => {
    expect(
      parsePyLiteral(
        `{'a': u'x', "b": 'it\\'s', 'n': 30001L, 'f': -1.5e3, 't': True, 'f2': False, 'z': None, 'l': [1, (2, 3)], 'h': 0x1F}`,
      ),
    ).toEqual({
      a: 'x',
      b: "it's",
      n: 30001,
      f: -1500,
      t: true,
      f2: false,
      z: null,
      l: [1, [2, 3]],
      h: 31,
    })
    expect(parsePyLiteral(`'\\x41\\u00e9\\U0001F600\\n\\t\\\\' "b"`)).toBe('Aé😀\n\t\\b')
    expect(parsePyLiteral(`r'a\\d'`)).toBe('a\\d')
    expect(parsePyLiteral(`{1: 'one'}`)).toEqual({'1': 'one'})
  })

  it('never evaluates: names, calls, operators and attribute access are errors', () => {
    for (const text of [
      `__import__('os').system('id')`,
      `{'a': open('/etc/passwd')}`,
      `[1 + 2]`,
      `{'a': x}`,
      `lambda: 1`,
      `{'a': 1}.keys()`,
      `"a" if True else "b"`,
    ]) {
      expect(() => parsePyLiteral(text), text).toThrow(PyLiteralError)
    }
  })

  it('bounds depth and length, and cannot pollute a prototype', () => {
    expect(() => parsePyLiteral('['.repeat(100) + ']'.repeat(100))).toThrow(/nesting deeper/)
    expect(() => parsePyLiteral(`'${'a'.repeat(100)}'`, {maxLength: 50})).toThrow(/longer than/)
    const o = parsePyLiteral(`{'__proto__': {'polluted': True}}`) as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype)
    expect(Object.keys(o)).toEqual(['__proto__'])
  })

  it('accepts JSON as well', () => {
    expect(parsePayload('{"a": true, "b": null, "c": [1.5]}')).toEqual({a: true, b: null, c: [1.5]})
  })

  it('round-trips what our pyStr (the stand-in side) writes, for arbitrary JSON-like values', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      node: fc.oneof(
        {depthSize: 'small'},
        tie('leaf'),
        fc.array(tie('node'), {maxLength: 4}),
        fc.dictionary(fc.string(), tie('node'), {maxKeys: 4}),
      ),
    })).node
    fc.assert(
      fc.property(value, (v) => {
        expect(parsePyLiteral(pyStr(v))).toEqual(v)
      }),
    )
  })

  it('never throws anything but PyLiteralError on random text', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 200}), (s) => {
        try {
          parsePyLiteral(s)
        } catch (err) {
          expect(err).toBeInstanceOf(PyLiteralError)
        }
      }),
    )
  })
})

describe('oslo 2.0 envelope', () => {
  it('writes the captured cast byte for byte (Python json.dumps separators)', () => {
    const body = encodeCast(
      'heartbeat',
      {msg: '{"when": "Mon Nov 30 15:10:07 2026", "agent": "compute-1"}'},
      {},
      '427029528b214a7fb3982d6437c32bfb',
    ).toString()
    expect(body).toBe(
      '{"oslo.version": "2.0", "oslo.message": "{\\"method\\": \\"heartbeat\\", \\"args\\": {\\"msg\\": \\"{\\\\\\"when\\\\\\": \\\\\\"Mon Nov 30 15:10:07 2026\\\\\\", \\\\\\"agent\\\\\\": \\\\\\"compute-1\\\\\\"}\\"}, \\"_unique_id\\": \\"427029528b214a7fb3982d6437c32bfb\\"}"}',
    )
  })

  it('a call carries _msg_id, _reply_q, _timeout null and the flattened context; decode reads it back', () => {
    const inner = unwrapEnvelope(encodeCall('update_vm_result', {msg: '{}'}, 'reply_abc', {agent: 'h'}, 'm1', 'u1'))
    expect(Object.keys(inner)).toEqual([
      'method',
      'args',
      '_msg_id',
      '_reply_q',
      '_timeout',
      '_unique_id',
      '_context_agent',
    ])
    expect(decodeRequest(inner)).toEqual({
      method: 'update_vm_result',
      args: {msg: '{}'},
      context: {agent: 'h'},
      uniqueId: 'u1',
      msgId: 'm1',
      replyQueue: 'reply_abc',
    })
  })

  it('replies: one message with ending, failures as a JSON string, pre-4.0 two-message form', () => {
    const r = decodeReply(unwrapEnvelope(encodeReply('m1', 0, null)))
    expect(r).toEqual({msgId: 'm1', result: 0, failure: null, ending: true})
    const f = decodeReply(
      unwrapEnvelope(encodeReply('m1', null, {class: 'ValueError', module: 'builtins', message: 'bad', tb: []})),
    )
    expect(f.failure).toMatchObject({class: 'ValueError', message: 'bad'})
    expect(decodeReply({_msg_id: 'm', result: true, failure: null})).toMatchObject({ending: false, result: true})
  })

  it('non-ASCII is escaped as Python does', () => {
    expect(pyJsonDumps({a: 'é'})).toBe('{"a": "\\u00e9"}')
  })

  it('malformed envelopes are typed errors', () => {
    for (const b of [
      'nope',
      '[]',
      '{"oslo.version": "3.0", "oslo.message": "{}"}',
      '{"oslo.version": "2.0", "oslo.message": 5}',
      '{"oslo.version": "2.0", "oslo.message": "[1]"}',
    ]) {
      expect(() => unwrapEnvelope(b), b).toThrow(RpcWireError)
    }
    expect(() => decodeRequest({method: 'x y'})).toThrow(RpcWireError)
    expect(() => decodeRequest({method: 'm', _msg_id: 'a', _reply_q: 'bad queue'})).toThrow(RpcWireError)
  })
})

describe('broker URL', () => {
  it('reads oslo transport_url with several hosts and hides the credentials', () => {
    const a = parseBrokerUrl('rabbit://dfa:s%40cret@rabbit1:5672,dfa:s%40cret@rabbit2:5673/')
    expect(a).toEqual({
      hosts: [
        {hostname: 'rabbit1', port: 5672},
        {hostname: 'rabbit2', port: 5673},
      ],
      username: 'dfa',
      password: 's@cret',
      vhost: '/',
      tls: false,
    })
    expect(describeBroker(a)).toBe('amqp://rabbit1:5672,rabbit2:5673/')
    expect(parseBrokerUrl('rabbit://u:p@h:5672//').vhost).toBe('/')
    expect(parseBrokerUrl('amqps://u:p@h/vh').tls).toBe(true)
    expect(parseBrokerUrl('rabbit://u:p@h/?ssl=1').tls).toBe(true)
    expect(redactCredentials('rabbit://u:p@h1:1,u:p@h2:2/ failed')).toBe('rabbit://h1:1,h2:2/ failed')
  })

  it('refuses what one connection cannot do', () => {
    expect(() => parseBrokerUrl('rabbit://a:1@h1,b:2@h2/')).toThrow(/same user/)
    expect(() => parseBrokerUrl('http://h/')).toThrow(/rabbit:\/\//)
    expect(() => parseBrokerUrl('rabbit://u:p@h:99999/')).toThrow(/port/)
  })
})

describe('server payloads', () => {
  const vm = {
    status: 'up',
    vm_mac: 'fa:16:3e:00:00:01',
    segmentation_id: 30001,
    host: 'compute-1',
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

  it('send_vm_info: one dict or a list; each entry validated on its own', () => {
    const one = parseSendVmInfo(pyStr(vm), 'compute-1')
    expect(one.bulk).toBe(false)
    expect(one.entries[0]).toMatchObject({
      ok: true,
      status: 'up',
      port: {portUuid: vm.port_uuid, segmentationId: 30001, vmUuid: 'a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90', ipv4: null},
    })
    const bulk = parseSendVmInfo(
      pyStr([
        vm,
        {...vm, segmentation_id: 0, port_uuid: '11111111-2222-3333-4444-000000000000'},
        {...vm, status: 'down'},
        {...vm, host: 'other'},
      ]),
      'compute-1',
    )
    expect(bulk.entries.map((e) => e.ok)).toEqual([true, false, true, false])
    expect(bulk.entries[1]).toMatchObject({ok: false, reason: /segmentationId/})
    expect(bulk.entries[3]).toMatchObject({ok: false, reason: /for host "other"/})
  })

  it('send_msg_to_agent 1002: the uplink JSON', () => {
    expect(parseServerUplink('{"uplink": "eth5", "veth_intf": "LLDPLeth5"}')).toEqual({
      uplink: 'eth5',
      vethIntf: 'LLDPLeth5',
    })
    expect(parseServerUplink('{"uplink": ""}')).toEqual({uplink: null, vethIntf: null})
    expect(() => parseServerUplink('{"uplink": "../../etc"}')).toThrow(/interface name/)
  })
})

describe('time.ctime()', () => {
  it('pads the day with a space, like Python', () => {
    expect(ctime(new Date(2026, 10, 3, 9, 4, 5))).toBe('Tue Nov  3 09:04:05 2026')
    expect(ctime(new Date(2026, 10, 30, 15, 10, 7))).toBe('Mon Nov 30 15:10:07 2026')
  })
})

describe('Python literal parser against real Python str()', () => {
  it('reads what /usr/bin/python3 writes for tricky values (quotes, escapes, unicode, big ints, floats)', async () => {
    const {execFileSync} = await import('node:child_process')
    const script = [
      'import json, sys',
      'vals = [{"q": "it\'s \\"x\\"", "nl": "a\\nb\\tc\\\\d", "u": "\\u00e9\\u4e2d\\U0001F600", "ctl": "\\x00\\x07\\x7f", "big": 2**53 - 1, "neg": -30001,',
      '         "f": 1.5e-07, "g": 1e22, "t": (1, "two", None), "nested": [{"a": [True, False]}], 1: "int key"}]',
      'print(str(vals))',
      'print(json.dumps(vals, default=list))',
    ].join('\n')
    const [pyText, jsonText] = execFileSync('/usr/bin/python3', ['-c', script], {encoding: 'utf8'}).trim().split('\n')
    expect(parsePyLiteral(pyText)).toEqual(JSON.parse(jsonText))
  })
})
