/** The header scan agrees with the full decoder on every corpus frame, and never throws. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {decodeLldpFrame, LldpDecodeError, scanLldpHeader} from '../../src/lldp/index.js'
import {allCaptures, HAVE_THIRD_PARTY, readFrames} from './corpus.js'
import {CHASSIS, END, frame, PORT, TTL, tlv} from './frames.js'

describe('scanLldpHeader', () => {
  it('agrees with decodeLldpFrame on every frame of every capture', async () => {
    let scanned = 0
    let withEvb = 0
    for (const pcap of allCaptures()) {
      for (const {data, linkType, number} of await readFrames(pcap)) {
        if (linkType !== 1) continue
        const where = `${pcap} frame ${number}`
        const scan = scanLldpHeader(data)
        let strictOk = true
        try {
          decodeLldpFrame(data, {strict: true})
        } catch (err) {
          expect(err, where).toBeInstanceOf(LldpDecodeError)
          strictOk = false
        }
        if (strictOk) expect(scan, `${where}: a strictly valid frame must scan`).not.toBeNull()
        if (!scan) continue
        scanned++
        const full = decodeLldpFrame(data)
        expect([scan.dst, scan.src, scan.vlanTags], where).toEqual([full.dst, full.src, full.vlanTags])
        expect(scan.chassisId, where).toEqual(full.chassisId)
        expect(scan.portId, where).toEqual(full.portId)
        expect([scan.ttl, scan.isShutdown], where).toEqual([full.ttl, full.isShutdown])
        expect(scan.evb, where).toEqual(full.evb)
        if (scan.evbOffset >= 0) {
          withEvb++
          expect(data.subarray(scan.evbOffset, scan.evbOffset + 6).toString('hex')).toBe('fe090080c20d')
        }
        expect(scan.tlvChainComplete, where).toBe(!full.warnings.some((w) => w.rule === 'tlv-overrun'))
      }
    }
    // Our own captures alone have about 50 frames; with the shared corpus there are over 500.
    expect(scanned).toBeGreaterThan(HAVE_THIRD_PARTY ? 500 : 40)
    expect(withEvb).toBeGreaterThan(HAVE_THIRD_PARTY ? 300 : 10)
  })

  it('returns null for non-LLDP frames and bad mandatory TLVs', () => {
    expect(scanLldpHeader(Buffer.alloc(0))).toBeNull()
    expect(scanLldpHeader(Buffer.from('0180c200000e5254005024400800450000', 'hex'))).toBeNull()
    expect(scanLldpHeader(frame(PORT, CHASSIS, TTL, END))).toBeNull()
    expect(scanLldpHeader(frame(CHASSIS, PORT))).toBeNull()
    expect(scanLldpHeader(frame(CHASSIS, PORT, tlv(3, '00')))).toBeNull()
  })

  it('finds the first well-formed EVB TLV only', () => {
    const badEvb = tlv(127, '0080c20d' + '0200685414' + '00') // length 10: not an EVB TLV the scan reports
    const goodEvb = tlv(127, '0080c20d' + '0305687434')
    const scan = scanLldpHeader(frame(CHASSIS, PORT, TTL, badEvb, goodEvb, END))!
    expect(scan.evb).toMatchObject({rrstat: 1, mode: 'bridge'})
    expect(scan.msapKey).toBe('04525400502440/0565746830')
    expect(JSON.parse(JSON.stringify(scan))).toMatchObject({
      ttl: 120,
      evbOffset: scan.evbOffset,
      tlvChainComplete: true,
    })
  })

  it('never throws, whatever the octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), fc.boolean(), (bytes, lldp) => {
        const data = Buffer.from(bytes)
        if (lldp && data.length >= 14) data.writeUInt16BE(0x88cc, 12)
        const scan = scanLldpHeader(data)
        if (scan) {
          expect(() => [
            scan.dst,
            scan.src,
            scan.chassisId,
            scan.portId,
            scan.evb,
            scan.vlanTags,
            scan.msapKey,
          ]).not.toThrow()
        }
      }),
      {numRuns: 2000},
    )
  })
})
