/**
 * JSON whose integers may exceed 2^53, like AlbaEM's nanosecond `acquisition_timestamp`
 * (protocols.md §0): parsing keeps every digit of such integers as a bigint (JSON.parse alone
 * would round them); writing puts bigints out as plain integers, with the `", "` and `": "`
 * separators of Python's json.dumps, as the device writes them.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** whole strings (so digits inside them are left alone), or an integer literal of 16 digits or more */
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\w.+-])-?\d{16,}(?![\w.])/g;

/** a long integer travels through JSON.parse as a string starting with NUL, which device JSON never holds */
const MARK = '\u0000';

/** JSON.parse, but integers beyond ±2^53 become exact bigints; throws a SyntaxError on bad JSON. */
export function parseJsonExact(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  if (text.includes('\\u0000')) throw new SyntaxError('JSON holding both NUL characters and integers of 16+ digits is not supported');
  const marked = text.replace(STRING_OR_LONG_INTEGER, (token) => (token[0] === '"' ? token : `"\\u0000${token}"`));
  return JSON.parse(marked, (_key, value: unknown) => {
    if (typeof value !== 'string' || value[0] !== MARK) return value;
    const integer = BigInt(value.slice(1));
    return integer > MAX_SAFE || integer < -MAX_SAFE ? integer : Number(integer);
  });
}

/** JSON as Python's json.dumps writes it by default; bigints as exact integers. */
export function stringifyPythonJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(stringifyPythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${stringifyPythonJson(item)}`).join(', ')}}`;
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`cannot write a ${typeof value} as JSON`);
  return text;
}
