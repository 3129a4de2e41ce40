// HTTP helpers of the dashboard: JSON and bytes from the controller (and the reducer through the
// controller's proxy), refusals as errors carrying the server's `detail`, and the bearer token for
// requests that change state when the controller asks for one.

const TOKEN_KEY = 'dranspose-token';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function refusal(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return new ApiError(response.status, typeof body.detail === 'string' ? body.detail : text);
  } catch {
    return new ApiError(response.status, text || response.statusText);
  }
}

export async function getResponse(path, accept) {
  const response = await fetch(path, { cache: 'no-store', headers: accept ? { Accept: accept } : {} });
  if (!response.ok) throw await refusal(response);
  return response;
}

export async function getJson(path) {
  return await (await getResponse(path, 'application/json')).json();
}

export async function getBytes(path) {
  return new Uint8Array(await (await getResponse(path)).arrayBuffer());
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => (value ? sessionStorage.setItem(TOKEN_KEY, value) : sessionStorage.removeItem(TOKEN_KEY)),
};

/** POSTs raw bytes; a 401 tells the caller to ask for the token */
export async function postBytes(path, body) {
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  const response = await fetch(path, { method: 'POST', body, headers });
  if (!response.ok) throw await refusal(response);
  return await response.json();
}

/** text safe to put into innerHTML */
export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** a number shown short: 1234567 → 1.23M, 0.000123 → 1.23e-4 */
export function short(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return value.toExponential(2);
  if (Number.isInteger(value)) return value.toLocaleString('en');
  return value.toPrecision(4);
}
