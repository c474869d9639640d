import {describe, expect, it} from 'vitest'

import {nestingDepthExceeds, previewValue} from '../src/value-preview.js'

describe('previewValue', () => {
  it('is short and bounded whatever the value', () => {
    expect(previewValue('eth0')).toBe('"eth0"')
    expect(previewValue(undefined)).toBe('undefined')
    expect(previewValue(null)).toBe('null')
    expect(previewValue(7)).toBe('7')
    expect(previewValue([1, 2, 3])).toBe('an array of 3 items')
    expect(previewValue({a: 1, b: 2, c: 3, d: 4, e: 5, f: 6})).toBe(
      'an object with keys "a", "b", "c", "d", "e", … (6 keys)',
    )
    expect(previewValue('y'.repeat(1000)).length).toBeLessThan(100)
  })
})

describe('nestingDepthExceeds', () => {
  it('counts levels of objects and arrays without recursion', () => {
    expect(nestingDepthExceeds({a: [{b: 1}]}, 3)).toBe(false)
    expect(nestingDepthExceeds({a: [{b: {}}]}, 3)).toBe(true)
    expect(nestingDepthExceeds('flat', 0)).toBe(false)
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(nestingDepthExceeds(deep, 32)).toBe(true)
  })
})
