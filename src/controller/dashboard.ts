/** The controller's start page: progress, worker load, components and recent logs, refreshed live. */
export const dashboardHtml = `<!doctype html>
<html><head><meta charset="utf-8"><title>dranspose</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} h2{font-size:1.05em;margin-top:1.4em}
progress{width:30em;height:1.2em} table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
tr.WARNING{background:#f3efc0} tr.ERROR{background:#f5c9bd} tr.CRITICAL{background:#f88}
pre{background:#f6f6f6;padding:.6em;max-height:20em;overflow:auto}
</style></head>
<body>
<h1>dranspose pipeline</h1>
<div><progress id="bar" value="0" max="1"></progress> <span id="counts"></span></div>
<h2>Workers</h2><table id="workers"></table>
<h2>Components</h2><pre id="config"></pre>
<h2>Logs</h2><table id="logs"></table>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
async function refresh() {
  try {
    const [progress, config, load, logs] = await Promise.all(['progress', 'config', 'load?intervals=10', 'logs?level=INFO']
      .map((p) => fetch('/api/v1/' + p).then((r) => r.json())));
    $('bar').max = Math.max(1, progress.total_events); $('bar').value = progress.completed_events;
    $('counts').textContent = progress.completed_events + ' / ' + progress.total_events + ' events' + (progress.finished ? ' (finished)' : '');
    $('workers').innerHTML = '<tr><th>worker</th><th>last event</th><th>load (10)</th><th>load (scan)</th></tr>' +
      Object.entries(load).map(([w, l]) => {
        const r = (i) => i && i.total ? (i.active / i.total).toFixed(2) : '-';
        return '<tr><td>' + esc(w) + '</td><td>' + l.last_event + '</td><td>' + r(l.intervals['10']) + '</td><td>' + r(l.intervals.scan) + '</td></tr>';
      }).join('');
    $('config').textContent = JSON.stringify(config, null, 1);
    $('logs').innerHTML = '<tr><th>time</th><th>level</th><th>component</th><th>message</th></tr>' + logs.slice(-200).reverse().map((e) =>
      '<tr class="' + esc(e.levelname) + '"><td>' + new Date(Number(e.created) * 1000).toLocaleString() + '</td><td>' + esc(e.levelname) +
      '</td><td>' + esc(e.name) + '</td><td>' + esc(e.msg) + '</td></tr>').join('');
  } catch (error) { console.error(error); }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>`;
