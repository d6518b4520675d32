import request from 'supertest';
import { TestApp, useService } from './harness';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** The only routes reachable without a token (PROTOCOL §2). */
const PUBLIC = new Set(['POST /token', 'GET /health']);
/** The API documentation is public by design: it is mounted by SwaggerModule, not by a controller. */
const DOCS = /^GET \/docs([-/]|$)/;

/** Every controller route the app has mounted, as "METHOD /path". */
function routes(svc: TestApp): string[] {
  const express = svc.app.getHttpAdapter().getInstance() as {
    router?: { stack: Layer[] };
    _router?: { stack: Layer[] };
  };
  const stack = (express.router ?? express._router)!.stack;
  const out: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) out.push(`${method.toUpperCase()} ${layer.route.path}`);
  }
  return out;
}

describe('route walk: nothing is public by accident', () => {
  const ctx = useService();

  it('finds the routes', () => {
    const all = routes(ctx.svc);
    expect(all).toEqual(expect.arrayContaining([...PUBLIC, 'GET /metrics']));
  });

  it('answers 401 without a token on every route but the public ones', async () => {
    const exposed: string[] = [];
    for (const route of routes(ctx.svc)) {
      if (PUBLIC.has(route) || DOCS.test(route)) continue;
      const [method, template] = route.split(' ');
      // Fill path parameters with plausible values so the request reaches the guard.
      const path = template.replace(/:(\w+)/g, 'probe').replace(/\*\w*|\{[^}]*\}/g, '');
      const res = await request(ctx.svc.http)[method.toLowerCase() as 'get'](path);
      if (res.status !== 401) exposed.push(`${route} -> ${res.status}`);
      else expect(res.body.detail).toEqual(expect.any(String));
    }
    expect(exposed).toEqual([]);
  });
});
