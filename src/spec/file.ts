// outpost.yaml: parse with positions so every problem names its line, and write back.
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  stringify,
  type Node,
} from 'yaml';
import { problem, said, SpecError, type PathSegment, type Problem } from './problems.js';
import type { Spec } from './schema.js';
import { validateSpec, type Validation } from './validate.js';

/** Parses and validates the text of an outpost.yaml; problems carry lines. */
export function validateSpecYaml(text: string): Validation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          ...problem([], said('yaml_syntax', { detail: e.message.split('\n')[0] ?? e.message })),
          line: pos.line,
          column: pos.col,
        };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // The yaml package refuses an alias bomb (billion laughs) with a ReferenceError.
    if (!(err instanceof ReferenceError)) throw err;
    return {
      ok: false,
      problems: [problem([], said('yaml_alias_bomb'))],
    };
  }
  const v = validateSpec(data);
  if (v.ok) return v;
  return {
    ok: false,
    problems: v.problems.map((p) => {
      const offset = offsetOf(doc.contents, p.segments);
      if (offset === undefined) return p;
      const pos = lineCounter.linePos(offset);
      return { ...p, line: pos.line, column: pos.col };
    }),
  };
}

/** Parses the text of an outpost.yaml, throwing a SpecError with every problem. */
export function parseSpecYaml(text: string): Spec {
  const v = validateSpecYaml(text);
  if (!v.ok) throw new SpecError(v.problems);
  return v.spec;
}

/**
 * Finds the source offset of the node at `segments`: the value if it exists, otherwise the
 * key (unknown keys), otherwise the nearest existing parent.
 */
function offsetOf(root: unknown, segments: readonly PathSegment[]): number | undefined {
  let node: unknown = root;
  let best = rangeStart(node);
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === seg);
      if (!pair) return best;
      best = rangeStart(pair.key) ?? best;
      if (pair.value === null || pair.value === undefined) return best;
      node = pair.value;
      best = rangeStart(node) ?? best;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return best;
      node = item;
      best = rangeStart(node) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Serialises a Spec as outpost.yaml: stable key order, one block per entry. */
export function stringifySpec(spec: Spec): string {
  const doc: Record<string, unknown> = { edges: spec.edges, sites: spec.sites };
  if (spec.dns) doc.dns = spec.dns;
  if (spec.acme) doc.acme = spec.acme;
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

export type { Problem };
