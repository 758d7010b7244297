// The captions file: validated on read, written atomically, and never losing a stored caption when the
// captioning endpoint fails part-way or is not there at all.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captionWithEndpoint } from '../../src-main/engine/concepts/captioner.ts';
import { groupOf, readCaptionFile, type CaptionFile, writeCaptionFileAtomic } from '../../src-main/engine/concepts/captions-file.ts';
import { OpenAiEndpoint } from '../../src-main/engine/concepts/endpoint.ts';
import { ReplayServer, closedPort, fixture } from './replay-server.ts';

const START: CaptionFile = {
  version: 1,
  imagesDir: 'img',
  captions: [
    { filename: 'a.png', caption: 'red square on white paper', author: 'annotator' },
    { filename: 'b.png', caption: '', author: 'annotator' },
    { filename: 'c.png', caption: '', author: 'annotator' },
  ],
};

describe('captions file', () => {
  let dir: string;
  let file: string;
  let server: ReplayServer;
  beforeAll(async () => {
    server = await ReplayServer.start();
    dir = await mkdtemp(path.join(tmpdir(), 'smer-captions-'));
    await mkdir(path.join(dir, 'img'), { recursive: true });
    for (const [name, color] of [['a.png', '#f00'], ['b.png', '#0f0'], ['c.png', '#00f']]) {
      await sharp({ create: { width: 32, height: 24, channels: 3, background: color } }).png().toFile(path.join(dir, 'img', name));
    }
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server.reset();
    file = path.join(dir, 'captions.json');
    await writeCaptionFileAtomic(file, START);
  });

  it('round-trips and refuses bad files with the reason', async () => {
    expect(await readCaptionFile(file)).toEqual(START);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"version":1,"captions":[{"filename":"x.jpg","caption":"a dog"}]}');
    await expect(readCaptionFile(bad)).rejects.toThrow(/captions\.0\.author/);
    await writeFile(bad, '{"version":1,"captions":[');
    await expect(readCaptionFile(bad)).rejects.toThrow(/not valid JSON/);
    await writeFile(bad, JSON.stringify({ version: 1, captions: [START.captions[0], START.captions[0]] }));
    await expect(readCaptionFile(bad)).rejects.toThrow(/a\.png has two captions/);
    await expect(readCaptionFile(path.join(dir, 'missing.json'))).rejects.toThrow(/captions file not found/);
  });

  it('maps classes to groups by index and inclusive range', () => {
    const data: CaptionFile = { ...START, groups: { dog: [[151, 268]], vehicle: [436, 511] } };
    expect([groupOf(data, 151), groupOf(data, 268), groupOf(data, 511), groupOf(data, 269)]).toEqual(['dog', 'dog', 'vehicle', null]);
  });

  it('keeps every stored caption when the endpoint fails part-way', async () => {
    const ep = new OpenAiEndpoint({ baseUrl: server.baseUrl, model: 'llava:7b', retries: 1, retryDelayMs: 5 });
    server.reply({ body: fixture('chat-caption.json') }, { status: 500, body: '{"error":"out of memory"}' }, { status: 500, body: '{"error":"out of memory"}' });
    const r = await captionWithEndpoint(file, ep, 'llava:7b');
    expect(r.added).toEqual(['b.png']);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]).toMatchObject({ filename: 'c.png', code: 'ENDPOINT_HTTP' });
    expect(r.failed[0].error).toContain('out of memory');
    const after = await readCaptionFile(file);
    expect(after.captions.map((c) => [c.filename, c.caption, c.author])).toEqual([
      ['a.png', 'red square on white paper', 'annotator'],
      ['b.png', 'Spotted dog with red collar on sofa.', 'model:llava:7b'],
      ['c.png', '', 'annotator'],
    ]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('stops at once and leaves the file byte for byte when no server answers', async () => {
    const before = await readFile(file, 'utf8');
    const port = await closedPort();
    const ep = new OpenAiEndpoint({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', retries: 0 });
    const r = await captionWithEndpoint(file, ep, 'm');
    expect(r.added).toEqual([]);
    expect(r.failed).toHaveLength(1);
    expect(r.stoppedEarly).toMatch(/no server answered/);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('never overwrites a typed caption unless asked', async () => {
    const ep = new OpenAiEndpoint({ baseUrl: server.baseUrl, model: 'llava:7b', retries: 0 });
    server.reply({ body: fixture('chat-caption-parts.json') });
    const r = await captionWithEndpoint(file, ep, 'llava:7b', { filenames: ['a.png', 'new.png'] });
    expect(r.skipped).toEqual(['a.png']);
    // new.png does not exist: a named error, and nothing else changes.
    expect(r.failed[0]).toMatchObject({ filename: 'new.png', code: 'NOT_FOUND' });
    expect(server.requests).toHaveLength(0);
    server.reply({ body: fixture('chat-caption-parts.json') });
    const o = await captionWithEndpoint(file, ep, 'llava:7b', { filenames: ['a.png'], overwrite: true, prompt: 'Name the colour.' });
    expect(o.added).toEqual(['a.png']);
    const a = (await readCaptionFile(file)).captions[0];
    expect(a).toEqual({ filename: 'a.png', caption: 'Yellow taxis in city traffic', author: 'model:llava:7b', prompt: 'Name the colour.' });
  });

  it('saliency smer caption: stores what it got, reports the failure, exit status 1', async () => {
    const { smer } = await import('../../src-main/cli/commands/smer.ts');
    server.reply({ body: fixture('chat-caption-parts.json') }, { body: fixture('chat-box-prose.json').replace('The dog is in the box (10, 20, 200, 220) near the centre.', '') });
    const logs: string[] = [];
    const errors: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (s: unknown) => { logs.push(String(s)); };
    console.error = (s: unknown) => { errors.push(String(s)); };
    let code: number;
    try {
      code = await smer.run(['caption', '--captions', file, '--base-url', server.baseUrl, '--vision-model', 'qwen2-vl', '--retries', '0', '--prompt', 'Seven words, please.']);
    } finally {
      console.log = log;
      console.error = error;
    }
    expect(code).toBe(1);
    expect(logs.join('\n')).toContain('captioned 1, kept 0 existing, failed 1');
    expect(errors.join('\n')).toMatch(/c\.png: .*message content is empty/);
    expect(server.requests[0].body.messages[0].content[0].text).toBe('Seven words, please.');
    const after = await readCaptionFile(file);
    expect(after.captions.map((c) => c.caption)).toEqual(['red square on white paper', 'Yellow taxis in city traffic', '']);
  });
});
