// saliency smer fit|explain|aopc on the real captions and MobileNetV2 (the command object, run in-process).
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HAS_DATA, MODELS, REPO, model } from '../helpers/data.ts';
import { smer } from '../../src-main/cli/commands/smer.ts';
import { ReplayServer } from './replay-server.ts';

const CAPTIONS = path.join(REPO, 'resources/captions/imagenet-samples.json');
const BASE = ['--captions', CAPTIONS, '--model', model(MODELS.mobilenet), '--json'];

async function run(args: string[]): Promise<{ code: number; json: any }> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => { out.push(String(s)); });
  try {
    const code = await smer.run(args);
    return { code, json: out.length ? JSON.parse(out.join('\n')) : null };
  } finally {
    spy.mockRestore();
  }
}

describe('saliency smer: usage errors', () => {
  afterEach(() => vi.restoreAllMocks());
  it('names a missing subcommand, captions file, image or endpoint setting', async () => {
    await expect(smer.run([])).rejects.toThrow(/needs a subcommand: fit, explain, aopc or caption/);
    await expect(smer.run(['caption', '--captions', CAPTIONS])).rejects.toThrow(/--base-url is required/);
    await expect(smer.run(['caption', '--captions', CAPTIONS, '--base-url', 'http://127.0.0.1:9/v1'])).rejects.toThrow(/--vision-model is required/);
  });
});

describe.skipIf(!HAS_DATA)('saliency smer on real captions', () => {
  it('fit: accuracy, fidelity on every caption, top concepts', async () => {
    const { code, json } = await run(['fit', ...BASE, '--top', '3']);
    expect(code).toBe(0);
    expect(json.documents).toBe(85);
    expect(json.fidelity.violations).toEqual([]);
    expect(json.fidelity.worst).toBeLessThan(1e-9);
    expect(json.testAccuracy).toBeGreaterThan(json.majorityTestAccuracy);
    expect(json.topConcepts.dog.map((r: { word: string }) => r.word)).toContain('dog');
  });

  it('aopc: SMER, LIME, LIME-own and random curves on the test captions, L2 by cross-validation, paired verdicts', async () => {
    const { code, json } = await run(['aopc', ...BASE, '--lime-samples', '200', '--max-k', '4']);
    expect(code).toBe(0);
    expect(json.protocol).toBe('per-class');
    expect(json.split).toBe('test');
    expect(json.documents).toBeLessThan(85);
    expect(json.rankingDocuments + json.documents).toBe(85); // rankings from the training captions only
    expect(json.l2.selection.grid).toContain(json.l2.value);
    expect(json.l2.value).toBe(json.l2.selection.chosen);
    for (const c of [json.smer, json.limeCurve, json.limeLocal, json.random]) expect(c.drops).toHaveLength(5);
    for (const c of [json.smerVsLime, json.smerVsRandom, json.limeVsRandom]) {
      expect(['higher', 'lower', 'no clear difference']).toContain(c.verdict);
      expect(c.n).toBe(json.documents);
      expect(c.interval[0]).toBeLessThanOrEqual(c.interval[1]);
    }
    expect(json.smer.aopc).toBeGreaterThan(json.random.aopc);
  });

  it('aopc --protocol global-top --top 20: the original work\'s single word list per method', async () => {
    const { code, json } = await run(['aopc', ...BASE, '--lime-samples', '200', '--protocol', 'global-top', '--top', '20']);
    expect(code).toBe(0);
    expect(json.protocol).toBe('global-top');
    expect(json.top).toBe(20);
    expect(json.lists.smer).toHaveLength(20);
    expect(json.lists.lime).toHaveLength(20);
    expect(json.smerVsRandom.verdict).toBe('higher');
    await expect(smer.run(['aopc', ...BASE, '--protocol', 'per-word'])).rejects.toThrow(/--protocol must be per-class or global-top \(got "per-word"\)/);
  });

  it('explain: per-word scores, LIME weights, stored boxes grounded on the CNN', async () => {
    const { code, json } = await run(['explain', ...BASE, '--image', 'n01843383_toucan.JPEG', '--box', 'bird=125,100,500,375']);
    expect(code).toBe(0);
    expect(json.caption).toBe('toucan with big beak eating papaya');
    expect(json.fidelityError).toBeLessThan(1e-9);
    expect(json.smer.map((w: { word: string }) => w.word).sort()).toEqual(['beak', 'big', 'eat', 'papaya', 'toucan']);
    expect(json.grounding).toHaveLength(4);
    expect(json.removal.boxes.scores).toHaveLength(5);
    await expect(smer.run(['explain', ...BASE, '--image', 'nope.JPEG'])).rejects.toThrow(/nope\.JPEG has no caption in/);
    await expect(smer.run(['explain', ...BASE, '--image', 'n01843383_toucan.JPEG', '--box', 'bird=1,2,3'])).rejects.toThrow(/expected a box as four integers/);
  });

  it('fit --embedding endpoint: word vectors from an embeddings server, fidelity still exact', async () => {
    const server = await ReplayServer.start();
    try {
      // Deterministic dense vectors from the word's characters (a stand-in for a real embedding model).
      const vector = (w: string) => Array.from({ length: 16 }, (_, i) => Math.sin([...w].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7) * (i + 1)));
      const answer = (body: { input: string[] }) => ({ body: JSON.stringify({ data: body.input.map((w, index) => ({ index, embedding: vector(w) })) }) });
      server.reply(answer, answer, answer, answer, answer);
      const { code, json } = await run(['fit', ...BASE, '--embedding', 'endpoint', '--base-url', server.baseUrl, '--embedding-model', 'nomic-embed-text']);
      expect(code).toBe(0);
      expect(json.embedding).toEqual({ name: `endpoint ${server.baseUrl}`, dim: 16 });
      expect(server.requests.length).toBe(Math.ceil(218 / 64));
      expect(json.fidelity.violations).toEqual([]);
      expect(json.fidelity.worst).toBeLessThan(1e-9);
    } finally {
      await server.close();
    }
  });

  it('explain --locate: boxes for the top concepts from the vision endpoint, a bad box named, not fatal', async () => {
    const server = await ReplayServer.start();
    try {
      const chat = (content: string) => ({ body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] }) });
      server.reply(chat('125, 100, 500, 375'), chat('30, 215, 628, 370'));
      const { code, json } = await run(['explain', ...BASE, '--image', 'n01843383_toucan.JPEG', '--locate', '2', '--base-url', server.baseUrl, '--vision-model', 'llava:7b']);
      expect(code).toBe(0);
      expect(server.requests).toHaveLength(2);
      const [first, second] = json.smer.map((w: { word: string }) => w.word);
      expect(server.requests[0].body.messages[0].content[0].text).toContain(`"${first}"`);
      expect(server.requests[0].body.messages[0].content[0].text).toContain('500 pixels wide and 375 pixels high');
      expect(json.locateErrors).toEqual([{ concept: second, code: 'BOX_OUTSIDE_IMAGE', error: expect.stringContaining('[30, 215, 628, 370] lies outside the 500x375 image') }]);
      const located = json.grounding.find((g: { source: string }) => g.source === 'model:llava:7b');
      expect(located.box).toEqual({ xMin: 125, yMin: 100, xMax: 500, yMax: 375 });
      expect(located.concept).toBe(first);
    } finally {
      await server.close();
    }
  });
});
