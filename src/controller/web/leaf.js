// One leaf of the reducer's publish, sliced, through the controller's proxy: typed arrays as .npy
// (raw bytes, no parsing of numbers), lists as JSON.
import { getBytes, getJson } from './api.js';
import { parseNpy } from './npy.js';

export async function fetchLeaf(node, slice) {
  const base = `/api/v1/reducer/result/${encodeURIComponent(node.path)}?single=true&slice=${encodeURIComponent(slice)}`;
  if (node.kind === 'array') return parseNpy(await getBytes(`${base}&format=npy`)).data;
  return await getJson(`${base}&format=json`);
}
