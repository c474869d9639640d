/** encode(decode(frame)) is the frame, for every LLDP frame in the corpus and the fixtures. */
import {describe, expect, it} from 'vitest'
import {decodeLldpFrame, encodeLldpdu, encodeLldpFrame, LldpDecodeError} from '../../src/lldp/index.js'
import {allCaptures, HAVE_THIRD_PARTY, isLldpFrame, readFrames} from './corpus.js'

describe('byte-exact round trip', () => {
  it('every LLDP frame in the corpus decodes and re-encodes to the same octets', async () => {
    let decoded = 0
    let rejected = 0
    const kinds = new Set<string>()
    for (const pcap of allCaptures()) {
      for (const f of (await readFrames(pcap)).filter(isLldpFrame)) {
        let frame
        try {
          frame = decodeLldpFrame(f.data)
        } catch (err) {
          // Only frames without usable chassis/port/TTL (systemd's incomplete frame, tcpdump's fuzz frames).
          expect(err).toBeInstanceOf(LldpDecodeError)
          expect((err as LldpDecodeError).rule).toBe('mandatory-tlv-missing')
          rejected++
          continue
        }
        decoded++
        for (const t of frame.tlvs) kinds.add(t.kind)
        expect(encodeLldpFrame(frame).toString('hex'), `${pcap} frame ${f.number}`).toBe(f.data.toString('hex'))
        expect(encodeLldpdu(frame).toString('hex')).toBe(
          f.data.subarray(14 + 4 * frame.vlanTags.length).toString('hex'),
        )
      }
    }
    // The six rejected frames and most TLV kinds are in the shared corpus; our own captures are LLDP/EVB only.
    expect(decoded).toBeGreaterThan(HAVE_THIRD_PARTY ? 500 : 40)
    expect(rejected).toBe(HAVE_THIRD_PARTY ? 6 : 0)
    expect(kinds.size).toBeGreaterThan(HAVE_THIRD_PARTY ? 30 : 5)
  })
})
