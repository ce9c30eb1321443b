// wasi-run.mjs - runs a WASI (preview1) command module under node/V8.
// Usage: node --no-warnings bench/wasi-run.mjs FILE.wasm [ARGS]...
// Exits with the guest's exit code.
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import { argv, env } from 'node:process';

const file = argv[2];
if (!file) {
  console.error('usage: node bench/wasi-run.mjs FILE.wasm [ARGS]...');
  process.exit(2);
}
const wasi = new WASI({
  version: 'preview1',
  args: argv.slice(2),
  env: {},
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
