import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vulkanEnvironment } from '../cli/node-gpu.js';

/**
 * What users get is what `npm pack` ships, not src/: this packs the package (from the dist/
 * that `npm test` builds first), installs the tarball into an empty project, and uses it the
 * way an app does: TypeScript 5.9 with strict settings typechecks against it, Node imports it
 * and runs README.md's snippets exactly as written, and Vite bundles it for the browser.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const repoModules = join(root, 'node_modules');
let app = '';

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: app, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'webgpu-softmax-app-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', app], { cwd: root, encoding: 'utf8' })) as [{ filename: string }];
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // TypeScript 5 is what most apps have; it cannot sit in our own devDependencies beside TypeScript 7 (both own `tsc`).
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${packed[0].filename}`, 'typescript@~5.9.3']);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.out}`);
  // What the snippets and the bundle need besides the package: the app's own dependencies.
  for (const name of ['webgpu', 'vite']) symlinkSync(join(repoModules, name), join(app, 'node_modules', name));
}, 180_000);

afterAll(() => {
  if (app !== '') rmSync(app, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships dist/ and package.json, with types first in exports, and no sources or tests', () => {
    const listing = execFileSync('tar', ['-tzf', readdirTarball()], { cwd: app, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing.filter((f) => /^package\/(src|test|e2e|bench)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/webgpu-softmax/package.json'), 'utf8')) as {
      exports: { '.': Record<string, string> };
      sideEffects: boolean;
    };
    expect(Object.keys(manifest.exports['.'])[0]).toBe('types');
    expect(manifest.sideEffects).toBe(false);
  });

  for (const [name, compilerOptions] of [
    ['bundler resolution', { module: 'esnext', moduleResolution: 'bundler' }],
    ['NodeNext resolution', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ] as const) {
    it(`typechecks an app under TypeScript 5.9 with lib es2022 + dom, strict, no skipLibCheck (${name})`, () => {
      writeFileSync(join(app, 'app.ts'), APP_TS);
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            lib: ['es2022', 'dom'],
            ...compilerOptions,
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            verbatimModuleSyntax: true,
            skipLibCheck: false,
            noEmit: true,
          },
          files: ['app.ts'],
        }),
      );
      const tsc = run('node', [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.']);
      expect(tsc.out).toBe('');
      expect(tsc.status).toBe(0);
      expect(run('node', [join(app, 'node_modules/typescript/bin/tsc'), '--version']).out).toMatch(/^Version 5\.9\./);
    });
  }

  const snippets = readmeSnippets();
  it('finds the README snippets it must run', () => {
    expect([...snippets.keys()]).toEqual(['tour', 'node', 'gpu-buffers']);
  });

  for (const [name, code] of snippets) {
    it(`runs README's '${name}' snippet as written, in Node, with garbage collections forced between ops, three times`, () => {
      writeFileSync(join(app, `${name}.mjs`), code);
      writeFileSync(join(app, 'gc-between-ops.mjs'), GC_HOOK);
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = run('node', ['--expose-gc', '--import', './gc-between-ops.mjs', `${name}.mjs`], vulkanEnvironment());
        expect(r.status, r.out).toBe(0);
        EXPECTED[name]!(r.out);
      }
    });
  }

  it('bundles for the browser with Vite, the WGSL inlined', () => {
    mkdirSync(join(app, 'web'), { recursive: true });
    writeFileSync(join(app, 'web/index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(
      join(app, 'web/main.js'),
      "import { createContext } from 'webgpu-softmax';\nconst ctx = await createContext();\ndocument.title = ctx.backend;\n",
    );
    const vite = run('node', [join(app, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'error', '--outDir', '../web-dist']);
    expect(vite.status, vite.out).toBe(0);
    const bundle = execFileSync('sh', ['-c', 'cat web-dist/assets/*.js'], { cwd: app, encoding: 'utf8' });
    expect(bundle).toContain('@compute');
    expect(bundle).not.toMatch(/from\s*["']node:/);
  });
});

function readdirTarball(): string {
  return execFileSync('sh', ['-c', 'ls *.tgz'], { cwd: app, encoding: 'utf8' }).trim();
}

function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return new Map([...readme.matchAll(/<!-- snippet: ([\w-]+)[^>]*-->\n```js\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
}

/** Numbers Node printed for a typed array: `Float32Array(2) [ 0.73, 0.26 ]`. */
function printedArrays(out: string): number[][] {
  return [...out.matchAll(/Float32Array\(\d+\) \[([^\]]*)\]/g)].map((m) => m[1]!.split(',').map(Number));
}

const EXPECTED: Record<string, (out: string) => void> = {
  tour(out) {
    expect(out.split('\n')[0]).toBe('cpu');
    const [loss, dw] = printedArrays(out);
    expect(loss![0]).toBeCloseTo(Math.log(3), 6);
    expect(dw!.map((v) => Number(v.toFixed(3)))).toEqual([2.667, 2.667, -5.333, 2.333, 2.333, -4.667]);
    // Nothing left behind: the Wasm memory the tensors held is kept for reuse.
    expect(out).toMatch(/\{ tensors: 0, bytes: 0, pooledBytes: 65536, peakBytes: \d+ \}/);
  },
  node(out) {
    const [p] = printedArrays(out);
    expect(p![0]).toBeCloseTo(0.7310586, 6);
    expect(p![1]).toBeCloseTo(0.2689414, 6);
  },
  'gpu-buffers'(out) {
    const [probs] = printedArrays(out);
    const labels = [0, 1, 0, 1];
    labels.forEach((label, row) => expect(probs![row * 2 + label]).toBeGreaterThan(0.9));
  },
};

/**
 * Loaded with `--import` before a snippet: a garbage collection before every context method
 * and every few milliseconds while the snippet awaits, so whatever the library forgets to keep
 * alive is collected at the worst time.
 */
const GC_HOOK = `import { Context, Tensor } from 'webgpu-softmax';
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with --expose-gc');
for (const proto of [Context.prototype, Tensor.prototype]) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = Object.getOwnPropertyDescriptor(proto, name).value;
    if (name === 'constructor' || typeof method !== 'function') continue;
    proto[name] = function (...args) {
      gc();
      return method.apply(this, args);
    };
  }
}
setInterval(gc, 5).unref();
`;

/** An app that uses the public API, types and all, as a strict TypeScript project would. */
const APP_TS = `import { createContext, ShapeError, type Context, type EpochLogs, type Tensor } from 'webgpu-softmax';

const ctx: Context = await createContext({ backend: 'cpu' });
{
  using x = ctx.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
  const p: Tensor<'float32'> = ctx.softmax(x);
  const data: Float32Array = await p.read();
  console.log(data[0]?.toFixed(3), ctx.backendReason, ctx.memory().bytes);
}
const model = ctx.softmaxRegression({ features: 2, classes: 2, optimizer: { type: 'adam', learningRate: 0.1 } });
await model.fit(ctx.tensor(new Float32Array(4), [2, 2]), ctx.tensor(new Int32Array([0, 1])), {
  epochs: 1,
  onEpochEnd: (logs: EpochLogs) => console.log(logs.loss, logs.valAccuracy ?? 'no validation'),
});
const device: GPUDevice | null = ctx.device;
if (device !== null) {
  const t = ctx.tensorFromGPUBuffer(device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }), [4]);
  const buffer: GPUBuffer = await ctx.gpuBuffer(t);
  console.log(buffer.size);
}
try {
  ctx.matmul(ctx.tensor(new Float32Array(2), [1, 2]), ctx.tensor(new Float32Array(3), [3, 1]));
} catch (error) {
  if (error instanceof ShapeError) console.log(error.message);
}
`;
