/** `scheme://host:port` of an upstream (IPv6 hosts in brackets), checked; `label` names it in errors. */
export function parseHostPort(url: string, scheme: 'tcp' | 'http', label: string): { host: string; port: number } {
  const match = new RegExp(`^${scheme}://(\\[[^\\]]+\\]|[^:/]+):(\\d+)/?$`).exec(url);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`${label} upstream ${JSON.stringify(url)} is not ${scheme}://host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}
