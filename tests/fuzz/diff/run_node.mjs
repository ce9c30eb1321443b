// run_node.mjs - V8's side of the differential fuzzer (run.sh): runs one
// module with node's WebAssembly API the way run_ours.c runs it under our
// engine and prints the same transcript (see run_ours.c for its format):
//
//   node run_node.mjs [-a SET] FILE.wasm
//
// Every exported function except "hangLimitInitializer" is called in
// export order with the arguments of SET (the table in run_ours.c;
// references are null), "hangLimitInitializer" before each when exported. The exports' types
// come from the module's own type, import, function and export sections
// (read below), so no experimental type-reflection flag is needed.
import { readFileSync, writeSync } from 'node:fs';

// Synchronous writes: a timeout that kills us keeps what was printed.
const out = (line) => writeSync(1, line + '\n');

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c;

// The types of the module's functions, by function index, and its exports.
function readSignatures(bytes) {
  let p = 8;
  const u32 = () => {
    let r = 0, shift = 0, b;
    do {
      b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  const name = () => {
    const n = u32();
    const s = Buffer.from(bytes.subarray(p, p + n)).toString('utf8');
    p += n;
    return s;
  };
  const limits = () => {
    const flags = bytes[p++];
    u32();
    if (flags & 1) u32();
  };
  const types = [], funcs = [], exports = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        p++;  // 0x60
        const params = [], results = [];
        for (let k = u32(); k > 0; k--) params.push(bytes[p++]);
        for (let k = u32(); k > 0; k--) results.push(bytes[p++]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) funcs.push(types[u32()]);
        else if (kind === 1) { p++; limits(); }
        else if (kind === 2) limits();
        else p += 2;  // global: valtype, mutability
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcs.push(types[u32()]);
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const nm = name();
        const kind = bytes[p++];
        const idx = u32();
        exports.push({ name: nm, kind, type: kind === 0 ? funcs[idx] : null });
      }
    }
    p = end;
  }
  return exports;
}

const f32buf = new Float32Array(1), f32bits = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1), f64bits = new BigUint64Array(f64buf.buffer);
const hex = (v, n) => v.toString(16).padStart(n, '0');

function show(type, v) {
  switch (type) {
    case I32: return String(v | 0);
    case I64: return BigInt.asIntN(64, v).toString();
    case F32:
      if (Number.isNaN(v)) return 'nan';
      f32buf[0] = v;
      return 'f32:0x' + hex(f32bits[0], 8);
    case F64:
      if (Number.isNaN(v)) return 'nan';
      f64buf[0] = v;
      return 'f64:0x' + hex(f64bits[0], 16);
    default: return v === null ? 'null' : 'ref';
  }
}

// V8's trap messages onto run_ours.c's classes.
function trapClass(e) {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'stack';
  if (!(e instanceof WebAssembly.RuntimeError)) return 'other';
  const m = e.message;
  if (/unreachable/.test(m)) return 'unreachable';
  if (/by zero/.test(m)) return 'div0';
  if (/unrepresentable/.test(m)) return 'overflow';
  if (/memory|data segment/.test(m)) return 'mem';
  if (/table|element segment|function|signature/.test(m)) return 'table';
  return 'other';
}
const firstLine = (e) => String(e && e.message).split('\n')[0];

// The argument sets of run_ours.c, by type.
const ARGS = {
  [I32]: [0, 1, -1, -2147483648, 2147483647],
  [I64]: [0n, 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n],
  [F32]: [0, 1, -0, 3.4028234663852886e38, 1.5],
  [F64]: [0, 1, -0, -Infinity, 0.1],
};
let argv = process.argv.slice(2), set = 0;
if (argv[0] === '-a') {
  set = Number(argv[1]);
  argv = argv.slice(2);
}
const bytes = readFileSync(argv[0]);
let module;
try {
  module = new WebAssembly.Module(bytes);
} catch (e) {
  out('invalid # ' + firstLine(e));
  process.exit(0);
}
const logger = (type) => (v) => { out(`log ${type} ${show(type === 'i32' ? I32 : type === 'i64' ? I64 : type === 'f32' ? F32 : F64, v)}`); };
const imports = {
  'fuzzing-support': {
    'log-i32': logger('i32'),
    'log-i64': logger('i64'),
    'log-f32': logger('f32'),
    'log-f64': logger('f64'),
  },
};
let instance;
try {
  instance = new WebAssembly.Instance(module, imports);
} catch (e) {
  if (e instanceof WebAssembly.LinkError) out('link-error # ' + firstLine(e));
  else out(`instantiate-trap ${trapClass(e)} # ${firstLine(e)}`);
  process.exit(0);
}
const reset = instance.exports.hangLimitInitializer;
for (const ex of readSignatures(bytes)) {
  if (ex.kind !== 0 || ex.name === 'hangLimitInitializer') continue;
  out('call ' + ex.name);
  if (typeof reset === 'function') reset();
  const { params, results } = ex.type;
  const args = params.map((t) => (t in ARGS ? ARGS[t][set] : null));
  try {
    const r = instance.exports[ex.name](...args);
    const vals = results.length === 1 ? [r] : results.length ? [...r] : [];
    out(['result', ...vals.map((v, k) => show(results[k], v))].join(' '));
  } catch (e) {
    out(`trap ${trapClass(e)} # ${firstLine(e)}`);
  }
}
