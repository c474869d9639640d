import {defineConfig} from 'vitest/config'

// Two projects: fast pure unit tests, and integration tests that build network namespaces, start real
// peers (lldpd, lldpad) and real daemon processes. Integration files run one at a time: they share the
// machine's namespaces list and its two cores.
export default defineConfig({
  test: {
    // One line when the shared third-party corpus is absent (its tests skip); under CI it must be there.
    globalSetup: ['test/helpers/corpus-setup.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/integration/**'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
