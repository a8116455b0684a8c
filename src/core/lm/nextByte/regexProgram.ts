/**
 * A split pattern as a Pike VM program over character classes, for asking what a pre-tokenizer will do with
 * text that is not written yet (searchAutomaton.ts).
 *
 * The patterns of byte-level tokenizers use a small subset of JavaScript regex syntax: alternation, groups,
 * greedy quantifiers (`* + ? {m,n}`), character classes, `\p{..}` and single-character lookaheads such as
 * `(?!\S)`. A pattern only ever tests a character through its atoms (a class, a `\p{..}`, a literal), so two
 * characters that satisfy the same atoms are interchangeable: the pattern's "classes". The program is a list
 * of instructions (Russ Cox's Pike VM) whose threads, kept in priority order, give exactly the match a
 * backtracking engine gives (leftmost alternative first, greedy quantifiers first), lookaheads included
 * because each one reads a single character.
 *
 * Anything outside the subset (backreferences, anchors, lookbehind, lookaheads longer than one character,
 * lazy quantifiers) makes `compilePattern` return undefined; the caller then cannot analyse the tokenizer
 * exactly and says so.
 */

type Ast =
  | { readonly t: 'alt'; readonly items: readonly Ast[] }
  | { readonly t: 'seq'; readonly items: readonly Ast[] }
  | { readonly t: 'rep'; readonly node: Ast; readonly min: number; readonly max: number }
  | { readonly t: 'atom'; readonly atom: number }
  | { readonly t: 'look'; readonly negative: boolean; readonly atom: number };

class Unsupported extends Error {}

/** Parses the subset of JavaScript regex syntax that pre-tokenizer patterns use. */
class RegexParser {
  private i = 0;
  readonly atoms: string[] = [];
  private readonly atomIndex = new Map<string, number>();

  constructor(private readonly src: string) {}

  parse(): Ast {
    const ast = this.alt();
    if (this.i < this.src.length) throw new Unsupported(`unexpected ${this.src[this.i]}`);
    return ast;
  }

  private atom(source: string): number {
    let id = this.atomIndex.get(source);
    if (id === undefined) {
      id = this.atoms.length;
      this.atoms.push(source);
      this.atomIndex.set(source, id);
    }
    return id;
  }

  private alt(): Ast {
    const items = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.seq());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  private seq(): Ast {
    const items: Ast[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') items.push(this.quantified());
    return { t: 'seq', items };
  }

  private quantified(): Ast {
    let node = this.primary();
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) throw new Unsupported('bad {}');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min || min > 64 || (max !== Infinity && max > 64)) throw new Unsupported('repetition count');
        this.i += m[0].length - 1;
      } else return node;
      this.i++;
      // A lazy quantifier changes which match wins; these patterns have none, so it is refused, not modelled.
      if (this.src[this.i] === '?' || this.src[this.i] === '+') throw new Unsupported('lazy or possessive quantifier');
      if (node.t === 'look') throw new Unsupported('quantified lookahead');
      node = { t: 'rep', node, min, max };
    }
  }

  private primary(): Ast {
    const s = this.src;
    const c = s[this.i];
    if (c === '(') {
      let look: boolean | undefined;
      if (s.startsWith('(?:', this.i)) this.i += 3;
      else if (s.startsWith('(?!', this.i)) {
        look = true;
        this.i += 3;
      } else if (s.startsWith('(?=', this.i)) {
        look = false;
        this.i += 3;
      } else if (s.startsWith('(?', this.i)) throw new Unsupported('group kind');
      else this.i += 1;
      const inner = this.alt();
      if (s[this.i] !== ')') throw new Unsupported('unclosed group');
      this.i++;
      if (look === undefined) return inner;
      // Only a lookahead of one character: its body must be a single atom.
      const body = inner.t === 'seq' && inner.items.length === 1 ? inner.items[0] : inner;
      if (body.t !== 'atom') throw new Unsupported('lookahead longer than one character');
      return { t: 'look', negative: look, atom: body.atom };
    }
    if (c === '[') {
      let j = this.i + 1;
      if (s[j] === '^') j++;
      if (s[j] === ']') j++;
      for (; j < s.length && s[j] !== ']'; j++) if (s[j] === '\\') j++;
      if (j >= s.length) throw new Unsupported('unclosed class');
      const src = s.slice(this.i, j + 1);
      this.i = j + 1;
      return { t: 'atom', atom: this.atom(src) };
    }
    if (c === '\\') {
      const n = s[this.i + 1];
      if (n === 'p' || n === 'P' || (n === 'u' && s[this.i + 2] === '{')) {
        const close = s.indexOf('}', this.i);
        if (close < 0) throw new Unsupported('unclosed escape');
        const src = s.slice(this.i, close + 1);
        this.i = close + 1;
        return { t: 'atom', atom: this.atom(src) };
      }
      if (n === 'u') {
        const src = s.slice(this.i, this.i + 6);
        this.i += 6;
        return { t: 'atom', atom: this.atom(src) };
      }
      if (n === 'x') {
        const src = s.slice(this.i, this.i + 4);
        this.i += 4;
        return { t: 'atom', atom: this.atom(src) };
      }
      if (n === undefined || n === 'b' || n === 'B' || /[0-9k]/.test(n)) throw new Unsupported('assertion or backreference');
      this.i += 2;
      return { t: 'atom', atom: this.atom('\\' + n) };
    }
    if (c === '^' || c === '$') throw new Unsupported('anchor');
    if (c === ')' || c === '|' || c === undefined) throw new Unsupported('empty');
    const cp = s.codePointAt(this.i) as number;
    const ch = String.fromCodePoint(cp);
    this.i += ch.length;
    return { t: 'atom', atom: this.atom(ch === '.' ? '.' : ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')) };
  }
}

/** Instruction kinds of a program. */
export const Op = { Char: 0, Split: 1, LookPos: 2, LookNeg: 3, Match: 4 } as const;

/**
 * A compiled pattern. Instruction k: `op[k]`; Char: consume a character of atom `a`, continue at `b`;
 * Split: `a` (preferred), else `b`; LookPos / LookNeg: the next character does / does not satisfy
 * atom `a` (at the end of the text: false / true), continue at `b`.
 */
export interface Program {
  readonly op: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly start: number;
  /** The atoms' sources, and a tester per atom. */
  readonly atoms: readonly string[];
  readonly atomTests: readonly RegExp[];
}

class Emitter {
  op: number[] = [];
  a: number[] = [];
  b: number[] = [];

  emit(op: number, a = -1, b = -1): number {
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }

  /** Emits `ast` so that it continues to instruction `next`; returns its entry. Built back to front. */
  build(ast: Ast, next: number): number {
    switch (ast.t) {
      case 'atom':
        return this.emit(Op.Char, ast.atom, next);
      case 'look':
        return this.emit(ast.negative ? Op.LookNeg : Op.LookPos, ast.atom, next);
      case 'seq': {
        let cur = next;
        for (let k = ast.items.length - 1; k >= 0; k--) cur = this.build(ast.items[k], cur);
        return cur;
      }
      case 'alt': {
        const entries = ast.items.map((it) => this.build(it, next));
        let cur = entries[entries.length - 1];
        for (let k = entries.length - 2; k >= 0; k--) cur = this.emit(Op.Split, entries[k], cur);
        return cur;
      }
      case 'rep': {
        let cur = next;
        if (ast.max === Infinity) {
          const loop = this.emit(Op.Split, -1, next);
          this.a[loop] = this.build(ast.node, loop);
          cur = loop;
        } else {
          for (let k = 0; k < ast.max - ast.min; k++) {
            const body = this.build(ast.node, cur);
            cur = this.emit(Op.Split, body, next);
          }
        }
        for (let k = 0; k < ast.min; k++) cur = this.build(ast.node, cur);
        return cur;
      }
    }
  }
}

/**
 * The program of a split pattern, or undefined where the pattern uses syntax outside the subset or can match
 * the empty string (an empty match would make the pre-tokenizer's loop skip a position, not modelled here).
 */
export function compilePattern(pattern: RegExp): Program | undefined {
  let ast: Ast;
  let atoms: string[];
  try {
    const p = new RegexParser(pattern.source);
    ast = p.parse();
    atoms = p.atoms;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const em = new Emitter();
  const match = em.emit(Op.Match);
  const start = em.build(ast, match);
  let atomTests: RegExp[];
  try {
    atomTests = atoms.map((s) => new RegExp(`^(?:${s})$`, 'u'));
  } catch {
    return undefined;
  }
  const program: Program = { op: Uint8Array.from(em.op), a: Int32Array.from(em.a), b: Int32Array.from(em.b), start, atoms, atomTests };
  if (matchesEmpty(program)) return undefined;
  return program;
}

/** True when MATCH is reachable from the start without consuming a character (whatever the lookahead). */
function matchesEmpty(p: Program): boolean {
  const seen = new Set<number>();
  const stack = [p.start];
  while (stack.length) {
    const k = stack.pop() as number;
    if (seen.has(k)) continue;
    seen.add(k);
    switch (p.op[k]) {
      case Op.Match:
        return true;
      case Op.Split:
        stack.push(p.a[k], p.b[k]);
        break;
      case Op.LookPos:
      case Op.LookNeg:
        stack.push(p.b[k]);
        break;
    }
  }
  return false;
}
