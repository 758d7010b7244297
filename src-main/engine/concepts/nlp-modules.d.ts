// Type declarations for the two NLP packages, which ship none.
declare module 'stopword' {
  /** Words that are not in the stop list (English by default). */
  export function removeStopwords(words: string[], stopwords?: string[]): string[];
  export const eng: string[];
}

declare module 'wink-lemmatizer' {
  const lemmatizer: {
    noun(word: string): string;
    verb(word: string): string;
    adjective(word: string): string;
  };
  export default lemmatizer;
}
