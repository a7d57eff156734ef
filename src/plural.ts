// Counts in words: "1 probe", "2 probes".

/** `n` and the word, made plural unless n is 1 (`pluralWord` for words that do not just take an "s"). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
