// The one place where a request from any transport is checked and handed to the service: method name,
// payload size, schema. A refused request never reaches the service, so it changes nothing.
import { API, LIMITS, describeIssues, type Envelope, type MethodName } from './contract.ts';
import { SaliencyError } from '../engine/types.ts';
import type { ApiService } from './service.ts';

export type Dispatch = (method: string, payload: unknown) => Promise<Envelope>;

export function fail(code: string, message: string): Envelope {
  return { ok: false, error: { code, message } };
}

/** No request of the contract nests deeper than a few levels; a deeper one is refused before anything
 * recursive (JSON.stringify, zod) touches it. */
export const MAX_DEPTH = 32;

/** What makes a payload unfit before its schema is even tried, or null: nesting past `max` levels, or a
 * "__proto__" key (JSON.parse keeps it as an own key; schemas would drop it silently). Iterative: no stack to
 * overflow, and a cyclic IPC payload ends as "too deep". */
export function payloadProblem(value: unknown, max = MAX_DEPTH): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return `the request is nested too deeply (over ${max} levels)`;
    if (Object.hasOwn(v, '__proto__')) return 'the key "__proto__" is not allowed';
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return null;
}

function payloadBytes(payload: unknown): number {
  try {
    return JSON.stringify(payload ?? {}).length;
  } catch {
    return Infinity; // cycles or BigInt: not a JSON payload
  }
}

export function createDispatcher(service: ApiService): Dispatch {
  return async (method, payload) => {
    if (typeof method !== 'string' || !Object.hasOwn(API, method)) {
      return fail('UNKNOWN_METHOD', `unknown API method "${String(method).slice(0, 80)}"`);
    }
    const problem = payloadProblem(payload);
    if (problem) return fail('BAD_REQUEST', `${method}: ${problem}`);
    const bytes = payloadBytes(payload);
    if (bytes > LIMITS.maxRequestBytes) {
      return fail('TOO_LARGE', `the request is ${bytes === Infinity ? 'not JSON' : `${bytes} bytes`}, over the ${LIMITS.maxRequestBytes}-byte limit`);
    }
    const spec = API[method as MethodName];
    const parsed = spec.request.safeParse(payload ?? {});
    if (!parsed.success) return fail('BAD_REQUEST', `${method}: ${describeIssues(parsed.error)}`);
    try {
      const result = await service.run(method as MethodName, parsed.data as never);
      return { ok: true, result };
    } catch (e) {
      if (e instanceof SaliencyError) return fail(e.code, e.message);
      console.error(`API ${method} failed:`, e);
      return fail('INTERNAL', `${method} failed: ${(e as Error).message}`);
    }
  };
}
