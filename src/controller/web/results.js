// The Results tab: a tree of what the reducer publishes (its outline: keys, kinds, shapes,
// scalars inline) and a panel for each leaf picked in it: 1-D as a line plot, 2-D as an image.
// Each refresh reads the outline and then only the shown leaves, and those only while a scan runs,
// when the outline changed, or every IDLE_REFRESH_MS.
import { esc, getJson, short } from './api.js';
import { ImageView } from './image-view.js';
import { SeriesView } from './series-view.js';

const SHOWN_KEY = 'dranspose-shown-results';
const SHOWN_BY_DEFAULT = 4;
const IDLE_REFRESH_MS = 10_000;

const tree = () => document.getElementById('result-tree');
const panelBox = () => document.getElementById('result-panels');

/** 1 or 2 dimensions of numbers: a plot or an image */
function viewKind(node) {
  if (!node.shape || node.path === null || (node.kind !== 'array' && node.kind !== 'list')) return undefined;
  if (node.shape.length === 1) return 'series';
  if (node.shape.length === 2) return 'image';
  return undefined;
}

const label = (node) => (node.keys.length ? node.keys.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join('.').replace(/\.\[/g, '[') : 'publish');
const describe = (node) => (node.shape ? `${node.shape.join('×')} ${node.dtype}` : node.items !== undefined ? `${node.items} items${node.truncated ? ', not listed' : ''}` : node.kind);
const scalarText = (node) => (typeof node.value === 'string' ? JSON.stringify(node.value) : node.value === null ? 'null' : short(node.value));

let structure = '';
let outlineText = '';
let nodes = new Map();
/** path → { node, view, element, fetchedAt } */
const panels = new Map();
/** the leaves the user picked (kept in the browser); until then the first few plottable ones */
let picked = JSON.parse(localStorage.getItem(SHOWN_KEY) ?? 'null');
let firstPlottable = [];
const shownPaths = () => picked ?? firstPlottable;

function renderTree(outline) {
  const openPaths = new Set([...tree().querySelectorAll('details[open]')].map((d) => d.dataset.path));
  const firstTime = structure === '';
  const children = new Map();
  for (const node of outline.nodes) {
    const parent = JSON.stringify(node.keys.slice(0, -1));
    if (node.keys.length) (children.get(parent) ?? children.set(parent, []).get(parent)).push(node);
  }
  const item = (node) => {
    const key = `<span class="key">${esc(node.keys.at(-1))}</span>`;
    const kind = viewKind(node);
    if (kind) {
      return `<li><label><input type="checkbox" data-path="${esc(node.path)}" ${shownPaths().includes(node.path) ? 'checked' : ''}> ${key} <span class="info">${esc(describe(node))}</span></label></li>`;
    }
    const kids = children.get(JSON.stringify(node.keys));
    if (kids) {
      const open = firstTime || openPaths.has(node.path) ? 'open' : '';
      return `<li><details data-path="${esc(node.path)}" ${open}><summary>${key} <span class="info">${esc(describe(node))}</span></summary><ul>${kids.map(item).join('')}</ul></details></li>`;
    }
    if ('value' in node) return `<li>${key}: <span class="value" data-value="${esc(node.path)}">${esc(scalarText(node))}</span></li>`;
    return `<li>${key} <span class="info">${esc(describe(node))}</span></li>`;
  };
  const top = children.get('[]') ?? [];
  tree().innerHTML = top.length ? `<ul>${top.map(item).join('')}</ul>` : '<p class="hint">the reducer has published nothing yet</p>';
  if (outline.truncated) tree().insertAdjacentHTML('beforeend', '<p class="hint">publish is large: only part of it is listed</p>');
}

function updateScalars() {
  for (const element of tree().querySelectorAll('[data-value]')) {
    const node = nodes.get(element.dataset.value);
    if (node && 'value' in node) element.textContent = scalarText(node);
  }
}

function openPanel(path) {
  const node = nodes.get(path);
  const element = document.createElement('div');
  element.className = 'panel';
  element.dataset.path = path;
  element.dataset.label = label(node);
  element.innerHTML = `<h3><span>${esc(label(node))}</span><span class="info"></span></h3><div class="error"></div><div class="body"></div>`;
  panelBox().append(element);
  const body = element.querySelector('.body');
  const view = viewKind(node) === 'image' ? new ImageView(body, node) : new SeriesView(body, node);
  const panel = { node, view, element, fetchedAt: 0, updates: 0 };
  panels.set(path, panel);
  return panel;
}

function closePanel(path) {
  const panel = panels.get(path);
  panel.view.destroy();
  panel.element.remove();
  panels.delete(path);
}

/** panels for the shown leaves that the outline has (a leaf of another kind or shape gets a new one) */
function syncPanels() {
  for (const [path, panel] of panels) {
    const node = nodes.get(path);
    if (!shownPaths().includes(path) || !node || viewKind(node) !== viewKind(panel.node) || node.kind !== panel.node.kind) closePanel(path);
  }
  for (const path of shownPaths()) if (!panels.has(path) && nodes.has(path) && viewKind(nodes.get(path))) openPanel(path);
}

async function refreshPanel(panel, force) {
  const node = nodes.get(panel.element.dataset.path);
  if (!force && Date.now() - panel.fetchedAt < IDLE_REFRESH_MS) return;
  panel.fetchedAt = Date.now();
  const error = panel.element.querySelector('.error');
  try {
    await panel.view.refresh(node);
    error.textContent = '';
    panel.updates += 1;
    panel.element.dataset.updates = String(panel.updates);
    panel.element.dataset.shape = node.shape.join('x');
    panel.element.querySelector('h3 .info').textContent = describe(node);
  } catch (e) {
    error.textContent = e.message;
  }
}

tree().addEventListener('change', (event) => {
  const path = event.target.dataset?.path;
  if (!path) return;
  const others = shownPaths().filter((p) => p !== path);
  picked = event.target.checked ? [...others, path] : others;
  localStorage.setItem(SHOWN_KEY, JSON.stringify(picked));
  syncPanels();
  const panel = panels.get(path);
  if (panel) refreshPanel(panel, true);
});

/** one round: the outline, then the shown leaves that may have changed */
export async function refreshResults({ running }) {
  let outline;
  try {
    outline = await getJson('/api/v1/reducer/outline');
  } catch (error) {
    tree().innerHTML = `<p class="hint">${esc(error.message)}</p>`;
    structure = '';
    return;
  }
  const text = JSON.stringify(outline);
  const changed = text !== outlineText;
  outlineText = text;
  nodes = new Map(outline.nodes.filter((n) => n.path !== null).map((n) => [n.path, n]));
  firstPlottable = outline.nodes.filter(viewKind).slice(0, SHOWN_BY_DEFAULT).map((n) => n.path);
  const nextStructure = JSON.stringify(outline.nodes.map(({ value: _value, ...rest }) => rest));
  if (nextStructure !== structure) renderTree(outline);
  else updateScalars();
  structure = nextStructure;
  syncPanels();
  await Promise.all([...panels.values()].map((panel) => refreshPanel(panel, running || changed)));
}
