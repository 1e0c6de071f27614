/**
 * `npm run build:server`: the production server as one minified ES module per entry point
 * (dist/main.js, dist/rekey.js) plus shared and lazily loaded chunks (dist/chunks/).
 *
 * Why a bundle: loading ~1,000 separate files from node_modules dominated cold start and idle
 * memory. One file parses faster and keeps only the code that is reachable.
 *
 * What stays outside the bundle (EXTERNAL) is loaded from node_modules at run time, so the
 * production image still installs those packages: native addons (better-sqlite3, and pg's
 * optional pg-native) and the dev-only pretty printer. Everything else ships inside dist/.
 *
 * Dynamic `import()`s stay lazy (splitting): the sandbox simulator is a chunk production never loads.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/** Loaded from node_modules at run time; see the note above. The Dockerfile installs exactly these. */
export const EXTERNAL = ['better-sqlite3', 'pg-native', 'pino-pretty'];

// Bundled CommonJS packages call require(), __dirname and __filename, which an ES module lacks.
// pino resolves its transport workers next to its own files: point it at node_modules, where
// they are when a transport (only pino-pretty, in development) is used at all.
const banner = `import { createRequire as __ucwCreateRequire } from 'node:module';
import { fileURLToPath as __ucwFileURLToPath } from 'node:url';
import { dirname as __ucwDirname } from 'node:path';
const require = __ucwCreateRequire(import.meta.url);
const __filename = __ucwFileURLToPath(import.meta.url);
const __dirname = __ucwDirname(__filename);
try {
  globalThis.__bundlerPathsOverrides ??= {
    'pino-worker': require.resolve('pino/lib/worker.js'),
    'thread-stream-worker': require.resolve('thread-stream/lib/worker.js'),
  };
} catch {}`;

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'src/main.ts', rekey: 'src/rekey.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.11',
  minifyWhitespace: true,
  minifySyntax: true,
  // Identifiers are not minified, so names in stack traces, profiles and error types stay
  // readable. No keepNames: it wraps every function, closures made per request included, in a
  // defineProperty call, which cost more CPU per request than the bundle saved.
  sourcemap: 'linked',
  external: EXTERNAL,
  banner: { js: banner },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
// V8 keeps a script's source for lazy compilation, at one byte a character only if every character
// is Latin-1: a single "…" in a template literal (which esbuild cannot escape) doubles the ~1.2 MB
// main bundle's source in the heap. Write such characters as escapes or HTML entities instead.
for (const file of Object.keys(result.metafile.outputs).filter((name) => name.endsWith('.js'))) {
  const text = readFileSync(file, 'utf8');
  const at = text.search(/[^\x00-\xff]/);
  if (at >= 0) throw new Error(`build:server: ${file} holds a non-Latin-1 character (${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}); escape it in the source`);
}
// The bundle is ES modules: say so next to it, so dist/ runs wherever it is copied.
writeFileSync('dist/package.json', '{ "type": "module" }\n');
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
process.stdout.write(`build:server: dist/main.js, dist/rekey.js and chunks, ${(bytes / 1024).toFixed(0)} KiB of JavaScript\n`);
