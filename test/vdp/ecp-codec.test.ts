import {describe, expect, it} from 'vitest'
import {decodeEcpFrame, encodeEcpFrame, ulpduBudget} from '../../src/vdp/ecp-codec.js'
import {EcpDecodeError, VdpEncodeError} from '../../src/vdp/errors.js'
import {
  ASSOC_DEASSOC_PCAP,
  BRIDGE_MAC,
  ecpFrames,
  KEEPALIVE_PCAP,
  LLDPD_PLUS_LLDPAD_PCAP,
  STATION_MAC,
} from './helpers/corpus.js'

const captures = [ASSOC_DEASSOC_PCAP, KEEPALIVE_PCAP, LLDPD_PLUS_LLDPAD_PCAP]

describe('ECP22 frame codec', () => {
  it('decodes the first exchange of the assoc/deassoc capture field by field', () => {
    const [request, ack, response, stationAck] = ecpFrames(ASSOC_DEASSOC_PCAP).map((r) => decodeEcpFrame(r.frame))
    expect(request).toMatchObject({
      dst: '01:80:c2:00:00:00',
      src: STATION_MAC,
      version: 1,
      operation: 'request',
      subtype: 1,
      sequence: 1,
    })
    expect(request.ulpdu).toHaveLength(71 - 18)
    // lldpad's ACK: 18 octets, unpadded, the request's header with operation = ACK.
    expect(ack).toMatchObject({src: BRIDGE_MAC, operation: 'ack', subtype: 1, sequence: 1})
    expect(ack.ulpdu).toHaveLength(0)
    // The bridge's response travels as a request in its own direction, with its own counter starting at 1.
    expect(response).toMatchObject({src: BRIDGE_MAC, operation: 'request', sequence: 1})
    expect(stationAck).toMatchObject({src: STATION_MAC, operation: 'ack', sequence: 1})
  })

  it('re-encodes every ECP frame of the three lldpad captures byte for byte', () => {
    let count = 0
    for (const path of captures) {
      for (const {frame} of ecpFrames(path)) {
        const decoded = decodeEcpFrame(frame)
        expect(encodeEcpFrame(decoded).equals(frame)).toBe(true)
        count++
      }
    }
    expect(count).toBe(8 + 52 + 4)
  })

  it('pads to the Ethernet minimum on request and keeps trailing padding as ULPDU octets', () => {
    const frame = encodeEcpFrame({
      dst: '01:80:c2:00:00:00',
      src: STATION_MAC,
      operation: 'ack',
      subtype: 1,
      sequence: 0xfffe,
      padTo: 60,
    })
    expect(frame).toHaveLength(60)
    expect(frame.subarray(14, 18).toString('hex')).toBe('1401fffe')
    const decoded = decodeEcpFrame(frame)
    expect(decoded.ulpdu).toHaveLength(42)
    expect(encodeEcpFrame(decoded).equals(frame)).toBe(true)
  })

  it('keeps unknown versions and subtypes visible for the transport to reject', () => {
    const f = Buffer.from('0180c2000000020000000001894010 0f12240000'.replace(/ /g, ''), 'hex')
    expect(decodeEcpFrame(f)).toMatchObject({version: 1, subtype: 0x0f, sequence: 0x1224})
    const g = Buffer.from('0180c20000000200000000018940f00112240000', 'hex')
    expect(decodeEcpFrame(g)).toMatchObject({version: 0xf, subtype: 1})
  })

  it('throws EcpDecodeError for short frames and other EtherTypes', () => {
    expect(() => decodeEcpFrame(Buffer.alloc(17))).toThrow(EcpDecodeError)
    const lldp = Buffer.alloc(60)
    lldp.writeUInt16BE(0x88cc, 12)
    expect(() => decodeEcpFrame(lldp)).toThrow(/not ECP22/)
    try {
      decodeEcpFrame(lldp)
    } catch (e) {
      expect((e as EcpDecodeError).code).toBe('ECP_BAD_ETHERTYPE')
    }
  })

  it('refuses to encode fields that do not fit', () => {
    const base = {dst: '01:80:c2:00:00:00', src: STATION_MAC, operation: 'request' as const, subtype: 1, sequence: 1}
    expect(() => encodeEcpFrame({...base, sequence: 0x10000})).toThrow(VdpEncodeError)
    expect(() => encodeEcpFrame({...base, subtype: 1024})).toThrow(VdpEncodeError)
  })

  it('leaves 1494 octets of ULPDU at MTU 1500 (2 kept for an End TLV)', () => {
    expect(ulpduBudget(1500)).toBe(1494)
  })
})
