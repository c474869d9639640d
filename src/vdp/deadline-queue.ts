// moved to src/core/deadline-queue.ts; kept for branches in flight, removed after they merge
export * from '../core/deadline-queue.js'
