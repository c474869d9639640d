import {readFileSync} from 'node:fs'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  decodeLinkMessage,
  decodeNetlinkErrno,
  encodeLinkMessagePayload,
  encodeNetlinkMessage,
  linkDumpRequest,
  parseNetlinkMessages,
  NetlinkDecodeError,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  type RtLinkMessage,
} from '../../src/net/rtnetlink.js'

const recording = JSON.parse(readFileSync(new URL('./fixtures/rtnl-link-recording.json', import.meta.url), 'utf8')) as {
  steps: {label: string; raw: string[]}[]
}

function decodeDatagram(hex: string): RtLinkMessage[] {
  return parseNetlinkMessages(Buffer.from(hex, 'hex'))
    .filter((m) => m.type === RTM_NEWLINK || m.type === RTM_DELLINK)
    .map((m) => decodeLinkMessage(m.type, m.payload))
}

describe('netlink framing', () => {
  it('builds an RTM_GETLINK dump request the kernel accepts (header fields, AF_UNSPEC ifinfomsg)', () => {
    const req = linkDumpRequest(42)
    expect(req.length).toBe(32)
    const [m] = parseNetlinkMessages(req)
    expect(m).toMatchObject({type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 42, pid: 0})
    expect(m!.payload).toEqual(Buffer.alloc(16))
  })

  it('splits a datagram holding several messages, honouring 4-byte alignment', () => {
    const a = encodeNetlinkMessage({type: 3, flags: 2, seq: 7, payload: Buffer.from([1, 2, 3])}) // 19 -> padded to 20
    const b = encodeNetlinkMessage({type: 2, flags: 0, seq: 8, payload: Buffer.alloc(4)})
    const messages = parseNetlinkMessages(Buffer.concat([a, b]))
    expect(messages.map((m) => [m.type, m.seq, m.payload.length])).toEqual([
      [3, 7, 3],
      [2, 8, 4],
    ])
  })

  it('reads NLMSG_ERROR as a positive errno', () => {
    const payload = Buffer.alloc(20)
    payload.writeInt32LE(-22, 0)
    expect(decodeNetlinkErrno(payload)).toBe(22)
  })

  it('rejects a length that runs past the datagram', () => {
    const m = encodeNetlinkMessage({type: 16, flags: 0, seq: 1, payload: Buffer.alloc(16)})
    m.writeUInt32LE(200, 0)
    expect(() => parseNetlinkMessages(m)).toThrow(NetlinkDecodeError)
  })
})

describe('link messages', () => {
  it('decodes every datagram recorded from the kernel (veth, bridge, macvlan; enslave, release, rename, delete)', () => {
    const all = recording.steps.flatMap((s) => s.raw.flatMap(decodeDatagram))
    expect(all.length).toBeGreaterThan(15)
    const created = all.find((m) => m.name === 'h0' && m.type === 'newlink')!
    expect(created).toMatchObject({family: 0, kind: 'veth', mac: '02:00:00:00:01:01', mtu: 1500, linkType: 1})
    expect(created.linkNetnsId).toBeDefined() // its peer lives in another namespace
    const enslaved = all.find((m) => m.name === 'h0' && m.master !== undefined && m.family === 0)!
    expect(enslaved).toMatchObject({slaveKind: 'bridge', kind: 'veth'})
    expect(all.some((m) => m.family === 7 && m.type === 'dellink' && m.name === 'h0')).toBe(true) // the release quirk
    expect(all.find((m) => m.name === 'mv0')).toMatchObject({kind: 'macvlan', mac: '02:00:00:00:01:10'})
    expect(all.filter((m) => m.type === 'dellink' && m.family === 0).map((m) => m.name)).toEqual(['mv0', 'h0x'])
  })

  it('round-trips a bond slave with bond-specific data through encode and decode', () => {
    const slave: RtLinkMessage = {
      type: 'newlink',
      family: 0,
      index: 3,
      linkType: 1,
      flags: 0x11843,
      name: 'ens1f1',
      mac: '3c:fd:fe:00:00:01',
      permanentMac: '3c:fd:fe:00:00:02',
      mtu: 9000,
      master: 7,
      operstate: 6,
      carrier: true,
      slaveKind: 'bond',
      parentDevice: '0000:3b:00.1',
      parentBus: 'pci',
      bondSlave: {state: 1, miiStatus: 0, permanentMac: '3c:fd:fe:00:00:02'},
    }
    expect(decodeLinkMessage(RTM_NEWLINK, encodeLinkMessagePayload(slave))).toEqual(slave)
    const bond: RtLinkMessage = {
      type: 'dellink',
      family: 0,
      index: 7,
      linkType: 1,
      flags: 0x1403,
      name: 'bond0',
      kind: 'bond',
      bond: {mode: 1, activeSlaveIndex: 2},
    }
    expect(decodeLinkMessage(RTM_DELLINK, encodeLinkMessagePayload(bond))).toEqual(bond)
  })

  it('ignores attributes it does not know and kind data of other kinds', () => {
    const payload = encodeLinkMessagePayload({
      type: 'newlink',
      family: 0,
      index: 2,
      linkType: 1,
      flags: 0,
      name: 'x',
      kind: 'bridge',
    })
    const unknown = Buffer.from([8, 0, 0x7f, 0x00, 1, 2, 3, 4]) // attribute type 127, 4 bytes
    expect(decodeLinkMessage(RTM_NEWLINK, Buffer.concat([payload, unknown]))).toMatchObject({name: 'x', kind: 'bridge'})
  })

  it('refuses non-link types and short headers', () => {
    expect(() => decodeLinkMessage(RTM_GETLINK, Buffer.alloc(16))).toThrow(NetlinkDecodeError)
    expect(() => decodeLinkMessage(RTM_NEWLINK, Buffer.alloc(15))).toThrow(NetlinkDecodeError)
  })

  it('throws only NetlinkDecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), (bytes) => {
        for (const decode of [
          () => parseNetlinkMessages(Buffer.from(bytes)),
          () => decodeLinkMessage(RTM_NEWLINK, Buffer.from(bytes)),
        ]) {
          try {
            decode()
          } catch (err) {
            if (!(err instanceof NetlinkDecodeError)) throw err
          }
        }
      }),
      {numRuns: 2000},
    )
  })

  it('throws only NetlinkDecodeError when a recorded message is truncated or corrupted anywhere', () => {
    const real = Buffer.from(recording.steps[0]!.raw[0]!, 'hex')
    fc.assert(
      fc.property(fc.nat(real.length - 1), fc.nat(255), fc.nat(real.length), (at, byte, cut) => {
        const damaged = Buffer.from(real)
        damaged[at] = byte
        try {
          for (const m of parseNetlinkMessages(damaged.subarray(0, cut))) decodeLinkMessage(RTM_NEWLINK, m.payload)
        } catch (err) {
          if (!(err instanceof NetlinkDecodeError)) throw err
        }
      }),
      {numRuns: 2000},
    )
  })
})
