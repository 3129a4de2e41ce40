/**
 * The address a part publishes in Redis for others to connect to: the endpoint it bound, with the
 * host replaced by the advertised one when given. A part bound to a wildcard address
 * (`tcp://0.0.0.0:0`) on one host is reached by the others at its host's name or address.
 */
export function advertisedEndpoint(bound: string, advertise: string | undefined): string {
  if (!advertise) return bound;
  const match = /^([a-z]+:\/\/)(.+):(\d+)$/.exec(bound);
  if (!match) throw new Error(`cannot advertise ${advertise} for ${bound}: not a transport://host:port endpoint`);
  const host = advertise.includes(':') && !advertise.startsWith('[') ? `[${advertise}]` : advertise;
  return `${match[1]}${host}:${match[3]}`;
}
