/**
 * Where the test captures live and how to read them. The shared corpus sits next to the checkout
 * (test/corpus, copied with its README and MANIFEST); our own small fixtures are under test/lldp/fixtures.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {readPcapRecords} from '../../src/pcap/index.js'

export const CORPUS_DIR = fileURLToPath(new URL('../corpus/', import.meta.url))
export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url))

export interface CapturedFrame {
  /** 1-based, as tcpdump -# and tshark number them. */
  number: number
  data: Buffer
  originalLength: number
  linkType: number
}

export interface OracleCapture {
  /** Path relative to the corpus or fixtures dir, for test names. */
  name: string
  pcap: string
  tcpdump?: string
  tshark?: string
}

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(`${dir}${e.name}/`) : [`${dir}${e.name}`]))
}

const TCPDUMP_FIXTURE_ORACLES: Record<string, string> = {
  'dcb_ets.pcap': 'dcb_ets.out',
  'dcb_pfc.pcap': 'dcb_pfc.out',
  'dcb_qcn.pcap': 'dcb_qcn.out',
  'evb.pcap': 'evb.out',
  'lldp-app-priority.pcap': 'lldp-app-priority.out',
  'lldp-infinite-loop-1.pcap': 'lldp-infinite-loop-1.out',
  'lldp-infinite-loop-2.pcap': 'lldp-infinite-loop-2.out',
  'lldp_8021_linkagg.pcap': 'lldp_8021_linkagg-vv.out',
  'lldp_8023_mtu-oobr.pcap': 'lldp_8023_mtu-oobr.out',
  'lldp_asan.pcap': 'lldp_asan.out',
  'lldp_mgmt_addr_tlv_asan.pcap': 'lldp_mgmt_addr_tlv_asan.out',
  'lldp_mudurl.pcap': 'lldp_mudurl-vv.out',
  'LLDP_and_CDP.pcap': 'lldp_cdp-ev.out',
}

/** Every capture that ships with an independent decode (tcpdump and/or tshark text). */
export function oracleCaptures(): OracleCapture[] {
  const out: OracleCapture[] = []
  for (const pcap of walk(CORPUS_DIR).filter((p) => p.endsWith('.pcap'))) {
    const tcpdump = `${pcap}.tcpdump-4.99.3.txt`
    const tshark = `${pcap}.tshark.txt`
    if (!existsSync(tcpdump) && !existsSync(tshark)) continue
    out.push({
      name: pcap.slice(CORPUS_DIR.length),
      pcap,
      tcpdump: existsSync(tcpdump) ? tcpdump : undefined,
      tshark: existsSync(tshark) ? tshark : undefined,
    })
  }
  const constructed = `${FIXTURES_DIR}constructed/lldp-constructed.pcap`
  out.push({name: 'fixtures/constructed/lldp-constructed.pcap', pcap: constructed, tcpdump: `${constructed}.tcpdump-4.99.3.txt`, tshark: `${constructed}.tshark.txt`})
  for (const [pcap, oracle] of Object.entries(TCPDUMP_FIXTURE_ORACLES)) {
    const path = `${FIXTURES_DIR}tcpdump/${pcap}`
    out.push({name: `fixtures/tcpdump/${pcap}`, pcap: path, tcpdump: `${FIXTURES_DIR}tcpdump/${oracle}`, tshark: existsSync(`${path}.tshark.txt`) ? `${path}.tshark.txt` : undefined})
  }
  return out
}

/** Every pcap in the corpus and fixtures, oracle or not. */
export function allCaptures(): string[] {
  return [...walk(CORPUS_DIR), ...walk(FIXTURES_DIR)].filter((p) => p.endsWith('.pcap')).sort()
}

export async function readFrames(pcap: string): Promise<CapturedFrame[]> {
  const frames: CapturedFrame[] = []
  let number = 0
  for await (const r of readPcapRecords(pcap)) {
    frames.push({number: ++number, data: Buffer.from(r.data), originalLength: r.originalLength, linkType: r.linkType})
  }
  return frames
}

/** Ethernet frames whose EtherType (after up to two VLAN tags) is LLDP. */
export function isLldpFrame(f: CapturedFrame): boolean {
  if (f.linkType !== 1 || f.data.length < 14) return false
  let off = 12
  for (let i = 0; i < 3 && off + 2 <= f.data.length; i++, off += 4) {
    const t = f.data.readUInt16BE(off)
    if (t === 0x88cc) return true
    if (t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) return false
  }
  return false
}

export function readJson<T>(relative: string): T {
  return JSON.parse(readFileSync(`${CORPUS_DIR}${relative}`, 'utf8')) as T
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8')
}
