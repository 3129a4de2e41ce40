// A 1-D leaf of publish as a line plot. Only what is shown is fetched: at most POINTS values of
// the visible range, evenly strided (`slice=start:stop:step`), so a series of a million points
// costs what one of two thousand does. Drag to zoom (the range is fetched at full detail as far
// as POINTS allows), double-click for the whole series.
import { lineChart } from './chart.js';
import { fetchLeaf } from './leaf.js';

const POINTS = 2000;

function finiteOrNull(values) {
  return Array.from(values, (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

export class SeriesView {
  constructor(body, node) {
    this.node = node;
    this.range = null;
    this.info = document.createElement('div');
    this.info.className = 'readout';
    const plot = document.createElement('div');
    body.append(plot, this.info);
    const label = String(node.keys.at(-1) ?? 'publish');
    this.chart = lineChart(plot, {
      labels: [label],
      onZoom: (x0, x1) => { this.range = [Math.max(0, Math.floor(x0)), Math.ceil(x1) + 1]; this.refresh(); },
      onUnzoom: () => { this.range = null; this.refresh(); },
    });
  }

  async refresh(node = this.node) {
    this.node = node;
    const length = node.shape[0];
    const [start, stop] = this.range ? [this.range[0], Math.min(length, this.range[1])] : [0, length];
    const step = Math.max(1, Math.ceil((stop - start) / POINTS));
    const values = length ? await fetchLeaf(node, `${start}:${stop}:${step}`) : [];
    const xs = Array.from({ length: values.length }, (_, i) => start + i * step);
    this.chart.setData([xs, finiteOrNull(values)]);
    this.points = values.length;
    this.info.textContent = `${length.toLocaleString('en')} points; showing ${start}:${stop}${step > 1 ? `, 1 value in ${step}` : ''}`
      + (this.range ? ' (double-click for all)' : '');
  }

  destroy() { this.chart.destroy(); }
}
