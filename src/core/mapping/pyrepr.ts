/**
 * Python-style reprs of strings, lists and sets: the original's 400 details print Python values
 * (`streams {'eiger'} not available`) and clients match on them (reference/core.md §12 item 13).
 */

/** `'a'` */
export function pyStr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** `['a', 'b']` */
export function pyList(values: readonly string[]): string {
  return `[${values.map(pyStr).join(', ')}]`;
}

/** `{'a', 'b'}` with the members sorted (Python's order is arbitrary; sorted is reproducible). */
export function pySet(values: Iterable<string>): string {
  const members = [...new Set(values)].sort();
  return members.length === 0 ? 'set()' : `{${members.map(pyStr).join(', ')}}`;
}
