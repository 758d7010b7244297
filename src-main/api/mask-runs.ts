// Run-length encoding of binary masks as the contract carries them (runs alternate 0,1,0,... starting with
// zeros). Pure: used by the renderer (brush masks) and the service (mask blobs in the store).

export function encodeRuns(mask: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let cur = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    const b = mask[i] ? 1 : 0;
    if (b === cur) n++;
    else { runs.push(n); cur = b; n = 1; }
  }
  runs.push(n);
  return runs;
}

export function decodeRuns(runs: number[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let p = 0;
  runs.forEach((n, i) => { if (i % 2) out.fill(1, p, p + n); p += n; });
  return out;
}
