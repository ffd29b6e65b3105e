// Build the plugin into a WebAssembly component (`dataflare build` runs this):
//   node build.mjs <plugin.js> <wit dir> <world> <out.wasm>
// componentize-js comes from this project's node_modules (`npm ci`), pinned
// by package-lock.json.
import { componentize } from '@bytecodealliance/componentize-js';
import { spawnSync } from 'node:child_process';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const [source, wit, world, out] = process.argv.slice(2);
if (!source || !wit || !world || !out) {
  console.error('usage: node build.mjs <plugin.js> <wit dir> <world> <out.wasm>');
  process.exit(2);
}

/** The project's own .js files, outside node_modules/ and build/. */
function sources(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      return ['node_modules', 'build', '.git'].includes(entry.name) ? [] : sources(path);
    }
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

// componentize-js reports a syntax error as "failed to parse JS source,
// encountered [1] errors", naming neither file nor line; node's check does.
for (const file of sources(root)) {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
  if (check.status !== 0) {
    console.error(check.stderr.trim().replace(file, relative(process.cwd(), file) || file));
    process.exit(1);
  }
}

const target = resolve(out);
const witPath = resolve(wit);
const sourcePath = resolve(source);
// The engine may read only the working directory (when the source is in it):
// the project's root, which holds the plugin and the SDK it imports.
process.chdir(root);
const { component } = await componentize({
  sourcePath,
  // Its messages name the source by this ("source.js" otherwise).
  sourceName: basename(sourcePath),
  witPath,
  worldName: world,
  // A pure plugin: no stdio, clocks, randomness or HTTP, so no WASI imports
  // beyond what the engine itself needs.
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
// Write then rename, so no one ever sees half a file.
const tmp = `${target}.tmp.${process.pid}`;
try {
  writeFileSync(tmp, component);
  renameSync(tmp, target);
} catch (e) {
  rmSync(tmp, { force: true });
  throw e;
}
