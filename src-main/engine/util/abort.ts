// One 'abort' listener per AbortSignal, however many calls wait on it. The schedulers register a callback per
// evaluate() in flight, and a map's deletion and insertion steps and their controls run concurrently on one
// item's signal: one listener each passed Node's limit of 10 and printed MaxListenersExceededWarning.
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` once when `signal` aborts (not if it has already aborted); returns the unregister function. */
export function whenAborted(signal: AbortSignal | undefined, callback: () => void): () => void {
  if (!signal || signal.aborted) return () => {};
  let callbacks = waiting.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    waiting.set(signal, set);
    signal.addEventListener('abort', () => { waiting.delete(signal); for (const f of [...set]) f(); }, { once: true });
  }
  const own = callbacks;
  own.add(callback);
  return () => { own.delete(callback); };
}
