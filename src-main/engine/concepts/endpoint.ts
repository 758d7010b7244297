// Client for OpenAI-compatible servers (OpenAI, Ollama, LM Studio, llama.cpp): image captions and concept
// boxes through chat completions with an image, word vectors through the embeddings endpoint. Every failure
// becomes a SaliencyError that names the problem; only transient ones (no answer, timeout, 429, 5xx) are
// retried, a bounded number of times.
import sharp from 'sharp';
import { z } from 'zod';
import type { RgbImage } from '../image/load-image.ts';
import { SaliencyError } from '../types.ts';
import { type Box, parseBox, validateBox } from './box.ts';

export const DEFAULT_CAPTION_PROMPT = 'Describe this image in 7 words.';

export interface EndpointConfig {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1 */
  baseUrl: string;
  /** Vision chat model (captions, boxes). */
  model: string;
  /** Embeddings model; defaults to `model`. */
  embeddingModel?: string;
  apiKey?: string;
  /** Per attempt, covering connection and the whole answer. Default 60 s. */
  timeoutMs?: number;
  /** Extra attempts after a transient failure. Default 2, at most 5. */
  retries?: number;
  /** Wait before the first retry, doubled each time. Default 500 ms. */
  retryDelayMs?: number;
  /** Images are sent with their longer side at most this (boxes are scaled back). Default 1024. */
  maxImageSide?: number;
}

const ChatAnswer = z.object({
  choices: z.array(z.object({
    message: z.object({
      content: z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }))]).nullable(),
    }),
  })).min(1),
});

const EmbeddingAnswer = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative().optional(), embedding: z.array(z.number()) })),
});

class Transient extends Error {
  constructor(readonly error: SaliencyError) { super(error.message); }
}

const snippet = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}...` : s).replace(/\s+/g, ' ').trim();

export class OpenAiEndpoint {
  readonly baseUrl: string;
  private readonly cfg: Required<Omit<EndpointConfig, 'apiKey' | 'embeddingModel'>> & Pick<EndpointConfig, 'apiKey' | 'embeddingModel'>;

  constructor(cfg: EndpointConfig) {
    let url: URL;
    try {
      url = new URL(cfg.baseUrl);
    } catch {
      throw new SaliencyError(`endpoint base URL ${JSON.stringify(cfg.baseUrl)} is not a URL (e.g. http://127.0.0.1:11434/v1)`, 'BAD_SETTING');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SaliencyError(`endpoint base URL must be http or https, got ${url.protocol}`, 'BAD_SETTING');
    }
    if (!cfg.model?.trim()) throw new SaliencyError('endpoint model name is empty', 'BAD_SETTING');
    const retries = cfg.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > 5) throw new SaliencyError(`endpoint retries must be an integer 0..5, got ${retries}`, 'BAD_SETTING');
    const timeoutMs = cfg.timeoutMs ?? 60_000;
    if (!(timeoutMs > 0)) throw new SaliencyError(`endpoint timeout must be positive, got ${timeoutMs}`, 'BAD_SETTING');
    this.baseUrl = cfg.baseUrl.replace(/\/+$/, '');
    this.cfg = { retryDelayMs: 500, maxImageSide: 1024, ...cfg, retries, timeoutMs };
  }

  /** A short caption of the image (the prompt is editable). */
  async caption(image: RgbImage, prompt = DEFAULT_CAPTION_PROMPT, signal?: AbortSignal): Promise<string> {
    if (!prompt.trim()) throw new SaliencyError('caption prompt is empty', 'BAD_SETTING');
    const { url } = await this.imageUrl(image);
    const text = (await this.chat(prompt, url, signal)).replace(/\s+/g, ' ').trim().replace(/^["'“]+|["'”]+$/g, '').trim();
    if (!text) throw new SaliencyError(`${this.baseUrl}: the model answered with an empty caption`, 'ENDPOINT_MALFORMED');
    if (text.length > 1000) throw new SaliencyError(`${this.baseUrl}: the caption is ${text.length} characters long, not a caption`, 'ENDPOINT_MALFORMED');
    return text;
  }

  /** Where `concept` is in the image, as a box in original-image pixels, parsed strictly and validated. */
  async locate(image: RgbImage, concept: string, signal?: AbortSignal): Promise<Box> {
    if (!concept.trim()) throw new SaliencyError('concept to locate is empty', 'BAD_SETTING');
    const { url, width, height } = await this.imageUrl(image);
    const prompt = `The image is ${width} pixels wide and ${height} pixels high. Give the bounding box of "${concept}" `
      + 'as four integers in pixels: x_min, y_min, x_max, y_max. Answer with the four integers only, separated by commas.';
    const answer = await this.chat(prompt, url, signal);
    const sent = validateBox(parseBox(answer), width, height, `box for "${concept}"`);
    if (width === image.width && height === image.height) return sent;
    // Back to original pixels, widened to whole pixels so the box still covers what the model pointed at.
    const sx = image.width / width;
    const sy = image.height / height;
    return {
      xMin: Math.max(0, Math.floor(sent.xMin * sx)), yMin: Math.max(0, Math.floor(sent.yMin * sy)),
      xMax: Math.min(image.width, Math.ceil(sent.xMax * sx)), yMax: Math.min(image.height, Math.ceil(sent.yMax * sy)),
    };
  }

  /** One vector per text, in input order, all of the same dimension. */
  async embed(texts: string[], signal?: AbortSignal): Promise<Float64Array[]> {
    if (texts.length === 0) return [];
    const model = this.cfg.embeddingModel ?? this.cfg.model;
    const body = await this.post('/embeddings', { model, input: texts }, signal);
    const parsed = EmbeddingAnswer.safeParse(body);
    if (!parsed.success) throw this.malformed('/embeddings', 'no "data" list of {embedding: number[]}', body);
    const rows = parsed.data.data;
    if (rows.length !== texts.length) throw this.malformed('/embeddings', `${rows.length} vectors for ${texts.length} texts`, body);
    const ordered = rows.every((r) => r.index !== undefined) ? [...rows].sort((a, b) => a.index! - b.index!) : rows;
    if (ordered.some((r, i) => r.index !== undefined && r.index !== i)) throw this.malformed('/embeddings', 'vector indices are not 0..n-1', body);
    const dim = ordered[0].embedding.length;
    if (dim === 0) throw this.malformed('/embeddings', 'empty vectors', body);
    return ordered.map((r, i) => {
      if (r.embedding.length !== dim) throw this.malformed('/embeddings', `vector ${i} has ${r.embedding.length} values, vector 0 has ${dim}`, body);
      if (!r.embedding.every(Number.isFinite)) throw this.malformed('/embeddings', `vector ${i} has a non-finite value`, body);
      return Float64Array.from(r.embedding);
    });
  }

  private async chat(prompt: string, imageUrl: string, signal?: AbortSignal): Promise<string> {
    const body = await this.post('/chat/completions', {
      model: this.cfg.model,
      temperature: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: prompt }, { type: 'image_url', image_url: { url: imageUrl } }] }],
    }, signal);
    const parsed = ChatAnswer.safeParse(body);
    if (!parsed.success) throw this.malformed('/chat/completions', 'no choices[0].message.content', body);
    const content = parsed.data.choices[0].message.content;
    const text = typeof content === 'string' ? content : content?.map((p) => p.text ?? '').join('') ?? '';
    if (!text.trim()) throw this.malformed('/chat/completions', 'the message content is empty', body);
    return text;
  }

  private malformed(path: string, what: string, body: unknown): SaliencyError {
    return new SaliencyError(`${this.baseUrl}${path}: malformed answer (${what}): ${snippet(JSON.stringify(body))}`, 'ENDPOINT_MALFORMED');
  }

  /** POST JSON with timeout and bounded retries of transient failures; returns the parsed JSON answer. */
  private async post(path: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    let delay = this.cfg.retryDelayMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.postOnce(path, payload, signal);
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= this.cfg.retries) {
          const tries = attempt + 1;
          throw new SaliencyError(`${e.error.message}${tries > 1 ? ` (after ${tries} attempts)` : ''}`, e.error.code);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
        if (signal?.aborted) throw new SaliencyError(`${this.baseUrl}${path}: cancelled`, 'CANCELLED');
      }
    }
  }

  private async postOnce(path: string, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cfg.apiKey) headers.authorization = `Bearer ${this.cfg.apiKey}`;
    let text: string;
    let status: number;
    let statusText: string;
    try {
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      status = res.status;
      statusText = res.statusText;
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw new SaliencyError(`${url}: cancelled`, 'CANCELLED');
      if (timeout.aborted) throw new Transient(new SaliencyError(`${url}: no complete answer within ${this.cfg.timeoutMs} ms (timeout)`, 'ENDPOINT_TIMEOUT'));
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code === 'ECONNREFUSED' ? 'connection refused, is the server running?'
        : cause?.code === 'ENOTFOUND' ? 'host not found'
          : cause?.code ?? cause?.message ?? (e as Error).message;
      throw new Transient(new SaliencyError(`${url}: no server answered (${why})`, 'ENDPOINT_UNREACHABLE'));
    }
    if (status < 200 || status >= 300) {
      const hint = status === 401 || status === 403 ? ' (check the API key)' : status === 404 ? ' (check the base URL, it usually ends in /v1, and the model name)' : '';
      const err = new SaliencyError(`${url}: HTTP ${status} ${statusText}${hint}: ${snippet(text)}`, 'ENDPOINT_HTTP');
      if (status === 429 || status >= 500) throw new Transient(err);
      throw err;
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new SaliencyError(`${url}: malformed answer (not JSON): ${snippet(text)}`, 'ENDPOINT_MALFORMED');
    }
  }

  /** The upright decoded image as a JPEG data URL, scaled down to maxImageSide. */
  private async imageUrl(image: RgbImage): Promise<{ url: string; width: number; height: number }> {
    const scale = Math.min(1, this.cfg.maxImageSide / Math.max(image.width, image.height));
    const width = Math.max(1, Math.round(image.width * scale));
    const height = Math.max(1, Math.round(image.height * scale));
    let pipeline = sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } });
    if (scale < 1) pipeline = pipeline.resize(width, height, { fit: 'fill' });
    const jpeg = await pipeline.jpeg({ quality: 90 }).toBuffer();
    return { url: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width, height };
  }
}
