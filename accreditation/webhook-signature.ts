import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 over "<timestamp>.<raw body>", sent as `X-Plenum-Signature: t=<unix seconds>,v1=<hex>`.
 * The timestamp bounds replay: a signature older than the tolerance is refused.
 */
export function signWebhook(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export function verifyWebhook(secret: string, body: string, header: string | undefined, toleranceSeconds = 300): boolean {
  if (!header || header.length > 512) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  const v1 = parts.v1;
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(Math.floor(Date.now() / 1000) - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
