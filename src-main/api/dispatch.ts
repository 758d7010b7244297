// The one place where a request from any transport is checked and handed to the service: method name,
// payload size, schema. A refused request never reaches the service, so it changes nothing.
import { API, LIMITS, describeIssues, type Envelope, type MethodName } from './contract.ts';
import { SaliencyError } from '../engine/types.ts';
import type { ApiService } from './service.ts';

export type Dispatch = (method: string, payload: unknown) => Promise<Envelope>;

export function fail(code: string, message: string): Envelope {
  return { ok: false, error: { code, message } };
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
