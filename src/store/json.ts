/** A value JSON can carry: what a JSON column holds. */
export type JsonValue = string | number | boolean | null | JsonValue[] | {[key: string]: JsonValue}

/** JSON columns: parse defensively so one damaged row never breaks a listing. */
export function parseJsonColumn<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback
  try {
    return JSON.parse(text) as T
  } catch {
    return fallback
  }
}
