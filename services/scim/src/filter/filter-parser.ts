import { ScimError } from '../scim/scim-error';
import type { AttrRef, CompareOp, CompValue, FilterNode } from './filter-ast';

// A recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2. Every failure is a
// ScimError(400, invalidFilter); nesting and length are bounded so hostile input cannot blow the stack.

const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;
// Each comparison can cost a pass over the directory's documents (co, value paths): a bound on
// their number bounds one request's database work (the statement timeout is the backstop).
// Identity providers send one or two; 150 `co` terms took ~6 s on 3,000 users.
export const MAX_FILTER_TERMS = 32;
const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);

type Token = { t: 'word' | 'string' | '(' | ')' | '[' | ']' | 'end'; v: string; at: number };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ t: c, v: c, at: i });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw ScimError.invalidFilter(`Unterminated string at position ${i}`);
      let v: unknown;
      try {
        v = JSON.parse(s.slice(i, j + 1));
      } catch {
        throw ScimError.invalidFilter(`Invalid string literal at position ${i}`);
      }
      if ((v as string).includes('\u0000'))
        throw ScimError.invalidFilter(`NUL character in string at position ${i}`);
      out.push({ t: 'string', v: v as string, at: i });
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9_:.$+-]+/.exec(s.slice(i));
      if (!m) throw ScimError.invalidFilter(`Unexpected character at position ${i}`);
      out.push({ t: 'word', v: m[0], at: i });
      i += m[0].length;
    }
  }
  out.push({ t: 'end', v: '', at: s.length });
  return out;
}

const ATTR_NAME = /^[A-Za-z][\w$-]*$/;

/** Parses `[urn:...:]attr[.sub]`; the URN is everything up to the last colon. */
export function parseAttrRef(
  raw: string,
  what: (m: string) => ScimError = ScimError.invalidFilter,
): AttrRef {
  let uri: string | undefined;
  let rest = raw;
  if (/^urn:/i.test(raw)) {
    const k = raw.lastIndexOf(':');
    uri = raw.slice(0, k);
    rest = raw.slice(k + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p)))
    throw what(`Invalid attribute path "${raw}"`);
  return { uri, attr: parts[0] ?? '', sub: parts[1] };
}

class Parser {
  private i = 0;
  private depth = 0;
  private terms = 0;
  constructor(private readonly toks: Token[]) {}

  /** Past the last token, the parser reads the end. */
  private peek(): Token {
    return this.toks[this.i] ?? { t: 'end', v: '', at: this.toks.at(-1)?.at ?? 0 };
  }
  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }
  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === 'word' && t.v.toLowerCase() === v;
  }
  private expect(t: Token['t']): Token {
    const tok = this.next();
    if (tok.t !== t) throw ScimError.invalidFilter(`Expected "${t}" at position ${tok.at}`);
    return tok;
  }

  parseAll(): FilterNode {
    const f = this.parseOr(false);
    if (this.peek().t !== 'end')
      throw ScimError.invalidFilter(`Unexpected "${this.peek().v}" at position ${this.peek().at}`);
    return f;
  }

  private parseOr(inValuePath: boolean): FilterNode {
    if (++this.depth > MAX_DEPTH) throw ScimError.invalidFilter('Filter is nested too deeply');
    let left = this.parseAnd(inValuePath);
    while (this.isWord('or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd(inValuePath) };
    }
    this.depth--;
    return left;
  }

  private parseAnd(inValuePath: boolean): FilterNode {
    let left = this.parseUnary(inValuePath);
    while (this.isWord('and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseUnary(inValuePath) };
    }
    return left;
  }

  private parseUnary(inValuePath: boolean): FilterNode {
    if (this.isWord('not')) {
      this.next();
      this.expect('(');
      const expr = this.parseOr(inValuePath);
      this.expect(')');
      return { kind: 'not', expr };
    }
    if (this.peek().t === '(') {
      this.next();
      const f = this.parseOr(inValuePath);
      this.expect(')');
      return f;
    }
    return this.parseAttrExp(inValuePath);
  }

  private parseAttrExp(inValuePath: boolean): FilterNode {
    if (++this.terms > MAX_FILTER_TERMS)
      throw ScimError.invalidFilter(`Filter has more than ${MAX_FILTER_TERMS} comparisons`);
    const tok = this.next();
    if (tok.t !== 'word')
      throw ScimError.invalidFilter(`Expected an attribute at position ${tok.at}`);
    const path = parseAttrRef(tok.v);
    const opTok = this.next();
    if (opTok.t === '[') {
      if (inValuePath) throw ScimError.invalidFilter('Nested value filters are not allowed');
      if (path.sub) throw ScimError.invalidFilter(`Invalid value path "${tok.v}"`);
      const filter = this.parseOr(true);
      const close = this.expect(']');
      // `emails[type eq "work"].value eq "x"`: Entra filters on a matching attribute mapped to a
      // value-filter path this way; it means `emails[type eq "work" and value eq "x"]`.
      const after = this.peek();
      if (after.t === 'word' && after.v.startsWith('.') && after.at === close.at + 1) {
        this.next();
        if (++this.terms > MAX_FILTER_TERMS)
          throw ScimError.invalidFilter(`Filter has more than ${MAX_FILTER_TERMS} comparisons`);
        const sub = after.v.slice(1);
        if (!ATTR_NAME.test(sub))
          throw ScimError.invalidFilter(`Invalid value path "${tok.v}[...]${after.v}"`);
        const cmp = this.parseComparison({ attr: sub });
        return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: cmp } };
      }
      return { kind: 'valuePath', path, filter };
    }
    this.i--;
    return this.parseComparison(path);
  }

  /** `op value` or `pr` after an attribute path. */
  private parseComparison(path: AttrRef): FilterNode {
    const opTok = this.next();
    if (opTok.t !== 'word')
      throw ScimError.invalidFilter(`Expected an operator at position ${opTok.at}`);
    const op = opTok.v.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPS.has(op)) throw ScimError.invalidFilter(`Unknown operator "${opTok.v}"`);
    const { value, quoted } = this.parseValue();
    return { kind: 'compare', path, op: op as CompareOp, value, quoted };
  }

  private parseValue(): { value: CompValue; quoted: boolean } {
    const tok = this.next();
    if (tok.t === 'string') return { value: tok.v, quoted: true };
    if (tok.t === 'word') {
      if (tok.v === 'true') return { value: true, quoted: false };
      if (tok.v === 'false') return { value: false, quoted: false };
      if (tok.v === 'null') return { value: null, quoted: false };
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(tok.v))
        return { value: Number(tok.v), quoted: false };
    }
    throw ScimError.invalidFilter(`Invalid comparison value at position ${tok.at}`);
  }
}

/** Parses a SCIM filter; throws ScimError(400, invalidFilter) for anything malformed. */
export function parseFilter(input: string): FilterNode {
  if (typeof input !== 'string' || input.trim() === '')
    throw ScimError.invalidFilter('Empty filter');
  if (input.length > MAX_LENGTH) throw ScimError.invalidFilter('Filter is too long');
  return new Parser(tokenize(input)).parseAll();
}

/** Parses the filter inside a PATCH value path (`emails[type eq "work"]`): sub-attributes only. */
export function parseValueFilter(input: string): FilterNode {
  const f = parseFilter(input);
  const walk = (n: FilterNode): void => {
    if (n.kind === 'valuePath')
      throw ScimError.invalidFilter('Nested value filters are not allowed');
    if (n.kind === 'and' || n.kind === 'or') {
      walk(n.left);
      walk(n.right);
    } else if (n.kind === 'not') walk(n.expr);
  };
  walk(f);
  return f;
}
