// The scan at a glance (the header: progress, rate, time left, failed, lost, bad frames) and the
// Pipeline tab: event rate and worker load over time, each component's life, the problems of the
// scan with their reasons, and the scans of this controller.
import { esc, getJson, short } from './api.js';
import { lineChart } from './chart.js';

/** /api/v1/status lists the latest problems with their events only when asked (counts are always there) */
const STATUS_WITH_LISTS = '/api/v1/status?details=true';
const HISTORY_SECONDS = 600;
const RATE_WINDOW_SECONDS = 10;
const LISTED = 100;

const $ = (id) => document.getElementById(id);

/** the newest samples of completed events, for the rate and the time left */
const samples = [];
const rateSeries = [[], []];
const loadSeries = { workers: [], times: [], values: [] };
let rateChart;
let loadChart;

function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function trim(times, ...series) {
  const cut = times.findIndex((t) => t >= Date.now() / 1000 - HISTORY_SECONDS);
  if (cut > 0) for (const list of [times, ...series]) list.splice(0, cut);
}

function recordRate(progress, now) {
  const last = samples.at(-1);
  if (last && progress.completed_events < last.completed) samples.length = 0;   // a new scan
  samples.push({ t: now, completed: progress.completed_events });
  while (samples.length > 2 && samples[0].t < now - RATE_WINDOW_SECONDS) samples.shift();
  const first = samples[0];
  const rate = samples.length > 1 && now > first.t ? (progress.completed_events - first.completed) / (now - first.t) : 0;
  rateSeries[0].push(now);
  rateSeries[1].push(rate);
  trim(rateSeries[0], rateSeries[1]);
  return rate;
}

function setCount(id, value) {
  const element = $(id);
  element.textContent = short(value);
  element.dataset.count = String(value);
}

/** the header; resolves with whether a scan is running and the scan's counts */
export async function refreshHeader() {
  const progress = await getJson('/api/v1/progress');
  const rate = recordRate(progress, Date.now() / 1000);
  const idle = progress.total_events === 0;
  const running = !idle && !progress.finished;
  const outcome = idle ? 'idle' : progress.outcome;
  const badge = $('scan-state');
  badge.textContent = outcome.replaceAll('_', ' ');
  badge.className = `badge ${outcome}`;
  $('scan-bar').max = Math.max(1, progress.total_events);
  $('scan-bar').value = progress.completed_events;
  $('scan-counts').textContent = `${progress.completed_events.toLocaleString('en')} / ${progress.total_events.toLocaleString('en')} events`;
  $('count-rate').textContent = running ? `${short(Math.round(rate))} ev/s` : '–';
  $('count-eta').textContent = running && rate > 0 ? duration((progress.total_events - progress.completed_events) / rate) : '–';
  setCount('count-failed', progress.failed_events);
  setCount('count-lost', progress.lost_events);
  setCount('count-missing', progress.missing_frames);
  setCount('count-bad', progress.bad_frames);
  return { running, counts: progress };
}

/** worker load over time; sampled every round, whichever tab is shown */
export async function sampleLoad() {
  const load = await getJson('/api/v1/load?intervals=10&scan=false');
  const workers = Object.keys(load).sort();
  if (workers.join() !== loadSeries.workers.join()) {
    // a worker joined or left: its column starts now, the others keep their history
    const previous = new Map(loadSeries.workers.map((w, i) => [w, loadSeries.values[i]]));
    loadSeries.values = workers.map((w) => previous.get(w) ?? loadSeries.times.map(() => null));
    loadSeries.workers = workers;
    loadChart?.destroy();
    loadChart = undefined;
  }
  loadSeries.times.push(Date.now() / 1000);
  workers.forEach((w, i) => {
    const interval = load[w].intervals['10'];
    loadSeries.values[i].push(interval && interval.total > 0 ? interval.active / interval.total : null);
  });
  trim(loadSeries.times, ...loadSeries.values);
}

function drawPlots() {
  rateChart ??= lineChart($('rate-plot'), { labels: ['events/s'], time: true });
  rateChart.setData(rateSeries);
  if (!loadChart && loadSeries.workers.length) {
    $('load-plot').innerHTML = '';
    loadChart = lineChart($('load-plot'), { labels: loadSeries.workers, time: true });
  }
  loadChart?.setData([loadSeries.times, ...loadSeries.values]);
}

function table(element, headings, rows) {
  element.innerHTML = `<tr>${headings.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}`;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

function renderComponents(components) {
  table($('components'), ['component', 'state', 'restarts', 'processed', 'rate (ev/s)', 'errors', 'last seen'], components.map((c) =>
    `<tr class="${esc(c.state)}"><td>${esc(c.component)}</td><td class="state-${esc(c.state)}">${esc(c.state)}${c.restarted_at ? ` <span class="info">(${esc(time(c.restarted_at))})</span>` : ''}</td>`
    + `<td class="num">${c.restarts}</td><td class="num">${short(c.processed_events)}</td><td class="num">${short(Math.round(c.event_rate))}</td>`
    + `<td class="num">${c.errors}</td><td>${esc(time(c.last_seen))}</td></tr>`));
}

function renderScans(scans) {
  table($('scans'), ['scan', 'started', 'ended', 'events', 'failed', 'lost', 'missing frames', 'bad frames', 'outcome'], scans.map((s) =>
    `<tr><td title="${esc(s.id)}">${esc(s.id.slice(0, 8))}</td><td>${esc(time(s.started))}</td><td>${esc(time(s.ended))}</td>`
    + `<td class="num">${s.completed_events} / ${s.total_events}</td><td class="num">${s.failed_events}</td><td class="num">${s.lost_events}</td>`
    + `<td class="num">${s.missing_frames}</td><td class="num">${s.bad_frames}</td><td><span class="badge ${esc(s.outcome)}">${esc(s.outcome.replaceAll('_', ' '))}</span></td></tr>`));
}

function problemTable(title, problems, total) {
  if (!problems?.length && !total) return '';
  const rows = (problems ?? []).slice(-LISTED).map((p) => `<tr><td class="num">${p.event}</td><td>${esc(p.component)}</td><td>${esc(p.reason)}</td></tr>`).join('');
  const more = total > LISTED ? `<p class="hint">the latest ${LISTED} of ${total}</p>` : '';
  return `<h3>${esc(title)} (${total})</h3><div class="problems-list"><table><tr><th>event</th><th>where</th><th>reason</th></tr>${rows}</table></div>${more}`;
}

function badFramesByStream(frames) {
  const streams = new Map();
  for (const frame of frames ?? []) {
    const stream = String(frame.component).split('/').at(-1);
    const entry = streams.get(stream) ?? streams.set(stream, { count: 0, reasons: new Map() }).get(stream);
    entry.count += 1;
    entry.reasons.set(frame.reason, (entry.reasons.get(frame.reason) ?? 0) + 1);
  }
  if (!streams.size) return '';
  return `<h3>Bad frames by stream</h3><table><tr><th>stream</th><th>frames</th><th>reasons</th></tr>${[...streams].map(([stream, e]) =>
    `<tr><td>${esc(stream)}</td><td class="num">${e.count}</td><td>${[...e.reasons].map(([r, n]) => `${esc(r)} (${n})`).join('<br>')}</td></tr>`).join('')}</table>`;
}

async function renderProblems(counts) {
  const total = (counts?.failed_events ?? 0) + (counts?.lost_events ?? 0) + (counts?.missing_frames ?? 0) + (counts?.bad_frames ?? 0);
  if (!total) {
    $('problems').innerHTML = '<p class="hint">none</p>';
    return;
  }
  const status = await getJson(STATUS_WITH_LISTS);
  $('problems').innerHTML = problemTable('Failed events', status.failed_event_list, counts.failed_events)
    + problemTable('Lost events', status.lost_event_list, counts.lost_events)
    + problemTable('Missing frames', status.missing_frame_list, counts.missing_frames)
    + badFramesByStream(status.bad_frame_list)
    + problemTable('Bad frames', status.bad_frame_list, counts.bad_frames);
}

/** the Pipeline tab, while it is shown */
export async function refreshPipeline({ counts }) {
  drawPlots();
  const [components, scans] = await Promise.all([getJson('/api/v1/components'), getJson('/api/v1/scans?limit=50')]);
  renderComponents(components);
  renderScans(scans);
  await renderProblems(counts);
}
