/**
 * NATS-style subjects and patterns: `.`-separated tokens of [A-Za-z0-9_-]; in a pattern `*` matches
 * exactly one token and `>` (last token only) matches one or more remaining tokens.
 */

export const MAX_SUBJECT_LENGTH = 256;

const TOKEN = /^[A-Za-z0-9_-]+$/;
const SUBJECT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

export function isValidSubject(subject: string): boolean {
  return (
    typeof subject === 'string' &&
    subject.length > 0 &&
    subject.length <= MAX_SUBJECT_LENGTH &&
    SUBJECT.test(subject)
  );
}

export function isValidPattern(pattern: string): boolean {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_SUBJECT_LENGTH)
    return false;
  const tokens = pattern.split('.');
  return tokens.every(
    (token, i) => token === '*' || (token === '>' && i === tokens.length - 1) || TOKEN.test(token),
  );
}

/** A pattern compiled once into a predicate over subjects (assumed valid). */
export type SubjectMatcher = (subject: string) => boolean;

export function compilePattern(pattern: string): SubjectMatcher {
  if (!isValidPattern(pattern)) throw new Error(`invalid subject pattern: ${JSON.stringify(pattern)}`);
  if (!pattern.includes('*') && !pattern.includes('>')) return (subject) => subject === pattern;
  const tokens = pattern.split('.');
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.slice(0, -1) : tokens;
  // A literal prefix (before the first wildcard) lets most non-matching subjects fail on one startsWith.
  const firstWild = fixed.findIndex((t) => t === '*');
  const literalPrefix = (firstWild === -1 ? fixed : fixed.slice(0, firstWild)).join('.');
  const prefix = literalPrefix && (firstWild === -1 && !tail ? literalPrefix : `${literalPrefix}.`);
  return (subject) => {
    if (prefix && !subject.startsWith(prefix)) return false;
    const parts = subject.split('.');
    if (tail ? parts.length <= fixed.length : parts.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      const t = fixed[i];
      if (t !== '*' && t !== parts[i]) return false;
    }
    return true;
  };
}

const compiledCache = new Map<string, SubjectMatcher>();
const COMPILED_CACHE_LIMIT = 1024;

/** True when `subject` is matched by `pattern`; compiled patterns are cached (bounded). */
export function subjectMatches(pattern: string, subject: string): boolean {
  let matcher = compiledCache.get(pattern);
  if (!matcher) {
    if (compiledCache.size >= COMPILED_CACHE_LIMIT) compiledCache.clear();
    matcher = compilePattern(pattern);
    compiledCache.set(pattern, matcher);
  }
  return matcher(subject);
}

/**
 * A subscriber's set of patterns (reference-counted, so two subscriptions to the same pattern need two
 * removes). `matches` answers from a small per-subject cache so the publisher's hot path is a Map lookup.
 */
export class Interest {
  private readonly patterns = new Map<string, { count: number; matcher: SubjectMatcher }>();
  private readonly cache = new Map<string, boolean>();

  constructor(private readonly cacheLimit = 4096) {}

  /** Returns true when the pattern is new to the set. Throws on an invalid pattern. */
  add(pattern: string): boolean {
    const entry = this.patterns.get(pattern);
    if (entry) {
      entry.count += 1;
      return false;
    }
    this.patterns.set(pattern, { count: 1, matcher: compilePattern(pattern) });
    this.cache.clear();
    return true;
  }

  /** Returns true when the last reference to the pattern went away. */
  remove(pattern: string): boolean {
    const entry = this.patterns.get(pattern);
    if (!entry) return false;
    entry.count -= 1;
    if (entry.count > 0) return false;
    this.patterns.delete(pattern);
    this.cache.clear();
    return true;
  }

  /** Drops a pattern whatever its count (a remote `unsub` is not reference-counted). */
  delete(pattern: string): void {
    if (this.patterns.delete(pattern)) this.cache.clear();
  }

  has(pattern: string): boolean {
    return this.patterns.has(pattern);
  }

  list(): string[] {
    return [...this.patterns.keys()];
  }

  get size(): number {
    return this.patterns.size;
  }

  matches(subject: string): boolean {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached;
    let result = false;
    for (const { matcher } of this.patterns.values()) {
      if (matcher(subject)) {
        result = true;
        break;
      }
    }
    // Subjects are a bounded vocabulary in practice; clearing on overflow keeps a flood of one-off
    // subjects from growing memory without an LRU's bookkeeping on the hot path.
    if (this.cache.size >= this.cacheLimit) this.cache.clear();
    this.cache.set(subject, result);
    return result;
  }
}
