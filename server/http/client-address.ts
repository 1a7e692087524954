import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** PLENUM_TRUST_PROXY as configured: nobody, the number of proxies in front, or their addresses. */
export type TrustProxy = false | number | string[];

/**
 * The client's address as HTTP and signaling both see it: behind trusted proxies, from X-Forwarded-For
 * (the same rule as express's `trust proxy`, so a per-address limit counts the same client on both).
 */
export function clientAddressOf(trust: TrustProxy): (req: IncomingMessage) => string {
  const trusts =
    trust === false ? () => false : typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : proxyaddr.compile(trust);
  return (req) => proxyaddr(req, trusts);
}
