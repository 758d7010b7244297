// What the handler modules (handlers/<domain>.ts) share besides the ApiService itself.
import type { MethodName, ParsedReq, Res } from './contract.ts';
import { SaliencyError } from '../engine/types.ts';
import type { Store } from '../engine/store/store.ts';

/** Every method's handler; the service builds it from the per-domain parts (the types force all of them). */
export type HandlerMap = { [M in MethodName]: (req: ParsedReq<M>) => Promise<Res<M>> };
/** One domain's part of the handler map. */
export type Handlers<K extends MethodName> = Pick<HandlerMap, K>;

/** The one app version (package.json's), as the store records it with every run. */
export { APP_VERSION } from '../engine/store/app-version.ts';

export type StoredExplanationSummary = ReturnType<Store['explanations']['list']>[number];

/** A store row id from its string form on the wire. */
export const asId = (what: string, id: string): number => {
  if (!/^\d{1,15}$/.test(id)) throw new SaliencyError(`no ${what} with id "${id}"`, 'NOT_FOUND');
  return Number(id);
};
