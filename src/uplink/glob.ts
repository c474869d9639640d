/** Shell-style globs for interface names: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let out = '^'
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) {
        out += '\\['
        continue
      }
      let body = glob.slice(i + 1, end)
      const negate = body.startsWith('!')
      if (negate) body = body.slice(1)
      out += `[${negate ? '^' : ''}${body.replace(/[\\^]/g, '\\$&')}]`
      i = end
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp(out + '$')
}

export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(name))
}
