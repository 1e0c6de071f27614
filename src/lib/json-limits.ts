/**
 * Bounds on the shape of accepted JSON. A byte limit alone lets a 10 kB body nest 5,000 levels
 * deep, enough to overflow any recursive walk over it; and a wide body multiplies per-entry work.
 * Both walks here are iterative, so they are safe on any input JSON.parse accepts.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays (the top-level object or array is depth 1). */
  maxDepth: number;
  /** Object members plus array elements, counted over the whole document. */
  maxEntries: number;
}

/** What every JSON request body the BFF accepts must stay within. */
export const REQUEST_JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 32, maxEntries: 1_000 });

/** The first limit `value` exceeds, as a sentence naming it; undefined when within both. */
export function jsonLimitViolation(value: unknown, limits: JsonLimits): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let entries = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limits.maxDepth) return `The JSON body nests deeper than ${limits.maxDepth} levels.`;
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    entries += children.length;
    if (entries > limits.maxEntries) return `The JSON body has more than ${limits.maxEntries} members and array elements.`;
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}

type Piece = { literal: string } | { value: unknown };

/**
 * Stable JSON: object keys sorted by code unit, so the same data serialises the same whatever
 * its key order. `undefined` and functions become `null` wherever they appear.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Piece[] = [{ value }];
  while (stack.length > 0) {
    const piece = stack.pop()!;
    if ('literal' in piece) {
      out.push(piece.literal);
      continue;
    }
    const current = piece.value;
    if (current === null || typeof current !== 'object') {
      out.push(JSON.stringify(current) ?? 'null');
      continue;
    }
    const pieces: Piece[] = [];
    if (Array.isArray(current)) {
      pieces.push({ literal: '[' });
      current.forEach((element, index) => {
        if (index > 0) pieces.push({ literal: ',' });
        pieces.push({ value: element });
      });
      pieces.push({ literal: ']' });
    } else {
      const entries = Object.entries(current as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      pieces.push({ literal: '{' });
      entries.forEach(([key, element], index) => {
        pieces.push({ literal: `${index > 0 ? ',' : ''}${JSON.stringify(key)}:` }, { value: element });
      });
      pieces.push({ literal: '}' });
    }
    for (let i = pieces.length - 1; i >= 0; i--) stack.push(pieces[i]!);
  }
  return out.join('');
}
