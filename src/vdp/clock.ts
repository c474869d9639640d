// moved to src/core/clock.ts; kept for branches in flight, removed after they merge
export * from '../core/clock.js'
