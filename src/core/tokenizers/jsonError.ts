/**
 * Where a JSON text goes wrong, for messages a user can act on ("line 3, column 5: expected ',' or '}'").
 * JSON.parse names a position for some errors only, and differently across Node versions; this scanner is
 * run after JSON.parse has failed and finds the first offending character itself. It keeps no values and
 * uses an explicit stack, so a huge or deeply nested file costs time linear in its size and no recursion.
 */

export interface JsonErrorLocation {
  /** UTF-16 offset of the offending character (the text's length when it ended too early). */
  readonly offset: number;
  /** 1-based line and column (columns count UTF-16 units). */
  readonly line: number;
  readonly column: number;
  /** What was expected there, e.g. "',' or '}'". */
  readonly expected: string;
  /** The text ended before the JSON did: the file looks truncated. */
  readonly endOfInput: boolean;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const n = text.length;
  let i = 0;
  const stack: number[] = []; // 0x7b '{' or 0x5b '['
  const fail = (expected: string, at = i): JsonErrorLocation => ({ offset: at, ...lineAndColumn(text, at), expected, endOfInput: at >= n });
  const skipWhitespace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  /** At a '"': moves past the closing quote, or returns the error. */
  const scanString = (): JsonErrorLocation | undefined => {
    i++;
    for (;;) {
      if (i >= n) return fail('a closing \'"\'');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (i + 1 >= n) return fail('an escape after \'\\\'', i + 1);
        if (e === 0x75) {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) return fail('four hex digits after \'\\u\'', i + 2);
          i += 6;
        } else if ('"\\/bfnrt'.includes(text[i + 1])) i += 2;
        else return fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)', i + 1);
        continue;
      }
      if (c < 0x20) return fail('no control character inside a string (escape it)');
      i++;
    }
  };
  type State = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'after';
  let state: State = 'value';
  for (;;) {
    skipWhitespace();
    if (state === 'value' || state === 'valueOrClose') {
      if (i >= n) return fail('a value');
      const c = text.charCodeAt(i);
      if (state === 'valueOrClose' && c === 0x5d) {
        stack.pop();
        i++;
        state = 'after';
        continue;
      }
      if (c === 0x7b || c === 0x5b) {
        stack.push(c);
        i++;
        state = c === 0x7b ? 'keyOrClose' : 'valueOrClose';
        continue;
      }
      if (c === 0x22) {
        const e = scanString();
        if (e) return e;
        state = 'after';
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) return fail('a number', i + 1);
        i += m[0].length;
        state = 'after';
        continue;
      }
      const literal = ['true', 'false', 'null'].find((l) => text.startsWith(l, i));
      if (literal) {
        i += literal.length;
        state = 'after';
        continue;
      }
      return fail('a value');
    }
    if (state === 'key' || state === 'keyOrClose') {
      if (i >= n) return fail('a property name');
      if (state === 'keyOrClose' && text.charCodeAt(i) === 0x7d) {
        stack.pop();
        i++;
        state = 'after';
        continue;
      }
      if (text.charCodeAt(i) !== 0x22) return fail('a property name in double quotes');
      const e = scanString();
      if (e) return e;
      skipWhitespace();
      if (i >= n || text.charCodeAt(i) !== 0x3a) return fail("':' after the property name");
      i++;
      state = 'value';
      continue;
    }
    // After a value: the end, or ',' / the container's closing bracket.
    if (stack.length === 0) return i < n ? fail('the end of the file (something follows the JSON value)') : undefined;
    const top = stack[stack.length - 1];
    const close = top === 0x7b ? 0x7d : 0x5d;
    const expected = top === 0x7b ? "',' or '}'" : "',' or ']'";
    if (i >= n) return fail(expected);
    const c = text.charCodeAt(i);
    if (c === 0x2c) {
      i++;
      state = top === 0x7b ? 'key' : 'value';
    } else if (c === close) {
      stack.pop();
      i++;
    } else return fail(expected);
  }
}

/**
 * The message for a JSON text that JSON.parse refused: "<source> is not valid JSON: line 3, column 5:
 * expected ',' or '}'", with a hint when the file ended early.
 */
export function jsonErrorMessage(text: string, sourceName: string): string {
  if (text.trim() === '') return `${sourceName} is empty${text.length ? ' (only whitespace)' : ''}: it is not a JSON file`;
  const at = locateJsonError(text);
  if (!at) return `${sourceName} is not valid JSON`;
  const truncated = at.endOfInput ? ' (the file looks truncated)' : '';
  return `${sourceName} is not valid JSON: line ${at.line}, column ${at.column}: expected ${at.expected}${truncated}`;
}
