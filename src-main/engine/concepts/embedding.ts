// Word vectors: the built-in bag-of-words identity embedding (one-hot over the vocabulary, works offline) or
// vectors fetched once from an OpenAI-compatible embeddings endpoint. A caption is the mean of its words'
// vectors, which is what makes SMER's per-word logits average exactly to the caption's logit.
import { SaliencyError } from '../types.ts';
import type { OpenAiEndpoint } from './endpoint.ts';

export interface WordEmbedding {
  readonly name: string;
  readonly dim: number;
  /** The words this embedding has a vector for. */
  readonly vocabulary: readonly string[];
  /** The word's vector (do not modify it). Throws for words outside the vocabulary. */
  vector(word: string): Float64Array;
}

function unknown(name: string, word: string): SaliencyError {
  return new SaliencyError(`word "${word}" is not in the ${name} embedding's vocabulary`, 'UNKNOWN_WORD');
}

/** One-hot vectors: the mean of a caption's vectors is its normalised bag of words. */
export class IdentityEmbedding implements WordEmbedding {
  readonly name = 'identity';
  readonly vocabulary: readonly string[];
  readonly dim: number;
  private readonly index: Map<string, number>;
  private readonly cache = new Map<string, Float64Array>();

  constructor(words: Iterable<string>) {
    this.vocabulary = [...new Set(words)].sort();
    this.dim = this.vocabulary.length;
    if (this.dim === 0) throw new SaliencyError('the vocabulary is empty: no caption has a concept word', 'EMPTY_VOCABULARY');
    this.index = new Map(this.vocabulary.map((w, i) => [w, i]));
  }

  vector(word: string): Float64Array {
    const i = this.index.get(word);
    if (i === undefined) throw unknown(this.name, word);
    let v = this.cache.get(word);
    if (!v) {
      v = new Float64Array(this.dim);
      v[i] = 1;
      this.cache.set(word, v);
    }
    return v;
  }
}

/** Vectors from a table, e.g. fetched from an embeddings endpoint. */
export class VectorEmbedding implements WordEmbedding {
  readonly vocabulary: readonly string[];
  readonly dim: number;

  constructor(readonly name: string, private readonly table: Map<string, Float64Array>) {
    this.vocabulary = [...table.keys()].sort();
    const first = table.values().next().value;
    if (!first) throw new SaliencyError(`the ${name} embedding has no words`, 'EMPTY_VOCABULARY');
    this.dim = first.length;
    for (const [w, v] of table) {
      if (v.length !== this.dim) throw new SaliencyError(`${name} embedding: "${w}" has ${v.length} values, others ${this.dim}`, 'BAD_EMBEDDING');
    }
  }

  vector(word: string): Float64Array {
    const v = this.table.get(word);
    if (!v) throw unknown(this.name, word);
    return v;
  }

  /** Fetches every distinct word once, in batches. */
  static async fromEndpoint(endpoint: OpenAiEndpoint, words: Iterable<string>, opts: { batch?: number; signal?: AbortSignal; name?: string } = {}): Promise<VectorEmbedding> {
    const distinct = [...new Set(words)].sort();
    const batch = opts.batch ?? 64;
    const table = new Map<string, Float64Array>();
    for (let i = 0; i < distinct.length; i += batch) {
      const chunk = distinct.slice(i, i + batch);
      const vectors = await endpoint.embed(chunk, opts.signal);
      chunk.forEach((w, j) => table.set(w, vectors[j]));
    }
    return new VectorEmbedding(opts.name ?? `endpoint ${endpoint.baseUrl}`, table);
  }
}

/** Mean of the words' vectors (repeats count); the zero vector for a caption with no words left. */
export function meanVector(embedding: WordEmbedding, words: readonly string[]): Float64Array {
  const out = new Float64Array(embedding.dim);
  if (words.length === 0) return out;
  for (const w of words) {
    const v = embedding.vector(w);
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= words.length;
  return out;
}
