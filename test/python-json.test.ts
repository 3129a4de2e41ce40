/** Python's JSON (NaN, Infinity, -Infinity as bare tokens): read as numbers, written as Python writes them. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { parsePythonJson, stringifyPythonJson } from '../src/protocols/python-json.js';
import { PYTHON } from './helpers/process.js';

describe('Python JSON', () => {
  it('reads what json.dumps writes: NaN and the infinities as numbers, the tokens inside strings untouched', () => {
    const text = execFileSync(PYTHON, ['-c', 'import json, sys; sys.stdout.write(json.dumps({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], '
      + '"s": "NaN and Infinity \\" NaN", "nested": {"n": [float("nan")]}, "__proto__": float("nan")}))']).toString();
    const value = parsePythonJson(text) as Record<string, unknown>;
    expect(value).to.deep.equal({ a: NaN, b: [Infinity, -Infinity, 1.5], s: 'NaN and Infinity " NaN', nested: { n: [NaN] }, ['__proto__']: NaN });
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
    expect(parsePythonJson('NaN')).to.be.NaN;
    expect(parsePythonJson('-Infinity')).to.equal(-Infinity);
  });

  it('refuses what is not JSON even so, with JSON.parse\'s message about the text as sent', () => {
    for (const bad of ['{"x": NaNa}', '{"x": Nan}', '{"x": NaN', 'Infinityy', 'not json']) {
      expect(() => parsePythonJson(bad), bad).to.throw(SyntaxError, /is not valid JSON|Unexpected/);
    }
  });

  it('writes non-finite numbers as Python does, and Python reads them back', () => {
    const text = stringifyPythonJson({ a: NaN, b: [Infinity, -Infinity], c: 'NaN', d: 1 });
    expect(text).to.equal('{"a":NaN,"b":[Infinity,-Infinity],"c":"NaN","d":1}');
    const back = execFileSync(PYTHON, ['-c', 'import json, sys; v = json.loads(sys.stdin.read()); print(repr(v))'], { input: text }).toString().trim();
    expect(back).to.equal("{'a': nan, 'b': [inf, -inf], 'c': 'NaN', 'd': 1}");
  });
});
