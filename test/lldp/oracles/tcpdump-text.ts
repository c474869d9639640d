/**
 * Parses tcpdump -v/-vv LLDP output (print-lldp.c) into frames and TLVs, so tests can compare our decode with
 * what tcpdump printed. Only what we assert on is modelled: the TLV header line, its indented detail lines and
 * the hex dump tcpdump prints for each TLV with -vv.
 */

export interface TcpdumpTlv {
  /** e.g. 'Chassis ID', 'Organization specific'. */
  name: string
  type: number
  length: number
  /** Text after 'length N' on the header line, e.g. ': TTL 120s' or ': OUI Ethernet bridged (0x0080c2)'. */
  rest: string
  /** Detail lines, leading tab and indentation removed, hex dump lines excluded. */
  lines: string[]
  /** Information string from the hex dump (-vv), when printed. */
  hex: Buffer | undefined
}

export interface TcpdumpFrame {
  /** 1-based packet number (tcpdump -#). */
  number: number
  headerLine: string
  /** 'LLDP, length N': the LLDPDU length tcpdump computed. */
  lldpLength: number
  tlvs: TcpdumpTlv[]
}

const FRAME_RE = /^\s*(\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (.*)$/
const LLDP_RE = /LLDP, length (\d+)/
const TLV_RE = /^\t(\S.*?) TLV \((\d+)\), length (\d+)(.*)$/
const HEX_RE = /^\t  0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4} ?)+)\s*$/

export function parseTcpdumpText(text: string): Map<number, TcpdumpFrame> {
  const frames = new Map<number, TcpdumpFrame>()
  let frame: TcpdumpFrame | undefined
  let tlv: TcpdumpTlv | undefined
  let hexParts: string[] = []
  const closeTlv = (): void => {
    if (tlv && hexParts.length > 0) tlv.hex = Buffer.from(hexParts.join(''), 'hex')
    tlv = undefined
    hexParts = []
  }
  for (const line of text.split('\n')) {
    const f = FRAME_RE.exec(line)
    if (f) {
      closeTlv()
      const lldp = LLDP_RE.exec(f[2])
      frame = lldp ? {number: Number(f[1]), headerLine: f[2], lldpLength: Number(lldp[1]), tlvs: []} : undefined
      if (frame) frames.set(frame.number, frame)
      continue
    }
    if (!frame) continue
    const t = TLV_RE.exec(line)
    if (t) {
      closeTlv()
      tlv = {name: t[1], type: Number(t[2]), length: Number(t[3]), rest: t[4], lines: [], hex: undefined}
      frame.tlvs.push(tlv)
      continue
    }
    if (!tlv) continue
    const h = HEX_RE.exec(line)
    if (h) {
      // tcpdump restarts the dump offsets oddly for an End TLV with a length; keep the first run only.
      if (Number.parseInt(h[1], 16) === hexParts.join('').length / 2) hexParts.push(h[2].replace(/\s+/g, ''))
      continue
    }
    if (line.startsWith('\t')) tlv.lines.push(line.replace(/^\t\s*/, ''))
  }
  closeTlv()
  return frames
}

/** tcpdump's nd_printjnp rendering of octets: stops at NUL, ^X for controls, M- for octets ≥ 0x80. */
export function tcpdumpEscape(octets: Uint8Array): string {
  let s = ''
  for (const b0 of octets) {
    if (b0 === 0) break
    let b = b0
    if (b >= 0x80) {
      s += 'M-'
      b &= 0x7f
    }
    if (b < 0x20) s += '^' + String.fromCharCode(b + 0x40)
    else if (b === 0x7f) s += '^?'
    else s += String.fromCharCode(b)
  }
  return s
}
