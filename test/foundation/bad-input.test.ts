// Bad input, tried as a new user would: each gets a clear error naming the file and the problem, a folder run
// goes on with the other images, and the exit status says whether anything failed.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { hugePngHeader, nonImageOnnx, tempDir } from '../helpers/files.ts';
import { decodeImage } from '../../src-main/engine/image/load-image.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/saliency.js'), ...args], { encoding: 'utf8', cwd: REPO, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bad images are refused with clear errors', () => {
  it('a 30000x30000 PNG is refused from its header, before decoding', async () => {
    await expect(decodeImage(hugePngHeader(30000, 30000), 'huge.png')).rejects.toThrow(/huge\.png: the image is 30000x30000 \(900 megapixels\), over the limit.*not decoded/);
    // Cheaper than decoding a small 512x512 PNG measured in the same run (not a clock bound a loaded machine can
    // exceed): the fastest of 5 tries of each, so a scheduling hiccup in one try does not count (measured at a
    // load of 12: 0.2-3 ms vs 24-28 ms). Decoding any part of 900 megapixels would cost more than 0.26 megapixels.
    const huge = hugePngHeader(30000, 30000);
    const small = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    const fastest = async (f: () => Promise<unknown>) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await f().catch(() => undefined);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const refuse = await fastest(() => decodeImage(huge, 'huge.png'));
    const decode = await fastest(() => decodeImage(small, 'small.png'));
    expect(refuse).toBeLessThan(decode);
  });
  it('an empty buffer, text, and a truncated JPEG name the problem', async () => {
    await expect(decodeImage(Buffer.from('hello, I am text\n'), 'notes.jpg')).rejects.toThrow(/notes\.jpg: not a readable image/);
    await expect(decodeImage(Buffer.alloc(0), 'empty.png')).rejects.toThrow(/empty\.png/);
  });
  it.skipIf(!HAS_DATA)('a truncated JPEG fails to decode with its name in the error', async () => {
    const bytes = readFileSync(sample('n01440764_tench.JPEG'));
    await expect(decodeImage(bytes.subarray(0, Math.floor(bytes.length / 2)), 'cut.jpg')).rejects.toThrow(/cut\.jpg: the image could not be decoded/);
  });
});

describe('bad models are refused with clear errors', () => {
  it('a file that is not ONNX', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'model.onnx');
    writeFileSync(f, 'this is not a model');
    await expect(Classifier.load(f)).rejects.toThrow(/model\.onnx: not an ONNX model/);
  });
  it('an empty file and a missing file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'empty.onnx'), '');
    await expect(Classifier.load(path.join(dir, 'empty.onnx'))).rejects.toThrow(/empty\.onnx: the file is empty/);
    await expect(Classifier.load(path.join(dir, 'nope.onnx'))).rejects.toThrow(/nope\.onnx: file not found/);
  });
  it('an ONNX model without an image input', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'vector.onnx');
    writeFileSync(f, nonImageOnnx());
    await expect(Classifier.load(f)).rejects.toThrow(/vector\.onnx: no image input found.*x\[1,10\]/);
  });
});

describe.skipIf(!HAS_DATA)('the CLI on a folder with bad files', () => {
  let dir: string;
  let out: string;
  beforeAll(() => {
    dir = tempDir();
    out = tempDir();
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(dir, 'a_tench.jpg'));
    copyFileSync(sample('n02090379_redbone.JPEG'), path.join(dir, 'd_redbone.jpg'));
    const jpeg = readFileSync(sample('n01443537_goldfish.JPEG'));
    writeFileSync(path.join(dir, 'b_truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(path.join(dir, 'c_text.jpg'), 'not an image at all\n');
    writeFileSync(path.join(dir, 'c_empty.png'), '');
    writeFileSync(path.join(dir, 'e_huge.png'), hugePngHeader(30000, 30000));
    writeFileSync(path.join(dir, 'readme.txt'), 'ignored: not an image extension');
  });

  it('explains the good images, names each bad one, and exits 1', () => {
    const r = cli(['explain', dir, '--model', model(MODELS.squeezenet), '--out', out, '--method', 'gradcam']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/b_truncated\.jpg: the image could not be decoded/);
    expect(r.stderr).toMatch(/c_text\.jpg: not a readable image/);
    expect(r.stderr).toMatch(/c_empty\.png: the file is empty/);
    expect(r.stderr).toMatch(/e_huge\.png: the image is 30000x30000/);
    expect(r.stderr).not.toMatch(/readme\.txt/);
    expect(existsSync(path.join(out, 'a_tench.jpg', 'gradcam.npy'))).toBe(true);
    expect(existsSync(path.join(out, 'd_redbone.jpg', 'gradcam.png'))).toBe(true);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.images).toHaveLength(2);
    expect(results.errors.map((e: { file: string }) => path.basename(e.file)).sort()).toEqual(['b_truncated.jpg', 'c_empty.png', 'c_text.jpg', 'e_huge.png']);
  });

  it('a folder with no images, a non-ONNX model and a model without image input exit 2 with the reason', () => {
    const empty = tempDir();
    writeFileSync(path.join(empty, 'notes.txt'), 'x');
    let r = cli(['predict', empty, '--model', model(MODELS.squeezenet)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the folder has no images/);
    const bad = path.join(tempDir(), 'bad.onnx');
    writeFileSync(bad, 'garbage');
    r = cli(['predict', path.join(dir, 'a_tench.jpg'), '--model', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.onnx: not an ONNX model/);
    const vec = path.join(tempDir(), 'vector.onnx');
    writeFileSync(vec, nonImageOnnx());
    r = cli(['predict', path.join(dir, 'a_tench.jpg'), '--model', vec]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no image input found/);
  });

  it('all good: exit 0 and JSON predictions', () => {
    const good = tempDir();
    mkdirSync(path.join(good, 'sub'));
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(good, 'sub', 'tench.JPEG'));
    const r = cli(['predict', good, '--model', model(MODELS.mobilenet), '--json', '--top-k', '3']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.results[0].predictions).toHaveLength(3);
    expect(json.results[0].predictions[0].label).toMatch(/tench/);
  });
});
