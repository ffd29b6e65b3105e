// Build one JS guest into a component: node build.mjs <name> <world> <out.wasm>
// (The jco CLI's componentize subcommand failed on a path lookup here; the
// library call is what it wraps anyway.)
import { componentize } from '@bytecodealliance/componentize-js';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const [name, world, out] = process.argv.slice(2);
if (!name || !world || !out) {
  console.error('usage: node build.mjs <name> <world> <out.wasm>');
  process.exit(2);
}

// componentize-js lets the engine read only the working directory (when the
// source is inside it): the repo root holds both the apps and the SDK they
// import from host/dataflare/sdk/js.
const target = resolve(out);
process.chdir(root);
const { component } = await componentize({
  sourcePath: join(here, name, 'app.js'),
  witPath: join(root, 'wit'),
  worldName: world,
  // A pure plugin: no stdio, clocks, randomness or HTTP, so no WASI imports
  // beyond what the engine itself needs.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
// Write then rename, so a concurrent reader never sees half a file.
const tmp = `${target}.tmp.${process.pid}`;
writeFileSync(tmp, component);
renameSync(tmp, target);
