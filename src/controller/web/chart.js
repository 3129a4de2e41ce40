// Line charts on uPlot: sized to their container, one colour per series, and (for long series) a
// drag-to-zoom that asks the owner for data instead of zooming into what is already loaded.
import uPlot from '/web/vendor/uPlot.esm.js';

const PALETTE = ['#2f6fb3', '#d35400', '#23884a', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#b9770e'];
const HEIGHT = 220;

/**
 * `labels`: one per y series. `time`: x is seconds since the epoch. `onZoom(x0, x1)` and
 * `onUnzoom()`: the user dragged a range or double-clicked; without them uPlot zooms itself.
 */
export function lineChart(container, { labels, time = false, xLabel = time ? 'time' : 'index', onZoom, onUnzoom, height = HEIGHT }) {
  const width = () => Math.max(200, container.clientWidth || 400);
  const options = {
    width: width(),
    height,
    scales: { x: { time } },
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: !onZoom } },
    series: [{ label: xLabel }, ...labels.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 1.25, points: { show: false } }))],
    hooks: {
      setSelect: [(u) => {
        if (!onZoom || u.select.width < 3) return;
        const x0 = u.posToVal(u.select.left, 'x');
        const x1 = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
        onZoom(x0, x1);
      }],
    },
  };
  const plot = new uPlot(options, [[], ...labels.map(() => [])], container);
  if (onUnzoom) plot.over.addEventListener('dblclick', () => onUnzoom());
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height }));
  resize.observe(container);
  return {
    plot,
    labels,
    setData(data) { plot.setData(data); },
    destroy() { resize.disconnect(); plot.destroy(); },
  };
}
