/**
 * Control-socket protocol: one JSON object per line each way over a Unix stream socket.
 * Request {id, method, params?}; response {id, ok: true, result} or {id, ok: false, error: {code, message}}.
 */
export interface ControlRequest {
  id: number
  method: string
  params?: unknown
}

export interface ControlErrorBody {
  code: string
  message: string
  details?: Record<string, unknown>
}

export type ControlResponse = {id: number; ok: true; result: unknown} | {id: number; ok: false; error: ControlErrorBody}

/** A request line longer than this is refused: the protocol carries commands, not bulk data. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024

/** Request params nesting deeper than this are refused before any handler sees them (a VM event is 3 deep). */
export const MAX_PARAMS_DEPTH = 32

export function isControlRequest(v: unknown): v is ControlRequest {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return typeof r.id === 'number' && Number.isSafeInteger(r.id) && typeof r.method === 'string' && r.method.length <= 64
}
