/**
 * JSON as Python's `json` module writes it: besides standard JSON, the bare tokens `NaN`, `Infinity`
 * and `-Infinity` for non-finite floats (Sardana's records carry NaN for counters not read yet in
 * timescan, ascanct and meshct). JSON.parse refuses those; JSON5 reads them as numbers.
 */
import JSON5 from 'json5';

/** Parses Python-written JSON; a body that is not even JSON5 fails with JSON.parse's own message. */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // most bodies are plain JSON and take the fast parser; only those with non-finite numbers come here
    try {
      return JSON5.parse(text);
    } catch {
      throw error;
    }
  }
}

const MARK = '@@python-float@@';
const MARKED = new RegExp(`"${MARK}(NaN|Infinity|-Infinity)"`, 'g');

/** JSON as Python's `json.dumps` writes it: non-finite numbers as NaN, Infinity, -Infinity (emulators). */
export function stringifyPythonJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? `${MARK}${item}` : item))
    .replace(MARKED, '$1');
}
