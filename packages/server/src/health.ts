/**
 * /healthz and /readyz (SPEC OPS-2, OPS-3), on the public app and on the metrics listener.
 * /healthz says the process serves; /readyz whether it can do its work: the store answers and the
 * Bus reaches the other nodes. A load balancer sends devices only to ready nodes.
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './context.js';

/** A store that has not answered `select 1` in this long counts as down. */
const STORE_CHECK_TIMEOUT_MS = 2000;
/**
 * One check serves every /readyz of this long, however many arrive: on the public port anyone
 * may ask, and must not be able to turn requests into database queries one for one.
 */
const READY_CACHE_MS = 1000;

/** What can make a node unready; the answer names these and nothing more (no error text). */
export type ReadinessFailure = 'store' | 'bus';

/** The body of /readyz. */
export type Readiness = { readonly ok: true } | { readonly ok: false; readonly failing: readonly ReadinessFailure[] };

/** Checks readiness at most once per READY_CACHE_MS, sharing a check in flight. */
export class ReadinessCheck {
  private last: { readonly at: number; readonly result: Promise<Readiness> } | null = null;

  constructor(private readonly ctx: Pick<ServerContext, 'store' | 'bus'>) {}

  check(): Promise<Readiness> {
    const now = performance.now();
    if (this.last !== null && now - this.last.at < READY_CACHE_MS) return this.last.result;
    const result = this.run();
    this.last = { at: now, result };
    return result;
  }

  private async run(): Promise<Readiness> {
    const failing: ReadinessFailure[] = [];
    if (!(await storeAnswers(this.ctx.store))) failing.push('store');
    if (!this.ctx.bus.isConnected()) failing.push('bus');
    return failing.length === 0 ? { ok: true } : { ok: false, failing };
  }
}

async function storeAnswers(store: ServerContext['store']): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), STORE_CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([store.check().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds GET /healthz and GET /readyz to `app`. */
export function registerHealthRoutes(app: FastifyInstance, ctx: Pick<ServerContext, 'store' | 'bus'>): void {
  const readiness = new ReadinessCheck(ctx);
  app.get('/healthz', () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const result = await readiness.check();
    void reply.code(result.ok ? 200 : 503);
    return result;
  });
}
