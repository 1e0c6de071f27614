import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layout rules of docs/development.md ("Code layout"), checked over the import graph of src/:
 * no import cycle between folders, `*.routes.ts` never reach for the database, a feature never
 * imports another feature's repository, and src/lib/ is a leaf.
 *
 * Every import counts, type-only ones included: a type import still ties one folder's design to
 * another's, and a cycle through types is a cycle a reader has to untangle.
 */

const SRC = resolve(import.meta.dirname, '../src');

interface Edge {
  from: string;
  to: string;
}

/** Every `src/**\/*.ts` file, relative to src/, with `/` separators. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(SRC, path).split(sep).join('/')] : [];
  });
}

/** Relative imports of one file (static, dynamic, re-exports, `import type`), resolved to src/-relative paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(SRC, resolve(dirname(join(SRC, file)), name)).split(sep).join('/').replace(/\.js$/, '.ts'));
}

/** Bare (package) imports of one file, e.g. `kysely`. */
function packagesOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
  return info.importedFiles.map((imported) => imported.fileName).filter((name) => !name.startsWith('.'));
}

/**
 * The node a file belongs to: its top folder under src/. Files directly in src/ are nodes of their
 * own: the composition root (main, app, dependencies) imports every folder and config.ts is
 * imported by several, so lumping them into one "root folder" would report a cycle that is not one.
 */
export const nodeOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);

/** The strongly connected components with more than one node (Tarjan): each is a cycle. */
export function folderCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = nodeOf(from);
    const b = nodeOf(to);
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    next.get(a)!.add(b);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** The import edges that hold a cycle together, as `a/x.ts → b/y.ts`, for the failure message. */
const edgesWithin = (edges: readonly Edge[], cycle: readonly string[]) =>
  edges.filter((e) => nodeOf(e.from) !== nodeOf(e.to) && cycle.includes(nodeOf(e.from)) && cycle.includes(nodeOf(e.to))).map((e) => `${e.from} → ${e.to}`);

const files = sourceFiles();
const edges: Edge[] = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

/**
 * Folders whose repository functions others may call: both write rows that must commit with the
 * caller's own change (a transactional outbox, a durable job), so they take the caller's
 * transaction by design. Every other repository is private to its feature.
 */
const SHARED_REPOSITORIES = new Set(['outbox', 'jobs']);

describe('architecture: the import graph of src/', () => {
  it('reads every file and finds imports (the checks below are not vacuous)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.some((e) => e.from === 'app.ts' && e.to === 'events/relay.routes.ts')).toBe(true);
    expect(edges.some((e) => e.from === 'events/event.service.ts' && e.to === 'events/state-machine.ts')).toBe(true);
  });

  it('has no import cycle between folders', () => {
    const cycles = folderCycles(edges);
    expect(cycles.map((cycle) => ({ cycle, through: edgesWithin(edges, cycle) }))).toEqual([]);
  });

  it('keeps *.routes.ts thin: no repository, no db/, no Kysely', () => {
    const offending = [
      ...edges.filter((e) => e.from.endsWith('.routes.ts') && (e.to.endsWith('.repository.ts') || e.to.startsWith('db/'))).map((e) => `${e.from} → ${e.to}`),
      ...files.filter((f) => f.endsWith('.routes.ts') && packagesOf(f).includes('kysely')).map((f) => `${f} → kysely`),
    ];
    expect(offending).toEqual([]);
  });

  it("never lets a feature import another feature's repository", () => {
    const offending = edges
      .filter((e) => e.to.endsWith('.repository.ts') && nodeOf(e.from) !== nodeOf(e.to) && !SHARED_REPOSITORIES.has(nodeOf(e.to)))
      .map((e) => `${e.from} → ${e.to}`);
    expect(offending).toEqual([]);
  });

  it('keeps src/lib/ a leaf: it imports nothing else from src/', () => {
    const offending = edges.filter((e) => e.from.startsWith('lib/') && !e.to.startsWith('lib/')).map((e) => `${e.from} → ${e.to}`);
    expect(offending).toEqual([]);
  });
});

describe('architecture: the checks themselves', () => {
  it('when two folders import each other, even through a third and through types, then a cycle is reported', () => {
    const graph: Edge[] = [
      { from: 'events/event.service.ts', to: 'outbox/outbox.repository.ts' },
      { from: 'outbox/outbox-dispatcher.ts', to: 'webhooks/standard-webhooks.ts' },
      { from: 'webhooks/webhook.routes.ts', to: 'events/event.service.ts' },
      { from: 'lib/a.ts', to: 'lib/b.ts' },
      { from: 'app.ts', to: 'events/relay.routes.ts' },
      { from: 'db/database.ts', to: 'config.ts' },
      { from: 'config.ts', to: 'lib/a.ts' },
    ];
    expect(folderCycles(graph)).toEqual([['events', 'outbox', 'webhooks']]);
    expect(folderCycles(graph.slice(0, 2))).toEqual([]);
  });

  it('when a file sits directly in src/, then it is a node of its own', () => {
    expect(nodeOf('config.ts')).toBe('config.ts');
    expect(nodeOf('events/state-machine.ts')).toBe('events');
  });
});
