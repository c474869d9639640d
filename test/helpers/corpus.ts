import {fileURLToPath} from 'node:url'

/**
 * The capture corpus ships with the repository (test/corpus, copied from the team's shared corpus with its
 * README and MANIFEST saying where each file came from), so tests run the same in any clone.
 */
export function corpusPath(...parts: string[]): string {
  return fileURLToPath(new URL(['../corpus', ...parts].join('/'), import.meta.url))
}
