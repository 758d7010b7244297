// Time left of a job from measured progress. Two things made the old per-item mean jump: the start-up time
// (worker threads loading the model) counted as if it were work, and items of very different cost (a
// Grad-CAM map vs. an ensemble's metrics) arriving in bursts. Here the rate is measured from the first finished
// item on (start-up excluded), over work units when the caller knows an item's cost (e.g. its model
// evaluations), else over items; and the shown value moves toward each new estimate with a time constant,
// so one burst does not swing it.
export interface EtaOptions {
  /** Smoothing time constant in ms (default 15 s). */
  tauMs?: number;
}

export class Eta {
  private t0: number | null = null;
  private units0 = 0;
  private shown: number | null = null;
  private lastT = 0;
  private readonly tau: number;

  constructor(private readonly totalUnits: number, opts: EtaOptions = {}) {
    this.tau = opts.tauMs ?? 15_000;
  }

  /** Progress so far (work units done, cumulative) at time now (ms); returns seconds left, or null before a rate is known. */
  update(unitsDone: number, now: number): number | null {
    if (this.t0 === null) {
      // The first report marks the end of start-up: the rate is measured from here.
      this.t0 = now;
      this.units0 = unitsDone;
      this.lastT = now;
      return null;
    }
    const done = unitsDone - this.units0;
    if (done <= 0 || now <= this.t0) return this.shown;
    const raw = ((now - this.t0) / done) * Math.max(0, this.totalUnits - unitsDone) / 1000;
    if (this.shown === null) this.shown = raw;
    else {
      // The shown value also counts down with the clock between reports, then moves toward the new estimate.
      const dt = now - this.lastT;
      const ticked = Math.max(0, this.shown - dt / 1000);
      // Early in a job a long time constant would hold on to the first (noisiest) estimate: at most a quarter
      // of the time measured so far.
      const a = 1 - Math.exp(-dt / Math.max(1, Math.min(this.tau, (now - this.t0) / 4)));
      this.shown = ticked + a * (raw - ticked);
    }
    this.lastT = now;
    return this.shown;
  }
}
