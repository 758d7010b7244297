// Our Integrated Gradients (compiled backward graph on ONNX Runtime) against Captum's formula on torch.autograd,
// on the same SqueezeNet weights and the very input and baseline arrays our engine used (scripts/ig-crosscheck.py;
// Captum itself is checked by the same script where a checkout is at hand: README, Gradient methods). Needs Python
// with torch and onnx (.ci/run installs Debian's); skipped with the reason otherwise.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, REPO } from '../helpers/data.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';
import { PYTHON, pythonHas } from '../helpers/python.ts';

const HAS_TORCH = pythonHas('ig-torch-reference', ['torch', 'onnx']);

const crosscheck = (folder: string) => spawnSync(PYTHON, [path.join(REPO, 'scripts/ig-crosscheck.py'), folder, '--reference', 'autograd', '--check'], { encoding: 'utf8' });

describe.skipIf(!HAS_DATA || !HAS_TORCH)('Integrated Gradients against torch.autograd (SqueezeNet 1.1)', () => {
  it('gives the reference relative error and map on the first sample image at 64 Gauss-Legendre steps, and the check fails on a perturbed map or error', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-ref-'));
    execFileSync('node', ['--import', 'tsx', 'scripts/eval-ig-completeness.ts', '--images', '1', '--steps', '64', '--dump', dir], { cwd: REPO, encoding: 'utf8' });
    const run = crosscheck(dir);
    console.log(run.stdout);
    expect(run.status, run.stderr).toBe(0);
    const [, pp, gap] = /largest difference ([\d.]+) percentage points; map gap largest ([\d.e+-]+)/.exec(run.stdout) ?? [];
    expect(Number(pp)).toBeLessThan(0.05);
    expect(Number(gap)).toBeLessThan(0.02);

    // The check can fail: our map 5% larger everywhere, then (map restored) our relative error off by 0.1 points.
    const mapFile = path.join(dir, '0.map64.f32');
    const map = readFileSync(mapFile);
    const scaled = new Float32Array(map.buffer.slice(map.byteOffset, map.byteOffset + map.byteLength)).map((v) => v * 1.05);
    writeFileSync(mapFile, Buffer.from(scaled.buffer));
    expect(crosscheck(dir).status).toBe(1);
    writeFileSync(mapFile, map);
    const metaFile = path.join(dir, 'meta.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    meta.images[0].completeness['64'].relError += 0.001;
    writeFileSync(metaFile, JSON.stringify(meta));
    expect(crosscheck(dir).status).toBe(1);
  }, NO_CLOCK);
});
