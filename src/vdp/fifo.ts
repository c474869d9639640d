// moved to src/core/fifo.ts; kept for branches in flight, removed after they merge
export * from '../core/fifo.js'
