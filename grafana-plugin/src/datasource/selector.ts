/**
 * Vedette label selectors (`team=payments,env in (prod,stage),!legacy`) as the query builder
 * edits them: split into requirements, joined back, and with template variables expanded.
 */

/** Operators of a selector requirement, as written. */
export type SelectorOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';

/** One requirement of a selector. `values` holds one value for `=`/`!=`, any for `in`/`notin`. */
export interface Requirement {
  key: string;
  op: SelectorOp;
  values: string[];
}

/** A selector the builder cannot represent; the raw mode still edits it as text. */
export class SelectorSyntaxError extends Error {
  constructor(
    readonly column: number,
    readonly expected: string
  ) {
    super(`selector column ${column}: expected ${expected}`);
    this.name = 'SelectorSyntaxError';
  }
}

/** Splits at commas outside parentheses, keeping each part's start column (1-based). */
function splitTopLevel(text: string): Array<{ part: string; column: number }> {
  const parts: Array<{ part: string; column: number }> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
    } else if ((c === ',' && depth === 0) || i === text.length) {
      parts.push({ part: text.slice(start, i), column: start + 1 });
      start = i + 1;
    }
  }
  return parts;
}

const KEY = String.raw`[A-Za-z0-9$_{}\[\]:./-]+`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^)]*)\)$`);
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(.*)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

/** Parses a selector into requirements; the empty selector has none. */
export function parseSelector(text: string): Requirement[] {
  if (text.trim() === '') {
    return [];
  }
  return splitTopLevel(text).map(({ part, column }) => {
    const item = part.trim();
    if (item === '') {
      throw new SelectorSyntaxError(column, 'a requirement such as key=value');
    }
    let m = SET.exec(item);
    if (m) {
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { key: m[1], op: m[2] as SelectorOp, values };
    }
    m = EQUALITY.exec(item);
    if (m) {
      const value = m[3].trim();
      if (value.includes(',') || value.includes('(')) {
        throw new SelectorSyntaxError(column, 'a single value after ' + m[2]);
      }
      return { key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [value] };
    }
    m = EXISTS.exec(item);
    if (m) {
      return { key: m[2], op: m[1] === '!' ? '!exists' : 'exists', values: [] };
    }
    throw new SelectorSyntaxError(column, 'key=value, key!=value, key in (a,b), key notin (a,b), key or !key');
  });
}

/** Writes one requirement in selector syntax. */
export function formatRequirement(r: Requirement): string {
  switch (r.op) {
    case '=':
    case '!=':
      return `${r.key}${r.op}${r.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    case 'exists':
      return r.key;
    case '!exists':
      return `!${r.key}`;
  }
}

/** Writes requirements back as a selector, leaving out those without a key. */
export function formatSelector(requirements: Requirement[]): string {
  return requirements
    .filter((r) => r.key.trim() !== '')
    .map(formatRequirement)
    .join(',');
}

/** The parts of Grafana's template service interpolation needs (the real one in Grafana, a small one in tests). */
export interface TemplateVariables {
  /** Replaces variables in `target`; `format` receives each variable's value (a list when multi-valued). */
  replace(target?: string, scopedVars?: object, format?: string | ((value: unknown) => string)): string;
  /** The dashboard's variables with their current selection. */
  getVariables(): Array<{ name: string; current?: { value?: unknown } }>;
}

const VARIABLE_REF = /\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]/g;

/** Names of the variables referenced in `text`. */
function referencedVariables(text: string): string[] {
  return Array.from(text.matchAll(VARIABLE_REF), (m) => m[1] ?? m[2] ?? m[3]);
}

function isAllSelected(name: string, vars: TemplateVariables, scopedVars?: Record<string, unknown>): boolean {
  if (scopedVars && name in scopedVars) {
    return false;
  }
  const current = vars.getVariables().find((v) => v.name === name)?.current?.value;
  return current === '$__all' || (Array.isArray(current) && current.includes('$__all'));
}

/** Expands a value that may reference variables into the list of values it stands for. */
function expandValues(text: string, vars: TemplateVariables, scopedVars?: Record<string, unknown>): string[] {
  const out: string[] = [];
  const replaced = vars.replace(text, scopedVars, (value: unknown) => {
    const list = Array.isArray(value) ? value.map(String) : [String(value)];
    out.push(...list);
    return '\u0000';
  });
  if (out.length === 0) {
    return [replaced];
  }
  // A value mixing text and a variable (`api-$region`) keeps the text around each expansion.
  if (replaced !== '\u0000') {
    const [before, after] = replaced.split('\u0000');
    return out.map((v) => `${before}${v}${after ?? ''}`);
  }
  return out;
}

/**
 * Interpolates template variables in a selector: a multi-value variable becomes
 * `key in (a,b,c)` (`notin` for `!=`), and `All` drops the requirement, since All means no
 * constraint on that key.
 */
export function interpolateSelector(
  selector: string,
  vars: TemplateVariables,
  scopedVars?: Record<string, unknown>
): string {
  if (!selector || referencedVariables(selector).length === 0) {
    return selector ?? '';
  }
  let requirements: Requirement[];
  try {
    requirements = parseSelector(selector);
  } catch {
    // Not a shape the builder knows: plain replacement, and the server names the error.
    return vars.replace(selector, scopedVars, 'csv');
  }
  const out: Requirement[] = [];
  for (const r of requirements) {
    const key = vars.replace(r.key, scopedVars);
    if (r.op === 'exists' || r.op === '!exists') {
      out.push({ ...r, key });
      continue;
    }
    const refs = r.values.flatMap(referencedVariables);
    if (refs.some((name) => isAllSelected(name, vars, scopedVars))) {
      continue;
    }
    const values = Array.from(new Set(r.values.flatMap((v) => expandValues(v, vars, scopedVars))));
    const negated = r.op === '!=' || r.op === 'notin';
    if (values.length === 1 && (r.op === '=' || r.op === '!=')) {
      out.push({ key, op: r.op, values });
    } else {
      out.push({ key, op: negated ? 'notin' : 'in', values });
    }
  }
  return formatSelector(out);
}

/** Interpolates monitor ids: multi-value and All variables expand into one id per value. */
export function interpolateIds(
  ids: string[] | undefined,
  vars: TemplateVariables,
  scopedVars?: Record<string, unknown>
): string[] {
  const out = (ids ?? []).flatMap((id) => expandValues(id, vars, scopedVars)).filter((id) => id !== '');
  return Array.from(new Set(out));
}
