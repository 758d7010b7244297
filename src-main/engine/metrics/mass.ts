// The one convention by which sparseness and complexity read a map as "evidence mass" for the target, applied
// identically to every method: m_i = max(a_i - s, 0) with s = max(min(a), 0). A positive constant offset
// carries no evidence (RISE's maps are the mean score of the masks that keep each pixel, ~p0 * score
// everywhere: with the offset left in, its entropy would be near the maximum ln n whatever it shows), and
// negative evidence is not evidence for the target (LIME's and KernelSHAP's negative superpixels, which |a|
// would count as mass). Non-negative maps with a zero minimum (Grad-CAM after its ReLU) are unchanged.
// Quantus instead takes |a| (its abs=True default); this deviates on purpose, for the two reasons above.

export const MASS_CONVENTION = 'Sparseness (Gini) and complexity (entropy) read every map the same way, as evidence mass m = max(a − s, 0) with s = max(min(a), 0): a positive constant offset (RISE) is removed and negative evidence (LIME, KernelSHAP) is not mass; Grad-CAM-like maps with minimum 0 are unchanged. (Quantus uses |a|, which makes RISE\'s offset maps look maximally diffuse and counts negative LIME segments as mass.)';

/** The map's evidence mass per pixel (NaN counts as 0). */
export function evidenceMass(values: ArrayLike<number>): Float64Array {
  let min = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < min) min = values[i];
  const shift = Number.isFinite(min) ? Math.max(min, 0) : 0;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] - shift;
    out[i] = v > 0 ? v : 0;
  }
  return out;
}
