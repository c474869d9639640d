/**
 * Vitest global setup: one line when the shared third-party corpus is absent (its tests skip), and a
 * failure under CI, where the corpus must be there (test/helpers/corpus.ts says where it is looked for).
 */
import {HAVE_THIRD_PARTY, THIRD_PARTY_DIR} from './corpus.js'

export default function setup(): void {
  if (HAVE_THIRD_PARTY) return
  if (process.env.CI === 'true') {
    throw new Error(
      `third-party corpus not found at ${THIRD_PARTY_DIR} (CI=true requires it; set VDP_AGENT_SHARED_CORPUS to the folder that holds third-party/)`,
    )
  }
  console.warn(
    `third-party corpus not found at ${THIRD_PARTY_DIR}: the tests that read other projects' captures are skipped`,
  )
}
