/**
 * JSON as Python's `json` module writes it: besides standard JSON, the bare tokens `NaN`, `Infinity`
 * and `-Infinity` for non-finite floats (Sardana's records carry NaN for counters not read yet in
 * timescan, ascanct and meshct), which JSON.parse refuses.
 *
 * Our own, because of measurement: a 1 kB Sardana record with NaN took 294 µs through JSON5 (after
 * JSON.parse failed on it), about 30 times JSON.parse, and continuous scans post at up to kHz. Here
 * one pass rewrites the tokens outside strings (Infinity as 1e999, which JSON.parse reads as
 * Infinity; NaN as a marker string turned back afterwards: a walk costs half of a JSON.parse
 * reviver) and JSON.parse does the rest.
 */

/** the index of the quote that closes the JSON string opening at `start` (text.length when it never closes) */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 1; // backslash: the next character is escaped
    else if (c === 0x22) return i;
  }
  return text.length;
}

/** what NaN becomes for JSON.parse: a string no Sardana record holds */
const NAN_MARK = '\u0000NaN\u0000';
const NAN_TOKEN = JSON.stringify(NAN_MARK);

/** puts NaN back where the marker is, in place */
function restoreNaN(value: unknown): unknown {
  if (value === NAN_MARK) return Number.NaN;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restoreNaN(value[i]);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const restored = restoreNaN(item);
      // defineProperty: an own `__proto__` key is data here, never the prototype
      if (restored !== item) Object.defineProperty(value, key, { value: restored, enumerable: true, writable: true, configurable: true });
    }
  }
  return value;
}

/** the text with Python's non-finite tokens outside strings rewritten, or undefined when it has none */
function rewriteNonFinite(text: string): string | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
    } else if (c === 0x4e && text.startsWith('NaN', i)) {
      parts.push(text.slice(from, i), NAN_TOKEN);
      from = i += 3;
      i -= 1;
    } else if (c === 0x49 && text.startsWith('Infinity', i)) {
      parts.push(text.slice(from, i), '1e999');
      from = i += 8;
      i -= 1;
    }
  }
  if (!parts.length) return undefined;
  parts.push(text.slice(from));
  return parts.join('');
}

/** Parses Python-written JSON; text that is not JSON even so fails with JSON.parse's own message. */
export function parsePythonJson(text: string): unknown {
  // a native search is cheap; a JSON.parse that throws first is not
  const rewritten = text.includes('NaN') || text.includes('Infinity') ? rewriteNonFinite(text) : undefined;
  if (rewritten === undefined) return JSON.parse(text);
  try {
    const parsed: unknown = JSON.parse(rewritten);
    return rewritten.includes(NAN_TOKEN) ? restoreNaN(parsed) : parsed;
  } catch {
    return JSON.parse(text); // throws with the message about the text as it was sent
  }
}

const MARK = '@@python-float@@';
const MARKED = new RegExp(`"${MARK}(NaN|Infinity|-Infinity)"`, 'g');

/** JSON as Python's `json.dumps` writes it: non-finite numbers as NaN, Infinity, -Infinity (emulators). */
export function stringifyPythonJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? `${MARK}${item}` : item))
    .replace(MARKED, '$1');
}
