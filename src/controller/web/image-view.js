// A 2-D leaf of publish as an image with a colour map, a linear or log scale and a colour bar.
// Only what is shown is fetched: the image (or the zoomed region) decimated to about the canvas
// size with a strided slice (`slice=y0:y1:s,x0:x1:s`), so a 2048×2048 image costs what a 512×512
// one does. Drag a rectangle to zoom, double-click for the whole image; hover shows the value.
import { COLORMAPS } from './colormaps.js';
import { esc, short } from './api.js';
import { fetchLeaf } from './leaf.js';

const MIN_SIDE = 128;
const MAX_SIDE = 1024;

function flatten(values) {
  if (ArrayBuffer.isView(values)) return values;
  return Float64Array.from(values.flat(), (v) => (typeof v === 'number' ? v : NaN));
}

/** low and high of the finite (and for a log scale, positive) values: all of them, or the 1st and 99th percentile */
function valueRange(data, robust, positive) {
  const finite = [];
  const every = Math.max(1, Math.floor(data.length / 100_000));   // a sample is enough for percentiles
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || (positive && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (robust && i % every === 0) finite.push(v);
  }
  if (robust && finite.length) {
    finite.sort((a, b) => a - b);
    return [finite[Math.floor(finite.length * 0.01)], finite[Math.min(finite.length - 1, Math.floor(finite.length * 0.99))]];
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export class ImageView {
  constructor(body, node) {
    this.node = node;
    this.region = null;
    body.insertAdjacentHTML('beforeend', `
      <div class="controls">
        <label>colours <select data-role="cmap">${Object.keys(COLORMAPS).map((n) => `<option>${esc(n)}</option>`).join('')}</select></label>
        <label>scale <select data-role="scale"><option>linear</option><option>log</option></select></label>
        <label>range <select data-role="range"><option value="minmax">min–max</option><option value="robust">1–99 %</option><option value="fixed">fixed</option></select></label>
        <input data-role="lo" type="number" step="any" placeholder="min" hidden>
        <input data-role="hi" type="number" step="any" placeholder="max" hidden>
      </div>
      <div class="image"><canvas class="pixels"></canvas><div class="colorbar"><span data-role="top"></span><canvas width="1" height="256"></canvas><span data-role="bottom"></span></div></div>
      <div class="readout"></div>`);
    const $ = (role) => body.querySelector(`[data-role="${role}"]`);
    this.controls = { cmap: $('cmap'), scale: $('scale'), range: $('range'), lo: $('lo'), hi: $('hi') };
    this.canvas = body.querySelector('canvas.pixels');
    this.bar = body.querySelector('.colorbar canvas');
    this.labels = { top: $('top'), bottom: $('bottom') };
    this.readout = body.querySelector('.readout');
    for (const input of Object.values(this.controls)) input.addEventListener('input', () => this.draw());
    this.controls.range.addEventListener('input', () => {
      const fixed = this.controls.range.value === 'fixed';
      this.controls.lo.hidden = this.controls.hi.hidden = !fixed;
      if (fixed && this.shownRange) [this.controls.lo.value, this.controls.hi.value] = this.shownRange.map((v) => v.toPrecision(4));
    });
    this.listenForZoom();
  }

  /** canvas pixel → image row and column (of the whole image) */
  pixelAt(event) {
    const box = this.canvas.getBoundingClientRect();
    const { rows, cols, y0, x0, step } = this.pixels;
    const col = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * rows);
    return { row, col, y: y0 + row * step, x: x0 + col * step, inside: row >= 0 && row < rows && col >= 0 && col < cols };
  }

  listenForZoom() {
    let from = null;
    this.canvas.addEventListener('mousedown', (e) => { if (this.pixels) from = this.pixelAt(e); e.preventDefault(); });
    this.canvas.addEventListener('mouseup', (e) => {
      if (!from || !this.pixels) return;
      const to = this.pixelAt(e);
      const [ya, yb] = [Math.min(from.y, to.y), Math.max(from.y, to.y)];
      const [xa, xb] = [Math.min(from.x, to.x), Math.max(from.x, to.x)];
      from = null;
      if (yb - ya < 2 || xb - xa < 2) return;
      this.region = { y0: Math.max(0, ya), y1: yb + 1, x0: Math.max(0, xa), x1: xb + 1 };
      this.refresh();
    });
    this.canvas.addEventListener('dblclick', () => { this.region = null; this.refresh(); });
    this.canvas.addEventListener('mousemove', (e) => {
      if (!this.pixels) return;
      const p = this.pixelAt(e);
      if (!p.inside) return;
      const value = this.pixels.data[p.row * this.pixels.cols + p.col];
      this.readout.textContent = `[${p.y}, ${p.x}] = ${short(value)}` + this.zoomText();
    });
  }

  zoomText() {
    const { rows, cols, step } = this.pixels ?? {};
    const [h, w] = this.node.shape;
    const region = this.region ? `rows ${this.region.y0}:${this.region.y1}, columns ${this.region.x0}:${this.region.x1} (double-click for all)` : `${h}×${w}`;
    return `  ·  ${region}${step > 1 ? `, 1 pixel in ${step} per axis: ${rows}×${cols}` : ''}`;
  }

  async refresh(node = this.node) {
    this.node = node;
    const [h, w] = node.shape;
    const { y0, y1, x0, x1 } = this.region
      ? { ...this.region, y1: Math.min(h, this.region.y1), x1: Math.min(w, this.region.x1) }
      : { y0: 0, y1: h, x0: 0, x1: w };
    const side = Math.min(MAX_SIDE, Math.max(MIN_SIDE, Math.round((this.canvas.clientWidth || 512) * (devicePixelRatio || 1))));
    const step = Math.max(1, Math.ceil(Math.max(y1 - y0, x1 - x0) / side));
    const data = h && w ? flatten(await fetchLeaf(node, `${y0}:${y1}:${step},${x0}:${x1}:${step}`)) : new Float64Array(0);
    const rows = Math.ceil((y1 - y0) / step);
    const cols = rows ? data.length / rows : 0;
    this.pixels = { data, rows, cols, y0, x0, step };
    this.draw();
    this.readout.textContent = this.zoomText().replace(/^ {2}· {2}/, '');
  }

  draw() {
    if (!this.pixels) return;
    const { data, rows, cols } = this.pixels;
    const log = this.controls.scale.value === 'log';
    const mode = this.controls.range.value;
    const [lo, hi] = mode === 'fixed'
      ? [Number(this.controls.lo.value), Number(this.controls.hi.value)]
      : valueRange(data, mode === 'robust', log);
    this.shownRange = [lo, hi];
    const lut = COLORMAPS[this.controls.cmap.value];
    const t = log ? (v) => Math.log10(v) : (v) => v;
    const tl = t(lo);
    const span = t(hi) - tl || 1;
    if (!cols || !rows) return;
    this.canvas.width = cols;
    this.canvas.height = rows;
    const ctx = this.canvas.getContext('2d');
    const image = ctx.createImageData(cols, rows);
    const out = image.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const o = i * 4;
      if (!(Number.isFinite(v) && (!log || v > 0))) { out[o + 3] = 0; continue; }
      const k = Math.max(0, Math.min(255, Math.round(((t(v) - tl) / span) * 255))) * 3;
      out[o] = lut[k]; out[o + 1] = lut[k + 1]; out[o + 2] = lut[k + 2]; out[o + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    const bar = this.bar.getContext('2d');
    const strip = bar.createImageData(1, 256);
    for (let i = 0; i < 256; i++) {
      const k = (255 - i) * 3;
      strip.data.set([lut[k], lut[k + 1], lut[k + 2], 255], i * 4);
    }
    bar.putImageData(strip, 0, 0);
    this.labels.top.textContent = short(hi);
    this.labels.bottom.textContent = short(lo);
  }

  destroy() {}
}
