// The Parameters tab: every described parameter with its type, default and current value, and a
// field to set it (a file for `binary` ones). The value goes as raw bytes to
// POST /api/v1/parameter/{name}; a refusal shows the controller's reason. When the controller asks
// for a token (401), the page asks for it and sends it as `Authorization: Bearer`.
import { ApiError, esc, getBytes, getJson, postBytes, token } from './api.js';

const $ = (id) => document.getElementById(id);
let shownHash = null;
let descriptionsText = '';

/** the field to set a parameter, showing its current value */
function input(description, bytes) {
  const name = esc(description.name);
  const text = bytes === null ? '' : new TextDecoder().decode(bytes);
  switch (description.dtype) {
    case 'binary': return `<input type="file" data-name="${name}">`;
    case 'bool': return `<select data-name="${name}">${['True', 'False'].map((v) => `<option ${['true', '1'].includes(text.trim().toLowerCase()) === (v === 'True') ? 'selected' : ''}>${v}</option>`).join('')}</select>`;
    default: return `<input type="text" data-name="${name}" spellcheck="false" value="${esc(text)}">`;
  }
}

function shownValue(description, bytes) {
  if (bytes === null) return '<span class="hint">not set</span>';
  if (description.dtype === 'binary') return `${bytes.length.toLocaleString('en')} bytes`;
  return `<code>${esc(new TextDecoder().decode(bytes.subarray(0, 500)))}</code>`;
}

/** the value's bytes; null for a parameter never set (it has no version) */
async function currentValue(name, versions) {
  return name in versions ? await getBytes(`/api/v1/parameter/${encodeURIComponent(name)}`) : null;
}

async function render(descriptions, versions) {
  const values = await Promise.all(descriptions.map((d) => currentValue(d.name, versions)));
  $('parameters').innerHTML = '<tr><th>name</th><th>type</th><th>default</th><th>current value</th><th>description</th><th>set</th></tr>'
    + descriptions.map((d, i) => `<tr data-parameter="${esc(d.name)}"><td><code>${esc(d.name)}</code></td><td>${esc(d.dtype)}</td>`
      + `<td><code>${esc(d.default ?? '')}</code></td><td class="current">${shownValue(d, values[i])}</td><td>${esc(d.description ?? '')}</td>`
      + `<td>${input(d, values[i])} <button data-set="${esc(d.name)}">Set</button> <span class="outcome"></span></td></tr>`).join('');
}

async function valueBytes(field) {
  if (field.type === 'file') {
    if (!field.files?.length) throw new Error('choose a file first');
    return new Uint8Array(await field.files[0].arrayBuffer());
  }
  return new TextEncoder().encode(field.value);
}

async function set(name) {
  const row = $('parameters').querySelector(`tr[data-parameter="${CSS.escape(name)}"]`);
  const outcome = row.querySelector('.outcome');
  outcome.className = 'outcome';
  outcome.textContent = 'sending…';
  try {
    await postBytes(`/api/v1/parameter/${encodeURIComponent(name)}`, await valueBytes(row.querySelector('[data-name]')));
    outcome.className = 'outcome accepted';
    outcome.textContent = 'set';
    shownHash = null;   // show the new value on the next refresh
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      $('token-box').hidden = false;
      $('token').focus();
      outcome.className = 'outcome refused';
      outcome.textContent = token.get() ? 'the token was refused' : 'enter the token above and set again';
      return;
    }
    outcome.className = 'outcome refused';
    outcome.textContent = error.message;
  }
}

$('parameters').addEventListener('click', (event) => {
  const name = event.target.dataset?.set;
  if (name) set(name);
});
$('token').addEventListener('change', () => token.set($('token').value.trim()));
if (token.get()) {
  $('token-box').hidden = false;
  $('token').value = token.get();
}

/** the Parameters tab, while it is shown: redrawn when the descriptions or the values changed */
export async function refreshParameters() {
  const [descriptions, config] = await Promise.all([getJson('/api/v1/parameters'), getJson('/api/v1/config')]);
  const text = JSON.stringify(descriptions);
  if (text === descriptionsText && config.parameters_hash === shownHash) return;
  const typing = document.activeElement?.closest?.('#parameters');
  if (text === descriptionsText && typing) {
    // keep what the user is typing: update the current values only
    for (const d of descriptions) {
      const cell = $('parameters').querySelector(`tr[data-parameter="${CSS.escape(d.name)}"] .current`);
      if (cell) cell.innerHTML = shownValue(d, await currentValue(d.name, config.parameters_version));
    }
  } else {
    await render(descriptions, config.parameters_version);
  }
  descriptionsText = text;
  shownHash = config.parameters_hash;
}
