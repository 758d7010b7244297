// The OpenAI-compatible client against a local replay server: answers parsed strictly, every failure named.
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiEndpoint, DEFAULT_CAPTION_PROMPT } from '../../src-main/engine/concepts/endpoint.ts';
import { parseBox, validateBox } from '../../src-main/engine/concepts/box.ts';
import type { RgbImage } from '../../src-main/engine/image/load-image.ts';
import { SaliencyError } from '../../src-main/engine/types.ts';
import { ReplayServer, closedPort, fixture } from './replay-server.ts';

function image(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return { width, height, data };
}

async function failure(p: Promise<unknown>): Promise<SaliencyError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SaliencyError);
    return e as SaliencyError;
  }
  throw new Error('expected a failure');
}

describe('OpenAI-compatible endpoint client', () => {
  let server: ReplayServer;
  let ep: OpenAiEndpoint;
  beforeAll(async () => { server = await ReplayServer.start(); });
  afterAll(async () => { await server.close(); });
  beforeEach(() => {
    server.reset();
    ep = new OpenAiEndpoint({ baseUrl: `${server.baseUrl}/`, model: 'llava:7b', apiKey: 'sk-test', timeoutMs: 2000, retries: 2, retryDelayMs: 5 });
  });

  it('captions an image with the default prompt and the image as a data URL', async () => {
    server.reply({ body: fixture('chat-caption.json') });
    const caption = await ep.caption(image(40, 30));
    expect(caption).toBe('Spotted dog with red collar on sofa.');
    const [req] = server.requests;
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body.model).toBe('llava:7b');
    const [text, img] = req.body.messages[0].content;
    expect(text).toEqual({ type: 'text', text: DEFAULT_CAPTION_PROMPT });
    expect(img.image_url.url).toMatch(/^data:image\/jpeg;base64,/);
    const sent = await sharp(Buffer.from(img.image_url.url.split(',')[1], 'base64')).metadata();
    expect([sent.width, sent.height]).toEqual([40, 30]);
  });

  it('takes an edited prompt and content given as text parts', async () => {
    server.reply({ body: fixture('chat-caption-parts.json') });
    expect(await ep.caption(image(8, 8), 'What is in this picture? Five words.')).toBe('Yellow taxis in city traffic');
    expect(server.requests[0].body.messages[0].content[0].text).toBe('What is in this picture? Five words.');
  });

  it('locates a concept: box parsed strictly and scaled back to the original pixels', async () => {
    server.reply({ body: fixture('chat-box.json') });
    const big = new OpenAiEndpoint({ baseUrl: server.baseUrl, model: 'llava:7b', maxImageSide: 1024, retries: 0 });
    const box = await big.locate(image(2048, 1024), 'dog');
    expect(box).toEqual({ xMin: 200, yMin: 100, xMax: 600, yMax: 500 });
    const prompt: string = server.requests[0].body.messages[0].content[0].text;
    expect(prompt).toContain('1024 pixels wide and 512 pixels high');
    expect(prompt).toContain('"dog"');
    expect(prompt).toContain('x_min, y_min, x_max, y_max');
  });

  it('refuses a box outside the image and a box buried in prose', async () => {
    server.reply({ body: fixture('chat-box-outside.json') }, { body: fixture('chat-box-prose.json') });
    const outside = await failure(ep.locate(image(640, 480), 'dog'));
    expect(outside.code).toBe('BOX_OUTSIDE_IMAGE');
    expect(outside.message).toContain('[12, 40, 1500, 300] lies outside the 640x480 image');
    const prose = await failure(ep.locate(image(640, 480), 'dog'));
    expect(prose.code).toBe('BOX_MALFORMED');
    expect(prose.message).toContain('The dog is in the box');
  });

  it('returns embeddings in input order and checks their shape', async () => {
    server.reply({ body: fixture('embeddings.json') });
    const [a, b] = await ep.embed(['dog', 'cat']);
    expect(Array.from(a)).toEqual([1, 0, -1]);
    expect(Array.from(b)).toEqual([0.5, -0.25, 0.125]);
    expect(server.requests[0].url).toBe('/v1/embeddings');
    expect(server.requests[0].body).toEqual({ model: 'llava:7b', input: ['dog', 'cat'] });
    server.reply({ body: fixture('embeddings.json') });
    const short = await failure(ep.embed(['dog', 'cat', 'bird']));
    expect(short.code).toBe('ENDPOINT_MALFORMED');
    expect(short.message).toContain('2 vectors for 3 texts');
  });

  it('names malformed answers: not JSON, no choices', async () => {
    server.reply({ body: '<html>proxy page</html>' }, { body: fixture('chat-no-choices.json') });
    const notJson = await failure(ep.caption(image(8, 8)));
    expect(notJson.code).toBe('ENDPOINT_MALFORMED');
    expect(notJson.message).toMatch(/malformed answer \(not JSON\): <html>proxy page<\/html>/);
    const noChoices = await failure(ep.caption(image(8, 8)));
    expect(noChoices.code).toBe('ENDPOINT_MALFORMED');
    expect(noChoices.message).toContain('choices[0].message.content');
  });

  it('retries 5xx a bounded number of times, then names the status', async () => {
    server.reply({ status: 503, body: '{"error":"loading model"}' }, { body: fixture('chat-caption.json') });
    expect(await ep.caption(image(8, 8))).toBe('Spotted dog with red collar on sofa.');
    expect(server.requests).toHaveLength(2);
    server.reset();
    server.reply(...Array.from({ length: 5 }, () => ({ status: 500, body: '{"error":"boom"}' })));
    const e = await failure(ep.caption(image(8, 8)));
    expect(server.requests).toHaveLength(3);
    expect(e.code).toBe('ENDPOINT_HTTP');
    expect(e.message).toMatch(/HTTP 500 .*boom.*\(after 3 attempts\)/);
  });

  it('does not retry a 404 and says what to check', async () => {
    server.reply({ status: 404, body: fixture('error-model-not-found.json') }, { body: fixture('chat-caption.json') });
    const e = await failure(ep.caption(image(8, 8)));
    expect(server.requests).toHaveLength(1);
    expect(e.code).toBe('ENDPOINT_HTTP');
    expect(e.message).toContain('HTTP 404');
    expect(e.message).toContain('check the base URL');
    expect(e.message).toContain('llava:13b');
  });

  it('times out a slow server', async () => {
    const slow = new OpenAiEndpoint({ baseUrl: server.baseUrl, model: 'm', timeoutMs: 150, retries: 1, retryDelayMs: 5 });
    server.reply({ body: fixture('chat-caption.json'), delayMs: 600 }, { body: fixture('chat-caption.json'), delayMs: 600 });
    const e = await failure(slow.caption(image(8, 8)));
    expect(e.code).toBe('ENDPOINT_TIMEOUT');
    expect(e.message).toMatch(/no complete answer within 150 ms \(timeout\) \(after 2 attempts\)/);
  });

  it('says when no server answers', async () => {
    const port = await closedPort();
    const none = new OpenAiEndpoint({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', retries: 1, retryDelayMs: 5 });
    const e = await failure(none.caption(image(8, 8)));
    expect(e.code).toBe('ENDPOINT_UNREACHABLE');
    expect(e.message).toContain(`http://127.0.0.1:${port}/v1/chat/completions: no server answered (connection refused, is the server running?)`);
  });

  it('rejects bad settings up front', () => {
    expect(() => new OpenAiEndpoint({ baseUrl: 'localhost:11434', model: 'm' })).toThrow(/not a URL|http or https/);
    expect(() => new OpenAiEndpoint({ baseUrl: 'http://127.0.0.1:1/v1', model: ' ' })).toThrow(/model name is empty/);
    expect(() => new OpenAiEndpoint({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', retries: 50 })).toThrow(/retries must be an integer 0..5/);
  });
});

describe('box parsing', () => {
  it('accepts exactly four integers, optionally bracketed', () => {
    expect(parseBox('1, 2, 30, 40')).toEqual({ xMin: 1, yMin: 2, xMax: 30, yMax: 40 });
    expect(parseBox(' [1,2,30,40] ')).toEqual({ xMin: 1, yMin: 2, xMax: 30, yMax: 40 });
    expect(parseBox('(1, 2, 30, 40)\n')).toEqual({ xMin: 1, yMin: 2, xMax: 30, yMax: 40 });
    for (const bad of ['1, 2, 30', '1, 2, 30, 40, 50', '1.5, 2, 30, 40', 'x_min=1, y_min=2, x_max=30, y_max=40', '[1, 2, 30, 40)', '']) {
      expect(() => parseBox(bad), bad).toThrow(/expected a box as four integers/);
    }
  });

  it('validates against the image size', () => {
    expect(validateBox({ xMin: 0, yMin: 0, xMax: 640, yMax: 480 }, 640, 480)).toBeTruthy();
    expect(() => validateBox({ xMin: -1, yMin: 0, xMax: 10, yMax: 10 }, 640, 480)).toThrow(/outside the 640x480 image/);
    expect(() => validateBox({ xMin: 0, yMin: 0, xMax: 641, yMax: 10 }, 640, 480)).toThrow(/outside/);
    expect(() => validateBox({ xMin: 20, yMin: 0, xMax: 10, yMax: 10 }, 640, 480)).toThrow(/empty or inverted/);
  });
});

describe('word vectors from an embeddings endpoint', () => {
  it('fetches each distinct word once, in batches, and keeps them by word', async () => {
    const { VectorEmbedding, meanVector } = await import('../../src-main/engine/concepts/embedding.ts');
    const server = await ReplayServer.start();
    try {
      const answer = (body: { input: string[] }) => ({
        body: JSON.stringify({ object: 'list', data: body.input.map((w, index) => ({ object: 'embedding', index, embedding: [w.length, w.charCodeAt(0), 1] })) }),
      });
      server.reply(answer, answer);
      const ep = new OpenAiEndpoint({ baseUrl: server.baseUrl, model: 'llava', embeddingModel: 'nomic-embed-text', retries: 0 });
      const emb = await VectorEmbedding.fromEndpoint(ep, ['dog', 'cat', 'dog', 'zebra'], { batch: 2 });
      expect(server.requests.map((r) => r.body)).toEqual([
        { model: 'nomic-embed-text', input: ['cat', 'dog'] },
        { model: 'nomic-embed-text', input: ['zebra'] },
      ]);
      expect(emb.dim).toBe(3);
      expect(Array.from(emb.vector('zebra'))).toEqual([5, 122, 1]);
      expect(Array.from(meanVector(emb, ['dog', 'zebra']))).toEqual([4, (100 + 122) / 2, 1]);
      expect(() => emb.vector('horse')).toThrow(/"horse" is not in the .* vocabulary/);
    } finally {
      await server.close();
    }
  });
});
