// scripts/export-torchvision.py: InceptionV3 with random weights (no download) exported to ONNX, loaded by the
// engine with the preset the script records. Needs Python with torch and torchvision; skipped with the reason
// otherwise. .ci/run installs Debian's python3-torch and sets PYTHON to Debian's python3 (torch 1.13).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../helpers/data.ts';
import { PYTHON, pythonHas } from '../helpers/python.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';

const HAS_TORCH = pythonHas('export-torchvision', ['torch', 'torchvision', 'onnx']);

describe.skipIf(!HAS_TORCH)('scripts/export-torchvision.py', () => {
  it('exports inception_v3 (random weights) to an ONNX file the engine loads as 299x299 with the torchvision preset', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'export-tv-')), 'inception_v3.onnx');
    execFileSync(PYTHON, [path.join(REPO, 'scripts/export-torchvision.py'), 'inception_v3', '--random', '--out', out], { stdio: 'inherit' });
    const model = await Classifier.load(out);
    try {
      expect(model.info.input.width).toBe(299);
      expect(model.info.preset.name).toBe('torchvision');
      expect(model.info.presetReason).toBe('declared in the model metadata');
      expect(model.info.numClasses).toBe(1000);
    } finally {
      await model.dispose();
    }
  }, 600_000);
});
