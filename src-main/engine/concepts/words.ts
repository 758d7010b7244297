// From a caption to its concept words: lower-case, tokenise, drop stop words, lemmatise.
import { eng, removeStopwords } from 'stopword';
import lemmatizer from 'wink-lemmatizer';

/** Words like "two" or "close" carry no concept but are not in the stop list. */
const EXTRA_STOP_WORDS = ['two', 'three', 'one', 'close', 'side'];
const STOP_WORDS = [...eng, ...EXTRA_STOP_WORDS];

/**
 * wink-lemmatizer needs a part of speech and captions have no tagger, so the first form that changes the word
 * wins: noun ("wolves" -> "wolf"), then verb ("lying" -> "lie"), then adjective ("bigger" -> "big").
 */
export function lemma(word: string): string {
  for (const f of [lemmatizer.noun, lemmatizer.verb, lemmatizer.adjective]) {
    const l = f(word);
    if (l && l !== word) return l;
  }
  return word;
}

/** The caption's concept words in order, repeats kept (a repeated word weighs more in the mean). */
export function conceptWords(text: string): string[] {
  const tokens = text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/'s\b/g, '')
    .split(/[^a-z0-9-]+/)
    .map((t) => t.replace(/^-+|-+$/g, ''))
    .filter((t) => t.length > 1 && !/^\d+$/.test(t));
  return removeStopwords(tokens, STOP_WORDS).map(lemma);
}
