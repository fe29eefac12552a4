// The report as Markdown: per environment, the speed-ups of ours, the throughput of everyone,
// and the raw times behind them. Every table is preceded by a caption naming the runtime, the
// adapter (software or not) and the date, so a table copied elsewhere still says where it ran.

import { workOf, type BenchCase, type LinearCrossEntropyCase } from '../cases.js';
import { CONTENDER_IDS } from '../contenders/types.js';
import type { BenchReport, EnvironmentResult } from '../results.js';
import { caption, COMPARISONS, ENVIRONMENT_TITLES, figureOf, format, formatRatio, measurementOf, resultOf, speedup } from './figures.js';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function unitLabel(c: BenchCase): string {
  const work = workOf(c);
  return work.unit === 'ms' ? `ms/${work.per} ↓` : `${work.unit} ↑`;
}

function speedupTable(env: EnvironmentResult, cases: readonly BenchCase[]): string {
  const header = ['case', ...COMPARISONS.map((cmp) => cmp.label), 'GPU vs tfjs-webgpu, kernel time'];
  const gpu = COMPARISONS[0]!;
  const rows = cases.map((c) => [
    c.title,
    ...COMPARISONS.map((cmp) => formatRatio(speedup(env, c.id, cmp, 'wall'))),
    formatRatio(speedup(env, c.id, gpu, 'kernel')),
  ]);
  return table(header, rows);
}

function throughputTable(env: EnvironmentResult, cases: readonly BenchCase[]): string {
  // Contenders left out with --contenders get no column.
  const ids = CONTENDER_IDS.filter((id) => env.contenders.some((c) => c.id === id) || env.unavailable.some((u) => u.id === id));
  const rows = cases.map((c) => [
    c.title,
    unitLabel(c),
    ...ids.map((id) => {
      const m = measurementOf(env, c.id, id);
      if (m === null) return (resultOf(env, c.id, id)?.error ?? null) === null ? '–' : 'failed';
      const f = figureOf(c, m);
      // The spread runs from the slowest to the fastest repetition, whichever way the unit points.
      const [lo, hi] = f.worst < f.best ? [f.worst, f.best] : [f.best, f.worst];
      return `**${format(f.median)}** (${format(lo)}–${format(hi)})`;
    }),
  ]);
  return table(['case', 'unit', ...ids], rows);
}

function timesTable(env: EnvironmentResult, cases: readonly BenchCase[]): string {
  const rows: string[][] = [];
  for (const c of cases) {
    for (const id of CONTENDER_IDS) {
      const r = resultOf(env, c.id, id);
      if (r === undefined) continue;
      const m = r.measurement;
      if (m === null) {
        rows.push([c.title, id, `failed: ${(r.error ?? '').replace(/\|/g, '\\|').slice(0, 160)}`, '', '', '', '', '']);
        continue;
      }
      rows.push([
        c.title,
        id,
        format(m.wall.median),
        `${format(m.wall.q1)}–${format(m.wall.q3)}`,
        `${format(m.wall.min)}–${format(m.wall.max)}`,
        m.kernel === null
          ? `n/a (${m.kernelError === null ? m.kernelSource : `profiler failed: ${m.kernelError.replace(/\|/g, '\\|').slice(0, 120)}`})`
          : `${format(m.kernel.median)} (${m.kernelSource}, n=${m.kernel.n})`,
        `${m.iterations} × ${m.reps}`,
        format(m.firstMs),
      ]);
    }
  }
  return table(['case', 'contender', 'wall ms/iter (median)', 'IQR', 'min–max', 'kernel ms (median)', 'R × reps', 'first run ms'], rows);
}

function megabytes(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '–' : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Fused against unfused linear cross-entropy: time, the ratio, and the peak memory of each. */
function fusedTable(env: EnvironmentResult, cases: readonly BenchCase[]): string | null {
  const fused = cases.filter((c): c is LinearCrossEntropyCase => c.kind === 'linearCrossEntropy' && c.fused);
  if (fused.length === 0) return null;
  const rows: string[][] = [];
  for (const f of fused) {
    const unfused = cases.find((c) => c.kind === 'linearCrossEntropy' && !c.fused && c.rows === f.rows && c.features === f.features && c.classes === f.classes);
    for (const id of ['ours-webgpu', 'ours-cpu'] as const) {
      const rf = resultOf(env, f.id, id);
      if (rf === undefined) continue;
      const ru = unfused === undefined ? undefined : resultOf(env, unfused.id, id);
      const ms = (r: typeof rf | undefined) => (r?.measurement ? format(r.measurement.wall.median) : r?.error ? `failed: ${r.error.replace(/\|/g, '\\|').slice(0, 120)}` : '–');
      const ratio = rf.measurement && ru?.measurement ? formatRatio(rf.measurement.wall.median / ru.measurement.wall.median) : '–';
      const tfjs = unfused === undefined ? undefined : resultOf(env, unfused.id, 'tfjs-webgpu');
      const vsTfjs = rf.measurement && tfjs?.measurement ? formatRatio(tfjs.measurement.wall.median / rf.measurement.wall.median) : '–';
      rows.push([`${f.rows}×${f.features}→${f.classes}`, id, ms(rf), ms(ru), ratio, megabytes(rf.peakBytes), megabytes(ru?.peakBytes), megabytes(4 * f.rows * f.classes), vsTfjs]);
    }
  }
  return table(
    ['N×D→C', 'contender', 'fused ms', 'unfused ms', 'fused ÷ unfused time', 'fused peak', 'unfused peak', 'logits alone', 'tfjs-webgpu unfused ÷ ours fused'],
    rows,
  );
}

function environmentSection(env: EnvironmentResult, cases: readonly BenchCase[]): string {
  const fused = fusedTable(env, cases);
  const a = env.adapter;
  const lines = [
    `## ${env.runtime}`,
    '',
    `- **Adapter:** ${a === null ? 'none' : `vendor \`${a.vendor}\`, architecture \`${a.architecture}\`, description \`${a.description}\`${a.device ? `, device \`${a.device}\`` : ''}`}`,
    `- **Software adapter:** ${a === null ? 'n/a' : a.isSoftware ? '**yes**: WebGPU runs on the CPU here (SwiftShader or similar), so GPU figures are CPU figures; compare ratios, not absolute numbers' : 'no'}`,
    `- **GPU features used:** ${a === null || a.features.length === 0 ? 'none' : a.features.join(', ')}`,
    `- **Date:** ${env.date} · **CPU cores:** ${env.cpuCores}${env.userAgent === null ? '' : ` · **User agent:** ${env.userAgent}`} · **took** ${(env.seconds / 60).toFixed(1)} min`,
    '- **Contenders:**',
    ...env.contenders.map((c) => `  - \`${c.id}\`: ${c.description}; kernel time from ${c.kernelSource}`),
    ...env.unavailable.map((u) => `  - \`${u.id}\`: **unavailable**: ${u.error}`),
    '',
    '### Speed-up of ours (their median ÷ our median; above 1× ours is faster)',
    '',
    `_${caption(env)}_. GPU = \`ours-webgpu\`, CPU = \`ours-cpu\`; steady-state wall time, plus GPU kernel time (timestamp-query) for the GPU pair.`,
    '',
    speedupTable(env, cases),
    '',
    '### Throughput (median over repetitions, with the slowest–fastest repetition)',
    '',
    `_${caption(env)}_. GFLOP/s = 2·M·K·N / time; GB/s = 8 bytes per logit / time (read once, write once); ms per training step or epoch.`,
    '',
    throughputTable(env, cases),
    '',
    ...(fused === null
      ? []
      : [
          '### Fused linear cross-entropy against the unfused chain',
          '',
          `_${caption(env)}_. Loss and gradients for x, W and b; peak = the most bytes the backend held at once beyond the inputs (\`ctx.memory().peakBytes\`), over the measurement (two iterations' outputs live at a time).`,
          '',
          fused,
          '',
        ]),
    '### Times per iteration',
    '',
    `_${caption(env)}_. Wall: R iterations queued, one sync, divided by R, over the repetitions. Kernel: the contender's own profiler, one iteration at a time.`,
    '',
    timesTable(env, cases),
    '',
  ];
  return lines.join('\n');
}

export function renderMarkdown(report: BenchReport): string {
  const cases = report.cases;
  const s = report.settings;
  const header = [
    `# webgpu-softmax benchmark, ${report.mode} run, ${report.date.slice(0, 10)}`,
    '',
    `\`${report.command}\` on ${report.host.os}, ${report.host.cores} × ${report.host.cpu}; ${(report.seconds / 60).toFixed(1)} min in all.`,
    '',
    `Method (bench/README.md has the details): warm-up until pipelines are compiled, then ${s.minReps}–${s.maxReps} repetitions of R iterations ` +
      `queued without any readback and synced once (R sized so a repetition lasts about ${s.targetRepMs} ms); medians with min–max and IQR. ` +
      'Kernel times come from timestamp-query on WebGPU (ours: `ctx.profile`; tfjs: `tf.time().kernelMs`) and from the backend’s per-op wall clock on CPUs. ' +
      'The machine may be shared and noisy: trust ratios measured side by side more than absolute numbers.',
    '',
    ...report.missing.map((m) => `> **${ENVIRONMENT_TITLES[m.environment]} did not run:** ${m.error}\n`),
  ];
  return [...header, ...report.environments.map((env) => environmentSection(env, cases))].join('\n');
}
