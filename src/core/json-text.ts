/** Looking at JSON text without parsing it: where a string ends, how deep arrays and objects nest. */

/** the index of the quote that closes the JSON string opening at `start` (text.length when it never closes) */
export function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 1; // backslash: the next character is escaped
    else if (c === 0x22) return i;
  }
  return text.length;
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`. Deep JSON is refused before it is
 * parsed: walking it (validation, error messages) would overflow the stack.
 */
export function jsonNestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}
