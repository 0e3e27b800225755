/**
 * Locating problems in configuration text before it is trusted: where JSON breaks (with line and
 * column), and where YAML nests too deep for the yaml composer to survive.
 */
import { Lexer } from 'yaml';

/** "line 12, column 3" for an offset, both counted from 1. */
export function lineAndColumn(text: string, offset: number): string {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${end - lineStart + 1}`;
}

type Expect = 'value' | 'value-or-]' | 'key' | 'key-or-}' | ':' | ',-or-close' | 'end';

const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const WORD = /[^\s,:{}[\]"]{1,24}/y;

/**
 * Where a JSON text breaks, and why. Node 20's JSON.parse often names neither line nor offset
 * ("Unexpected token '}', … is not valid JSON"), so this scanner finds them; it runs only after
 * JSON.parse has failed, and keeps its own stack so deep nesting cannot overflow the call stack.
 */
export function findJsonSyntaxError(text: string): { offset: number; message: string } | null {
  const closers: ('}' | ']')[] = [];
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (closers.length === 0 ? 'end' : ',-or-close');
  const fail = (offset: number, message: string) => ({ offset, message });
  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
    const c = text[i];
    if (c === undefined) {
      return expect === 'end'
        ? null
        : fail(i, 'the document ends too early: a closing bracket or value is missing');
    }
    const found = `found ${shown(text, i)}`;
    // After a comma a closer means a trailing comma, which JSON (unlike JavaScript) does not allow.
    const trailing = (c === '}' || c === ']') && closers.length > 0 ? ' (JSON allows no trailing comma)' : '';
    switch (expect) {
      case 'end':
        return fail(i, `unexpected ${shown(text, i)} after the end of the document`);
      case ':':
        if (c !== ':') return fail(i, `expected ':' after the property name, ${found}`);
        i++;
        expect = 'value';
        continue;
      case ',-or-close': {
        const closer = closers[closers.length - 1]!;
        if (c === ',') {
          i++;
          expect = closer === '}' ? 'key' : 'value';
        } else if (c === closer) {
          i++;
          closers.pop();
          expect = afterValue();
        } else return fail(i, `expected ',' or '${closer}', ${found}`);
        continue;
      }
      case 'key':
      case 'key-or-}': {
        if (c === '}' && expect === 'key-or-}') {
          i++;
          closers.pop();
          expect = afterValue();
          continue;
        }
        if (c !== '"') return fail(i, `expected a property name in double quotes, ${found}${trailing}`);
        const end = scanString(text, i);
        if (typeof end !== 'number') return end;
        i = end;
        expect = ':';
        continue;
      }
      case 'value':
      case 'value-or-]': {
        if (c === ']' && expect === 'value-or-]') {
          i++;
          closers.pop();
          expect = afterValue();
          continue;
        }
        if (c === '{' || c === '[') {
          closers.push(c === '{' ? '}' : ']');
          i++;
          expect = c === '{' ? 'key-or-}' : 'value-or-]';
          continue;
        }
        if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return end;
          i = end;
        } else {
          SCALAR.lastIndex = i;
          if (!SCALAR.test(text)) return fail(i, `expected a value, ${found}${trailing}`);
          i = SCALAR.lastIndex;
        }
        expect = afterValue();
        continue;
      }
    }
  }
}

/** The offset just past a string's closing quote, or what is wrong with the string. */
function scanString(text: string, start: number): number | { offset: number; message: string } {
  for (let j = start + 1; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code === 0x5c) {
      const escape = text[j + 1];
      if (escape === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) {
          return { offset: j, message: 'a \\u escape needs four hex digits' };
        }
        j += 5;
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) j++;
      else return { offset: j, message: `\\${escape ?? ''} is not a JSON escape` };
    } else if (code < 0x20) {
      const message =
        code === 10
          ? 'a string cannot span lines: write the line break as \\n'
          : 'a control character in a string must be written as an escape';
      return { offset: j, message };
    }
  }
  return { offset: start, message: 'this string has no closing "' };
}

function shown(text: string, i: number): string {
  WORD.lastIndex = i;
  const word = WORD.exec(text)?.[0] ?? text[i] ?? '';
  return `'${word}'`;
}

/**
 * Where YAML nesting first goes past `maxDepth`, or null. The yaml composer recurses once per level
 * and relies on catching stack exhaustion, which V8 does not always survive (a regex compiled near the
 * stack limit aborts the process), so hostile depth is refused before composing. The lexer is
 * iterative and this stops at the first offending token. The count is an upper bound: the open
 * indentation levels, the block indicators (`-`, `?`, `:`) on the current line, and open brackets.
 */
export function findDeepYamlNesting(text: string, maxDepth: number): number | null {
  const indents: number[] = [];
  let flow = 0;
  let inline = 0;
  let lineStart = true;
  let indent = 0;
  let offset = 0;
  let scalar = false;
  for (const lexeme of new Lexer().lex(text)) {
    // The lexer's own markers, not source: \x1f announces that the next lexeme is a scalar's text.
    if (lexeme === '\x02' || lexeme === '\x18') continue;
    if (lexeme === '\x1f') {
      scalar = true;
      continue;
    }
    const at = offset;
    offset += lexeme.length;
    const isScalar = scalar;
    scalar = false;
    if (flow === 0 && !isScalar) {
      if (lexeme === '' || lexeme === '\n' || lexeme === '\r\n') {
        [lineStart, indent, inline] = [true, 0, 0];
        continue;
      }
      if (lineStart && (/^[ \t]+$/.test(lexeme) || lexeme.startsWith('#'))) {
        if (!lexeme.startsWith('#')) indent = lexeme.length;
        continue;
      }
    }
    if (flow === 0 && lineStart) {
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      lineStart = false;
    }
    if (isScalar) {
      // A block scalar's text runs to the start of the next line.
      if (flow === 0 && lexeme.endsWith('\n')) [lineStart, indent, inline] = [true, 0, 0];
    } else if (lexeme === '[' || lexeme === '{') flow++;
    else if ((lexeme === ']' || lexeme === '}') && flow > 0) flow--;
    else if (flow === 0 && (lexeme === '-' || lexeme === '?' || lexeme === ':')) inline++;
    if (indents.length + inline + flow > maxDepth) return at;
  }
  return null;
}
