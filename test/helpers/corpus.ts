/**
 * The one place that knows where test data lives.
 *
 * - Our own captures (made here by running Debian's lldpd and lldpad, test/corpus/generated) and frames we
 *   construct ourselves ship with the repository.
 * - Other projects' captures and vectors (lldpd, systemd, NetworkManager, scapy, Wireshark, Zeek, openlldp,
 *   tcpdump's own test captures with their `.out` oracles) are never committed here: they stay in the team's
 *   shared corpus beside the checkout, `../shared/corpus/third-party` (override with VDP_AGENT_SHARED_CORPUS,
 *   the folder that holds `third-party/`). Tests that need them skip when it is absent (a user's clone);
 *   test/helpers/corpus-setup.ts prints one line naming the folder, and under CI (`CI=true`) fails instead.
 */
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, it} from 'vitest'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** test/corpus/, with a trailing slash: our own captures (generated/). */
export const OWN_CORPUS_DIR = fileURLToPath(new URL('../corpus/', import.meta.url))

/** The shared corpus folder (holds third-party/), with a trailing slash. */
const SHARED_CORPUS_DIR = `${resolve(process.env.VDP_AGENT_SHARED_CORPUS ?? `${REPO_ROOT}../shared/corpus`)}/`

/** Other projects' captures and vectors, with a trailing slash. */
export const THIRD_PARTY_DIR = `${SHARED_CORPUS_DIR}third-party/`

/** True when the third-party corpus is there; suites that read it use `describe.skipIf(!HAVE_THIRD_PARTY)`. */
export const HAVE_THIRD_PARTY = existsSync(`${THIRD_PARTY_DIR}MANIFEST.tsv`)

/** A path under our own corpus (test/corpus). */
export function corpusPath(...parts: string[]): string {
  return [OWN_CORPUS_DIR.replace(/\/$/, ''), ...parts].join('/')
}

/** A path under the shared third-party corpus. */
export function thirdPartyPath(...parts: string[]): string {
  return [THIRD_PARTY_DIR.replace(/\/$/, ''), ...parts].join('/')
}

/**
 * `describe` for a suite built from the third-party corpus. Without the corpus its factory is not run at
 * all (it reads the files while collecting), and one skipped test stands in for it.
 */
export function describeWithThirdParty(name: string, factory: () => void): void {
  if (HAVE_THIRD_PARTY) describe(name, factory)
  else describe.skip(name, () => it.skip(`needs the shared third-party corpus (${THIRD_PARTY_DIR})`))
}
