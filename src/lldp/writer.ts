import {LldpEncodeError} from './errors.js'
import type {TextEncoding} from './types.js'

/** A growable big-endian octet writer with range checks, used by every TLV encoder. */
export class OctetWriter {
  private buf: Buffer
  pos = 0

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  u8(value: number, field = 'octet'): void {
    checkRange(value, 0xff, field)
    this.ensure(1)
    this.buf[this.pos++] = value
  }

  u16(value: number, field = '16-bit field'): void {
    checkRange(value, 0xffff, field)
    this.ensure(2)
    this.buf[this.pos++] = value >>> 8
    this.buf[this.pos++] = value & 0xff
  }

  u24(value: number, field = '24-bit field'): void {
    checkRange(value, 0xffffff, field)
    this.ensure(3)
    this.buf[this.pos++] = value >>> 16
    this.buf[this.pos++] = (value >>> 8) & 0xff
    this.buf[this.pos++] = value & 0xff
  }

  u32(value: number, field = '32-bit field'): void {
    checkRange(value, 0xffffffff, field)
    this.ensure(4)
    this.buf.writeUInt32BE(value, this.pos)
    this.pos += 4
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length)
    this.buf.set(data, this.pos)
    this.pos += data.length
  }

  text(value: string, encoding: TextEncoding): number {
    const n = Buffer.byteLength(value, encoding)
    this.ensure(n)
    this.buf.write(value, this.pos, n, encoding)
    this.pos += n
    return n
  }

  /** Overwrite a 16-bit value already written (TLV headers are patched once the body length is known). */
  patchU16(at: number, value: number): void {
    this.buf[at] = value >>> 8
    this.buf[at + 1] = value & 0xff
  }

  patchU8(at: number, value: number): void {
    this.buf[at] = value
  }

  /** A copy of everything written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }
}

export function checkRange(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new LldpEncodeError(`${field} must be an integer 0..${max}, got ${String(value)}`, {field, value})
  }
}

export function bit(flag: boolean, mask: number): number {
  return flag ? mask : 0
}
