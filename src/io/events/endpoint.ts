// EndpointUri checks: http: or https: only, bounded length, and an optional allow-list of host names and IP
// addresses / CIDR blocks. The sidecar POSTs wherever a subscriber says, so an open list lets anyone who can reach
// the API make it send requests into the node's network (SSRF); names match literally (no DNS lookup here).
import { BlockList, isIP } from 'node:net';

export const maxEndpointBytes = 2048;

export interface EndpointPolicy {
  check(uri: string): string | undefined;
}

/** Builds the policy; throws on a malformed allow-list entry (a configuration error). */
export function endpointPolicy(allowHosts: readonly string[]): EndpointPolicy {
  const names = new Set<string>();
  const blocks = new BlockList();
  let anyBlock = false;
  for (const raw of allowHosts) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const ip = slash >= 0 ? entry.slice(0, slash) : entry;
    const family = isIP(ip);
    if (family !== 0) {
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (slash >= 0) {
        const prefix = Number(entry.slice(slash + 1));
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32))
          throw new Error(`events.allowHosts: bad prefix in "${raw}"`);
        blocks.addSubnet(ip, prefix, type);
      } else {
        blocks.addAddress(ip, type);
      }
      anyBlock = true;
    } else if (slash >= 0) {
      throw new Error(`events.allowHosts: "${raw}" is neither a host name nor an IP/CIDR`);
    } else {
      names.add(entry);
    }
  }
  const open = names.size === 0 && !anyBlock;
  return {
    check(uri: string): string | undefined {
      if (Buffer.byteLength(uri) > maxEndpointBytes) return `EndpointUri longer than ${maxEndpointBytes} bytes`;
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        return 'EndpointUri is not a valid URL';
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'EndpointUri must be http: or https:';
      if (url.username !== '' || url.password !== '') return 'EndpointUri must not carry credentials';
      if (open) return undefined;
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
      if (names.has(host)) return undefined;
      const family = isIP(host);
      if (family !== 0 && blocks.check(host, family === 6 ? 'ipv6' : 'ipv4')) return undefined;
      return `EndpointUri host ${host} is not in events.allowHosts`;
    },
  };
}
