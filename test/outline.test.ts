/** The outline of publish (`GET /api/v1/outline`): what the dashboard's tree is drawn from. */
import { expect } from 'chai';
import { outlinePublish } from '../src/reducer/results/outline.js';
import { selectResult } from '../src/reducer/results/select.js';
import { publishView } from '../src/reducer/results/remote-publish.js';

describe('publish outline', () => {
  const publish = {
    sums: [1, 2, , 4],   // a hole: a result not in yet
    image: { data: new Uint16Array(6), shape: [2, 3], dtype: 'uint16' },
    rows: [[1, 2], [3, 4], [5, 6]],
    series: new Float32Array(5),
    label: 'x'.repeat(300),
    count: 7,
    big: 12n,
    nothing: null,
    'odd.key*': { deep: true },
    "can't": 1,
    records: [{ a: 1 }, { b: 'two' }],
  };

  it('lists every value with its kind and shape, scalars inline, arrays described but not sent', () => {
    const byKey = new Map(outlinePublish(publish).nodes.map((n) => [n.keys.join('/'), n]));
    expect(byKey.get('')).to.include({ kind: 'record', items: 11, path: '$' });
    expect(byKey.get('sums')).to.deep.include({ kind: 'list', shape: [4], dtype: 'number' });
    expect(byKey.get('image')).to.deep.include({ kind: 'array', shape: [2, 3], dtype: 'uint16' });
    expect(byKey.get('rows')).to.deep.include({ kind: 'list', shape: [3, 2], dtype: 'number' });
    expect(byKey.get('series')).to.deep.include({ kind: 'array', shape: [5], dtype: 'float32' });
    expect(byKey.get('label')!.value).to.have.length(201);
    expect(byKey.get('count')).to.include({ kind: 'number', value: 7 });
    expect(byKey.get('big')).to.include({ kind: 'bigint', value: 12 });
    expect(byKey.get('nothing')).to.include({ kind: 'none', value: null });
    expect(byKey.get('records/1/b')).to.include({ kind: 'string', value: 'two' });
    expect(byKey.get("can't")!.path).to.equal(null);
    expect([...byKey.values()].some((n) => n.kind === 'array' && 'value' in n)).to.equal(false);
  });

  it('gives paths that the result API selects the same values with', async () => {
    for (const node of outlinePublish(publish).nodes) {
      if (node.path === null) continue;
      let expected: unknown = publish;
      for (const key of node.keys) expected = (expected as Record<string | number, unknown>)[key];
      expect(await selectResult(publishView(publish), node.path), node.path).to.deep.equal({ definite: true, found: true, value: expected });
    }
  });

  it('stays bounded: big containers are summarised, and the outline says it left things out', () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    const wide = outlinePublish({ many, list: Array.from({ length: 300 }, (_, i) => ({ i })) });
    expect(wide.nodes.find((n) => n.keys.join() === 'many')).to.include({ items: 300, truncated: true });
    expect(wide.nodes.find((n) => n.keys.join() === 'list')).to.include({ items: 300, truncated: true });
    const deep = outlinePublish(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`g${i}`, Object.fromEntries(Array.from({ length: 150 }, (_, j) => [`v${j}`, j]))])));
    expect(deep.truncated).to.equal(true);
    expect(deep.nodes.length).to.equal(2000);
  });
});
