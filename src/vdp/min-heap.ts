// moved to src/core/min-heap.ts; kept for branches in flight, removed after they merge
export * from '../core/min-heap.js'
