/** The VDPDU packer the station and the simulator's bridge share: one Manager ID per VDPDU, FIFO per manager, the MTU budget. */
import {describe, expect, it} from 'vitest'
import {managerIdFromText} from '../../src/vdp/manager-id.js'
import {decodeVdpdu} from '../../src/vdp/vdp-codec.js'
import {MANAGER_ID_TLV_LENGTH, VdpduPacker, type PackableVsi} from '../../src/vdp/vdpdu-packer.js'

interface Item extends PackableVsi {
  readonly name: string
  /** Octets the item encodes to (a 2-octet org TLV header + padding, so the VDPDU decodes). */
  size: number
  queued: boolean
  queueToken: number
}

const MANAGERS = {a: managerIdFromText('managerA'), b: managerIdFromText('managerB')}

function item(name: string, size = 10, manager: keyof typeof MANAGERS = 'a'): Item {
  return {name, size, managerKey: manager, managerId: MANAGERS[manager], queued: true, queueToken: 1}
}

/** An org TLV (type 127) of `size` octets in all, header included. */
function encode(it: Item): Buffer {
  const tlv = Buffer.alloc(it.size)
  tlv.writeUInt16BE((127 << 9) | (it.size - 2), 0)
  tlv.write('\x00\x00\x0c', 2, 'latin1')
  return tlv
}

function drain(packer: VdpduPacker<Item>, maxItems = Number.POSITIVE_INFINITY): {names: string[]; ulpdu: Buffer}[] {
  const out: {names: string[]; ulpdu: Buffer}[] = []
  for (let pdu = packer.take(maxItems, encode); pdu !== undefined; pdu = packer.take(maxItems, encode)) {
    out.push({names: pdu.items.map((i) => i.name), ulpdu: pdu.ulpdu})
  }
  return out
}

describe('VdpduPacker', () => {
  it('packs one manager per VDPDU: its Manager ID TLV first, its items in FIFO order, then the End TLV', () => {
    const packer = new VdpduPacker<Item>({budget: 1494, endTlv: true})
    for (const i of [item('a1'), item('b1', 10, 'b'), item('a2'), item('b2', 10, 'b')]) packer.push(i)
    const pdus = drain(packer)
    expect(pdus.map((p) => p.names)).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ])
    const first = decodeVdpdu(pdus[0].ulpdu)
    expect(first.tlvs[0]).toEqual({kind: 'manager-id', managerId: MANAGERS.a})
    expect(first.endTlv).toBe(true)
    expect(pdus[0].ulpdu.length).toBe(MANAGER_ID_TLV_LENGTH + 20 + 2)
    expect(decodeVdpdu(pdus[1].ulpdu).tlvs[0]).toEqual({kind: 'manager-id', managerId: MANAGERS.b})
  })

  it('leaves the End TLV out when the peer does not want it', () => {
    const packer = new VdpduPacker<Item>({budget: 1494, endTlv: false})
    packer.push(item('a1'))
    const [pdu] = drain(packer)
    expect(pdu.ulpdu.length).toBe(MANAGER_ID_TLV_LENGTH + 10)
    expect(decodeVdpdu(pdu.ulpdu).endTlv).toBe(false)
  })

  it('fills up to the budget exactly (End TLV not counted) and starts a new VDPDU past it', () => {
    const budget = MANAGER_ID_TLV_LENGTH + 3 * 10
    const packer = new VdpduPacker<Item>({budget, endTlv: true})
    expect(packer.maxGroupLength).toBe(30)
    for (let i = 1; i <= 7; i++) packer.push(item(`a${i}`))
    const pdus = drain(packer)
    expect(pdus.map((p) => p.names.length)).toEqual([3, 3, 1])
    expect(pdus[0].ulpdu.length).toBe(budget + 2)
  })

  it('sends an item larger than the budget alone rather than never', () => {
    const packer = new VdpduPacker<Item>({budget: MANAGER_ID_TLV_LENGTH + 20, endTlv: true})
    for (const i of [item('small'), item('big', 40), item('small2')]) packer.push(i)
    expect(drain(packer).map((p) => p.names)).toEqual([['small'], ['big'], ['small2']])
  })

  it('takes at most maxItems per VDPDU, and nothing for maxItems < 1', () => {
    const packer = new VdpduPacker<Item>({budget: 1494, endTlv: true})
    for (let i = 1; i <= 5; i++) packer.push(item(`a${i}`))
    expect(packer.take(0, encode)).toBeUndefined()
    expect(drain(packer, 2).map((p) => p.names)).toEqual([['a1', 'a2'], ['a3', 'a4'], ['a5']])
  })

  it('skips items withdrawn (queued false) or queued again since (new token), and encodes at take time', () => {
    const packer = new VdpduPacker<Item>({budget: 1494, endTlv: true})
    const [withdrawn, requeued, kept] = [item('withdrawn'), item('requeued'), item('kept')]
    for (const i of [withdrawn, requeued, kept]) packer.push(i)
    withdrawn.queued = false
    requeued.queueToken = 2
    packer.push(requeued)
    kept.size = 12
    const [pdu, ...rest] = drain(packer)
    expect(rest).toEqual([])
    expect(pdu.names).toEqual(['kept', 'requeued'])
    expect(pdu.ulpdu.length).toBe(MANAGER_ID_TLV_LENGTH + 12 + 10 + 2)
    expect(packer.take(10, encode)).toBeUndefined()
  })
})
