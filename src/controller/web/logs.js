// The Logs tab: the recent log records of every component, newest first.
import { esc, getJson } from './api.js';

const SHOWN = 300;
const $ = (id) => document.getElementById(id);

export async function refreshLogs() {
  const logs = await getJson(`/api/v1/logs?level=${encodeURIComponent($('log-level').value)}`);
  $('logs').innerHTML = '<tr><th>time</th><th>level</th><th>component</th><th>message</th></tr>' + logs.slice(-SHOWN).reverse().map((e) =>
    `<tr class="${esc(e.levelname)}"><td>${esc(new Date(Number(e.created) * 1000).toLocaleString())}</td><td>${esc(e.levelname)}</td>`
    + `<td>${esc(e.name)}</td><td>${esc(e.msg)}</td></tr>`).join('');
}
