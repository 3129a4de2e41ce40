// The dashboard: tabs, and one refresh round after another (every second while a scan runs,
// slower when idle). Each round reads the header's numbers and what the shown tab needs.
import { refreshLogs } from './logs.js';
import { refreshParameters } from './parameters.js';
import { refreshHeader, refreshPipeline, sampleLoad } from './pipeline.js';
import { refreshResults } from './results.js';

const RUNNING_MS = 1000;
const IDLE_MS = 2500;
const TABS = { results: refreshResults, pipeline: refreshPipeline, parameters: refreshParameters, logs: refreshLogs };

const connection = document.getElementById('connection');
let tab = TABS[location.hash.slice(1)] ? location.hash.slice(1) : 'results';
let timer;
let state = { running: false };
/** one round at a time: a round asked for during another runs right after it */
let inRound = false;
let again = false;

function showTab(name) {
  tab = name;
  for (const button of document.querySelectorAll('nav button')) button.classList.toggle('active', button.dataset.tab === name);
  for (const section of document.querySelectorAll('.tab')) section.classList.toggle('active', section.id === `tab-${name}`);
  history.replaceState(null, '', `#${name}`);
}

async function round() {
  if (inRound) {
    again = true;
    return;
  }
  inRound = true;
  clearTimeout(timer);
  const started = performance.now();
  try {
    state = await refreshHeader();
    connection.textContent = '';
  } catch (error) {
    connection.textContent = `controller unreachable: ${error.message}`;
  }
  const shown = tab;
  await Promise.all([sampleLoad(), TABS[shown](state)].map((job) => job.catch((error) => {
    console.error(error);
    if (shown === tab) connection.textContent = `${shown}: ${error.message}`;
  })));
  // how long a round took, for whoever measures the page
  document.body.dataset.roundMs = String(Math.round(performance.now() - started));
  inRound = false;
  if (again) {
    again = false;
    round();
  } else {
    timer = setTimeout(round, state.running ? RUNNING_MS : IDLE_MS);
  }
}

for (const button of document.querySelectorAll('nav button')) {
  button.addEventListener('click', () => { showTab(button.dataset.tab); round(); });
}
window.addEventListener('hashchange', () => {
  const name = location.hash.slice(1);
  if (TABS[name] && name !== tab) { showTab(name); round(); }
});
document.getElementById('log-level').addEventListener('change', () => round());
showTab(tab);
round();
