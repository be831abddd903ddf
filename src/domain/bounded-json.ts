// JSON from outside (day files, the config file, API bodies) is parsed only after its nesting depth is
// known to be small: a 100,000-deep array would otherwise end in "Maximum call stack size exceeded"
// somewhere in the decoders, naming no file, line or key.

/** Deepest nesting any of our formats needs, with room to spare (a day's header is 5 deep). */
export const MAX_JSON_DEPTH = 32

/**
 * The position of the first bracket deeper than `maxDepth`, or -1: one pass over the text, skipping
 * strings, so it costs far less than the parse it guards.
 */
export const tooDeepAt = (text: string, maxDepth = MAX_JSON_DEPTH): number => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) return i
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--
  }
  return -1
}

/** JSON.parse, refusing text nested deeper than `maxDepth` (a SyntaxError saying so and where). */
export const parseBoundedJson = (text: string, maxDepth = MAX_JSON_DEPTH): unknown => {
  const at = tooDeepAt(text, maxDepth)
  if (at >= 0) throw new SyntaxError(`nested deeper than ${maxDepth} levels at position ${at}`)
  return JSON.parse(text)
}
