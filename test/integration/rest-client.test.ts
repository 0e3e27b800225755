/** RestClient against a real node:http server on 127.0.0.1: rate limits, bans, timeouts, error bodies. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from '../../src/services/collector/net/poller';
import { RateLimitedError, RestClient, RestError } from '../../src/services/collector/net/rest-client';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A test exchange: routes by path; counts what reaches it. */
async function startServer(
  routes: Record<string, Handler>,
): Promise<{ base: string; hits: URL[]; headers: IncomingMessage['headers'][] }> {
  const hits: URL[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    hits.push(url);
    headers.push(req.headers);
    const route = routes[url.pathname];
    if (route) route(req, res, url);
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, headers };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

describe('RestClient', () => {
  it('GETs JSON with query parameters, a user agent, and records the used weight', async () => {
    const srv = await startServer({
      '/api/v3/depth': (_req, res, url) =>
        json(
          res,
          200,
          { lastUpdateId: 7, symbol: url.searchParams.get('symbol'), limit: url.searchParams.get('limit') },
          { 'X-MBX-USED-WEIGHT-1M': '250', 'X-MBX-USED-WEIGHT-1S': '3' },
        ),
    });
    const client = new RestClient(`${srv.base}/`, { timeoutMs: 2000, userAgent: 'vigil-test/1' });
    expect(client.usedWeight).toBeNull();
    const depth = await client.getJson<{ lastUpdateId: number; symbol: string; limit: string }>(
      '/api/v3/depth',
      { symbol: 'BTCUSDT', limit: 5000, skipped: undefined },
      { weight: 250 },
    );
    expect(depth).toEqual({ lastUpdateId: 7, symbol: 'BTCUSDT', limit: '5000' });
    expect(srv.hits[0]!.search).toBe('?symbol=BTCUSDT&limit=5000');
    expect(srv.headers[0]!['user-agent']).toBe('vigil-test/1');
    expect(client.usedWeight).toBe(250);
    expect(client.usedWeights).toEqual({ '1m': 250, '1s': 3 });
    expect(client.stats()).toMatchObject({
      requests: 1,
      ok: 1,
      errors: 0,
      weightSent: 250,
      usedWeight: 250,
      lastStatus: 200,
    });
  });

  it('after a 429 with Retry-After, fails fast without touching the server until then', async () => {
    let limited = true;
    const srv = await startServer({
      '/fapi/v1/openInterest': (_req, res) => {
        if (limited) {
          limited = false;
          json(
            res,
            429,
            { code: -1003, msg: 'Too many requests; current limit is 2400 request weight per 1 MINUTE.' },
            { 'Retry-After': '1' },
          );
        } else {
          json(res, 200, { openInterest: '10659.509', symbol: 'BTCUSDT', time: 1 });
        }
      },
    });
    const client = new RestClient(srv.base, { timeoutMs: 2000 });
    const t0 = Date.now();
    const first = await failure(client.getJson('/fapi/v1/openInterest', { symbol: 'BTCUSDT' }));
    expect(first).toBeInstanceOf(RateLimitedError);
    const e = first as RateLimitedError;
    expect(e.status).toBe(429);
    expect(e.url).toBe(`${srv.base}/fapi/v1/openInterest?symbol=BTCUSDT`);
    expect(e.retryAt).toBeGreaterThanOrEqual(t0 + 1000);
    expect(e.retryAt).toBeLessThanOrEqual(Date.now() + 1000);
    expect(e.message).toContain('-1003 Too many requests');
    expect(e.local).toBe(false);

    // Every request until retryAt fails fast, and none reaches the server.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const err = await failure(client.getJson('/fapi/v1/openInterest', { symbol: 'BTCUSDT' }));
      expect(err).toBeInstanceOf(RateLimitedError);
      expect((err as RateLimitedError).retryAt).toBe(e.retryAt);
      expect(Date.now() - started).toBeLessThan(50);
    }
    expect(srv.hits).toHaveLength(1);
    expect(client.retryAt).toBe(e.retryAt);

    await sleep(e.retryAt - Date.now() + 20);
    expect(client.retryAt).toBeNull();
    const ok = await client.getJson<{ openInterest: string }>('/fapi/v1/openInterest', { symbol: 'BTCUSDT' });
    expect(ok.openInterest).toBe('10659.509');
    expect(srv.hits).toHaveLength(2);
    expect(client.stats()).toMatchObject({
      requests: 2,
      ok: 1,
      errors: 1,
      rateLimited: 1,
      bans: 0,
      refused: 5,
    });
  });

  it('treats 418 as an IP ban: Retry-After when given, 2 minutes when not', async () => {
    let retryAfter: string | null = '3';
    const srv = await startServer({
      '/api/v3/depth': (_req, res) =>
        json(
          res,
          418,
          { code: -1003, msg: 'Way too many requests; IP banned.' },
          retryAfter ? { 'Retry-After': retryAfter } : {},
        ),
    });
    const withHeader = new RestClient(srv.base, { timeoutMs: 2000 });
    const t0 = Date.now();
    const e1 = (await failure(
      withHeader.getJson('/api/v3/depth', { symbol: 'BTCUSDT' }),
    )) as RateLimitedError;
    expect(e1).toBeInstanceOf(RateLimitedError);
    expect(e1.status).toBe(418);
    expect(e1.message).toContain('IP banned');
    expect(e1.retryAt - t0).toBeGreaterThanOrEqual(3000);
    expect(e1.retryAt - t0).toBeLessThan(4000);

    retryAfter = null;
    const withoutHeader = new RestClient(srv.base, { timeoutMs: 2000 });
    const t1 = Date.now();
    const e2 = (await failure(
      withoutHeader.getJson('/api/v3/depth', { symbol: 'BTCUSDT' }),
    )) as RateLimitedError;
    expect(e2.status).toBe(418);
    expect(e2.retryAt - t1).toBeGreaterThanOrEqual(120_000);
    expect(e2.retryAt - t1).toBeLessThan(121_000);
    const e3 = await failure(withoutHeader.getJson('/api/v3/exchangeInfo'));
    expect(e3).toMatchObject({ status: 418, retryAt: e2.retryAt });
    expect(srv.hits).toHaveLength(2);
    expect(withoutHeader.stats()).toMatchObject({ bans: 1, rateLimited: 1, refused: 1 });
  });

  it('times out a silent server and a stalled body, naming the URL', async () => {
    const srv = await startServer({
      '/silent': () => {
        // Never answers.
      },
      '/stalled': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"bids":[');
      },
    });
    const client = new RestClient(srv.base, { timeoutMs: 300 });
    for (const path of ['/silent', '/stalled']) {
      const started = Date.now();
      const err = await failure(client.getJson(path));
      expect(err).toBeInstanceOf(RestError);
      expect(err).toMatchObject({ kind: 'timeout', url: `${srv.base}${path}` });
      expect((err as RestError).message).toContain(`${srv.base}${path}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(Date.now() - started).toBeLessThan(3000);
    }
    expect(client.stats()).toMatchObject({ timeouts: 2, errors: 2 });
  });

  it('puts the status and the Binance error body in errors', async () => {
    const srv = await startServer({
      '/api/v3/depth': (_req, res) => json(res, 400, { code: -1121, msg: 'Invalid symbol.' }),
      '/text': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('not json at all'),
      '/boom': (_req, res) => res.writeHead(502).end(),
    });
    const client = new RestClient(srv.base, { timeoutMs: 2000 });

    const bad = (await failure(client.getJson('/api/v3/depth', { symbol: 'NOPE' }))) as RestError;
    expect(bad).toBeInstanceOf(RestError);
    expect(bad).toMatchObject({ kind: 'http', status: 400, code: -1121, exchangeMessage: 'Invalid symbol.' });
    expect(bad.message).toBe(`GET ${srv.base}/api/v3/depth?symbol=NOPE: HTTP 400: -1121 Invalid symbol.`);

    const missing = (await failure(client.getJson('/nowhere'))) as RestError;
    expect(missing).toMatchObject({ kind: 'http', status: 404, code: null });
    expect(missing.message).toContain('HTTP 404');
    expect(missing.message).toContain('Not Found');

    const text = (await failure(client.getJson('/text'))) as RestError;
    expect(text).toMatchObject({ kind: 'parse', status: 200, body: 'not json at all' });

    const empty = (await failure(client.getJson('/boom'))) as RestError;
    expect(empty).toMatchObject({ kind: 'http', status: 502 });
    expect(empty.message).toContain('(empty body)');

    // Errors other than 429/418 do not hold requests back.
    expect(client.retryAt).toBeNull();
    expect(client.stats()).toMatchObject({ requests: 4, ok: 0, errors: 4, refused: 0 });
  });

  it('reports a refused connection as a network error', async () => {
    const srv = await startServer({});
    const port = new URL(srv.base).port;
    await cleanups.pop()!(); // stop the server: nothing listens on the port any more
    const client = new RestClient(`http://127.0.0.1:${port}`, { timeoutMs: 2000 });
    const err = (await failure(client.getJson('/x'))) as RestError;
    expect(err).toMatchObject({ kind: 'network', status: null });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('refuses locally when our weight budget for the minute is spent', async () => {
    const srv = await startServer({
      '/w': (_req, res) => json(res, 200, {}, { 'X-MBX-USED-WEIGHT-1M': '90' }),
    });
    // Pin the clock to the start of a minute so the test does not straddle a minute boundary.
    const minuteStart = Math.floor(Date.now() / 60_000) * 60_000;
    const client = new RestClient(srv.base, {
      timeoutMs: 2000,
      weightLimitPerMinute: 100,
      now: () => minuteStart + 1000,
    });
    await client.getJson('/w', {}, { weight: 5 });
    await client.getJson('/w', {}, { weight: 10 });
    const err = (await failure(client.getJson('/w', {}, { weight: 11 }))) as RateLimitedError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ local: true, retryAt: minuteStart + 60_000 });
    expect(srv.hits).toHaveLength(2);
    // Not a hold: a lighter request still fits.
    await client.getJson('/w', {}, { weight: 10 });
    expect(srv.hits).toHaveLength(3);
  });

  it('drives a Poller that pauses on a rate limit', async () => {
    let n = 0;
    const srv = await startServer({
      '/oi': (_req, res) => {
        n++;
        if (n === 2) json(res, 429, { code: -1003, msg: 'slow down' }, { 'Retry-After': '1' });
        else json(res, 200, { openInterest: String(n) });
      },
    });
    const client = new RestClient(srv.base, { timeoutMs: 2000 });
    const got: string[] = [];
    const errors: unknown[] = [];
    const poller = new Poller({
      intervalMs: 100,
      run: async () => {
        got.push((await client.getJson<{ openInterest: string }>('/oi')).openInterest);
      },
      onError: (e) => errors.push(e),
    });
    poller.start();
    cleanups.push(() => poller.stop());
    await sleep(700);
    // Run 1 ok, run 2 rate-limited, then a pause of about a second: no request hammers the server.
    expect(got).toEqual(['1']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RateLimitedError);
    expect(srv.hits).toHaveLength(2);
    await sleep(900);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got[1]).toBe('3');
    await poller.stop();
  });
});
