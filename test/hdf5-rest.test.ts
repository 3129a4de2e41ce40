/**
 * The HDF5 REST routes (core.md §6.3) walked with plain HTTP, as h5pyd and h5web do: domain, root
 * group, links, datasets with their shapes, types and values (JSON or raw bytes, `select=`, gzip),
 * attributes from `<key>_attrs`, and 404 for ids that name nothing.
 */
import { expect } from 'chai';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createHttpApp, listen } from '../src/core/http/app.js';
import { createLogger } from '../src/core/logging.js';
import { createHdf5Router } from '../src/reducer/results/hdf5.js';

const id = (kind: 'g' | 'd', path: string) => `${kind}-h5dict-${Buffer.from(path, 'utf8').toString('hex').toUpperCase()}`;

const image = { data: new Float32Array(Array.from({ length: 1000 }, (_, i) => i / 4)), shape: [40, 25], dtype: 'float32' };
const publish = {
  count: 42, ratio: 0.5, title: 'azint',
  names: ['a', 'b'],
  azint: {
    I: image,
    q: new Uint16Array([1, 2, 3]),
    grid: [[1, 2], [3, 4]],
    'with space': 1.5,
  },
  azint_attrs: { NX_class: 'NXdata', signal: 'I', axes: ['q'] },
  I_attrs: 'not a dict, so a dataset',
  nothing: null,
  _attrs: { creator: 'dranspose', version: 2 },
};

describe('HDF5 REST (h5pyd, silx, h5web)', function () {
  let server: Server;
  let base: string;

  before(async function () {
    const router = createHdf5Router(() => publish);
    const app = createHttpApp(createLogger('hdf5-test'));
    app.use(router.routes()).use(router.allowedMethods());
    let port: number;
    ({ server, port } = await listen(app, 0, '127.0.0.1'));
    base = `http://127.0.0.1:${port}`;
  });

  after(() => { server.close(); });

  async function json(path: string, status = 200): Promise<Record<string, unknown>> {
    const response = await fetch(base + path);
    expect(response.status, path).to.equal(status);
    return await response.json() as Record<string, unknown>;
  }

  function stamped(body: Record<string, unknown>): void {
    expect(body.created).to.be.a('number');
    expect(body.lastModified).to.be.a('number');
  }

  it('names the domain and its root group g-h5dict-2F', async function () {
    const domain = await json('/');
    stamped(domain);
    expect(domain).to.deep.include({ root: 'g-h5dict-2F', owner: 'admin', class: 'domain' });
    const root = await json('/groups/g-h5dict-2F');
    stamped(root);
    // count, ratio, title, names, azint, I_attrs (not a dict), nothing: _attrs and azint_attrs are no links
    expect(root).to.deep.include({ root: 'g-h5dict-2F', id: 'g-h5dict-2F', linkCount: 7, attributeCount: 2 });
  });

  it('lists links as hard links to groups and datasets, with path ids', async function () {
    const { links } = await json('/groups/g-h5dict-2F/links') as { links: Record<string, unknown>[] };
    expect(links.map((l) => l.title)).to.deep.equal(['count', 'ratio', 'title', 'names', 'azint', 'I_attrs', 'nothing']);
    const azint = links.find((l) => l.title === 'azint')!;
    stamped(azint);
    expect(azint).to.deep.include({ class: 'H5L_TYPE_HARD', collection: 'groups', id: id('g', '/azint') });
    expect(id('d', '/image')).to.equal('d-h5dict-2F696D616765');
    const { link } = await json(`/groups/${id('g', '/azint')}/links/I`) as { link: Record<string, unknown> };
    expect(link).to.deep.include({ collection: 'datasets', id: id('d', '/azint/I'), title: 'I' });
    expect(await json(`/groups/${id('g', '/azint')}/links/nope`, 404)).to.deep.equal({ detail: 'Link not found' });
  });

  it('describes datasets with HDF5 shapes and types', async function () {
    const cases: [string, unknown, unknown][] = [
      ['/count', { class: 'H5S_SCALAR' }, { class: 'H5T_INTEGER', base: 'H5T_STD_I64LE' }],
      ['/ratio', { class: 'H5S_SCALAR' }, { class: 'H5T_FLOAT', base: 'H5T_IEEE_F64LE' }],
      ['/title', { class: 'H5S_SCALAR' }, { class: 'H5T_STRING', length: 'H5T_VARIABLE', charSet: 'H5T_CSET_UTF8', strPad: 'H5T_STR_NULLTERM' }],
      ['/names', { class: 'H5S_SIMPLE', dims: [2] }, { class: 'H5T_STRING', length: 'H5T_VARIABLE', charSet: 'H5T_CSET_UTF8', strPad: 'H5T_STR_NULLTERM' }],
      ['/azint/I', { class: 'H5S_SIMPLE', dims: [40, 25] }, { class: 'H5T_FLOAT', base: 'H5T_IEEE_F32LE' }],
      ['/azint/q', { class: 'H5S_SIMPLE', dims: [3] }, { class: 'H5T_INTEGER', base: 'H5T_STD_U16LE' }],
      ['/azint/grid', { class: 'H5S_SIMPLE', dims: [2, 2] }, { class: 'H5T_INTEGER', base: 'H5T_STD_I64LE' }],
      ['/azint/with space', { class: 'H5S_SCALAR' }, { class: 'H5T_FLOAT', base: 'H5T_IEEE_F64LE' }],
    ];
    for (const [path, shape, type] of cases) {
      const dataset = await json(`/datasets/${id('d', path)}`);
      stamped(dataset);
      expect(dataset, path).to.deep.include({ id: id('d', path), shape, type, attributeCount: 0 });
      expect(dataset.creationProperties).to.deep.equal({
        allocTime: 'H5D_ALLOC_TIME_LATE', fillTime: 'H5D_FILL_TIME_IFSET', layout: { class: 'H5D_CONTIGUOUS' } });
    }
    expect(await json(`/datasets/${id('d', '/nothing')}`, 404)).to.deep.equal({ detail: 'Dataset not found' });
  });

  it('answers values: JSON for scalars and strings, raw little-endian bytes for arrays, sliced by select=', async function () {
    expect(await json(`/datasets/${id('d', '/count')}/value`)).to.deep.equal({ value: 42 });
    expect(await json(`/datasets/${id('d', '/names')}/value`)).to.deep.equal({ value: ['a', 'b'] });
    const q = await fetch(`${base}/datasets/${id('d', '/azint/q')}/value`);
    expect(q.headers.get('content-type')).to.equal('application/octet-stream');
    expect(Array.from(new Uint16Array(await q.arrayBuffer()))).to.deep.equal([1, 2, 3]);
    const part = await fetch(`${base}/datasets/${id('d', '/azint/I')}/value?select=[1:3,0:6:2]`);
    const values = new Float32Array(await part.arrayBuffer());
    expect(Array.from(values)).to.deep.equal([25, 27, 29, 50, 52, 54].map((i) => i / 4));
    const grid = await fetch(`${base}/datasets/${id('d', '/azint/grid')}/value?select=[1,:]`);
    expect(Array.from(new BigInt64Array(await grid.arrayBuffer()), Number)).to.deep.equal([3, 4]);
  });

  it('gzips values above 1000 bytes for clients that accept it', async function () {
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${base}/datasets/${id('d', '/azint/I')}/value`, { headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    expect(raw.headers['content-encoding']).to.equal('gzip');
    const values = gunzipSync(raw.body);
    expect(values.length).to.equal(4000);
    expect(new Float32Array(values.buffer, values.byteOffset, 1000)[999]).to.equal(249.75);
    const small = await new Promise<Record<string, unknown>>((resolve, reject) => {
      request(`${base}/datasets/${id('d', '/azint/q')}/value`, { headers: { 'Accept-Encoding': 'gzip' } }, (response) => {
        response.resume();
        resolve(response.headers);
      }).on('error', reject).end();
    });
    expect(small['content-encoding']).to.equal(undefined);
  });

  it('serves attributes from _attrs (root) and <key>_attrs (siblings)', async function () {
    const { attributes } = await json('/groups/g-h5dict-2F/attributes') as { attributes: Record<string, unknown>[] };
    expect(attributes.map((a) => [a.name, a.type, a.shape])).to.deep.equal([
      ['creator', { class: 'H5T_STRING', length: 'H5T_VARIABLE', charSet: 'H5T_CSET_UTF8', strPad: 'H5T_STR_NULLTERM' }, { class: 'H5S_SCALAR' }],
      ['version', { class: 'H5T_INTEGER', base: 'H5T_STD_I64LE' }, { class: 'H5S_SCALAR' }],
    ]);
    const group = await json(`/groups/${id('g', '/azint')}`);
    expect(group.attributeCount).to.equal(3);
    expect(await json(`/groups/${id('g', '/azint')}/attributes/axes`)).to.deep.include({ name: 'axes', value: ['q'], shape: { class: 'H5S_SIMPLE', dims: [1] } });
    expect(await json(`/groups/${id('g', '/azint')}/attributes/nope`, 404)).to.deep.equal({ detail: 'Attribute not found' });
    expect(await json(`/datasets/${id('d', '/azint/I')}/attributes`)).to.deep.equal({ attributes: [] });
  });

  it('answers 404, not 500, for ids that name nothing', async function () {
    for (const path of [
      '/groups/g-h5dict-2F6E6F7065', '/groups/g-h5dict-zz', '/groups/nonsense', `/groups/${id('g', '/count')}`, `/groups/${id('d', '/azint')}`,
      `/groups/${id('g', '/nope')}/links`, `/datasets/${id('d', '/nope')}`, `/datasets/${id('d', '/azint')}`, `/datasets/${id('d', '/nope')}/value`,
      '/datasets/d-h5dict-2F', `/datasets/${id('d', '/nope')}/attributes`,
    ]) {
      const response = await fetch(base + path);
      expect(response.status, path).to.equal(404);
    }
  });
});
