/**
 * The LLDP tests' captures and how to read them. Paths come from test/helpers/corpus.ts: our own captures
 * (test/corpus/generated), frames we construct (test/lldp/fixtures/constructed), and other projects'
 * captures in the shared corpus (third-party/, tcpdump's own test captures under third-party/tcpdump), which
 * are listed only when it is there.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {readPcapRecords} from '../../src/pcap/index.js'
import {HAVE_THIRD_PARTY, OWN_CORPUS_DIR, THIRD_PARTY_DIR} from '../helpers/corpus.js'

export {HAVE_THIRD_PARTY, OWN_CORPUS_DIR, THIRD_PARTY_DIR}
const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** tcpdump's own test captures and their `.out` oracles, in the shared corpus. */
export const TCPDUMP_CAPTURES_DIR = `${THIRD_PARTY_DIR}tcpdump/`

/** The folders whose captures the corpus-wide tests walk: ours, and the shared ones when present. */
export function captureDirs(): string[] {
  return HAVE_THIRD_PARTY ? [OWN_CORPUS_DIR, FIXTURES_DIR, THIRD_PARTY_DIR] : [OWN_CORPUS_DIR, FIXTURES_DIR]
}

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
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? walk(`${dir}${e.name}/`) : [`${dir}${e.name}`],
  )
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
  const sources = HAVE_THIRD_PARTY ? [OWN_CORPUS_DIR, THIRD_PARTY_DIR] : [OWN_CORPUS_DIR]
  const walked = sources.flatMap((dir) => walk(dir).map((pcap) => ({dir, pcap})))
  for (const {dir, pcap} of walked.filter(
    (w) => w.pcap.endsWith('.pcap') && !w.pcap.startsWith(TCPDUMP_CAPTURES_DIR),
  )) {
    const tcpdump = `${pcap}.tcpdump-4.99.3.txt`
    const tshark = `${pcap}.tshark.txt`
    if (!existsSync(tcpdump) && !existsSync(tshark)) continue
    out.push({
      name: (dir === THIRD_PARTY_DIR ? 'third-party/' : '') + pcap.slice(dir.length),
      pcap,
      tcpdump: existsSync(tcpdump) ? tcpdump : undefined,
      tshark: existsSync(tshark) ? tshark : undefined,
    })
  }
  const constructed = `${FIXTURES_DIR}constructed/lldp-constructed.pcap`
  out.push({
    name: 'fixtures/constructed/lldp-constructed.pcap',
    pcap: constructed,
    tcpdump: `${constructed}.tcpdump-4.99.3.txt`,
    tshark: `${constructed}.tshark.txt`,
  })
  if (!HAVE_THIRD_PARTY) return out
  for (const [pcap, oracle] of Object.entries(TCPDUMP_FIXTURE_ORACLES)) {
    const path = `${TCPDUMP_CAPTURES_DIR}${pcap}`
    out.push({
      name: `third-party/tcpdump/${pcap}`,
      pcap: path,
      tcpdump: `${TCPDUMP_CAPTURES_DIR}${oracle}`,
      tshark: existsSync(`${path}.tshark.txt`) ? `${path}.tshark.txt` : undefined,
    })
  }
  return out
}

/** Every pcap in the corpus folders and fixtures, oracle or not. */
export function allCaptures(): string[] {
  return captureDirs()
    .flatMap(walk)
    .filter((p) => p.endsWith('.pcap'))
    .sort()
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

/** A JSON file under the shared third-party corpus (`lldpd/...`), or under ours (`generated/...`). */
export function readJson<T>(relative: string): T {
  const base = relative.startsWith('generated/') ? OWN_CORPUS_DIR : THIRD_PARTY_DIR
  return JSON.parse(readFileSync(`${base}${relative.replace(/^third-party\//, '')}`, 'utf8')) as T
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8')
}
