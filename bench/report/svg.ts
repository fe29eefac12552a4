// The report as one hand-written SVG: a column per environment, each with four panels
// (matmul GFLOP/s, row kernels GB/s, training ms, speed-ups of ours). Log scales throughout:
// the contenders differ by orders of magnitude, and equal ratios should look equal.

import { groupOf, type BenchCase, type CaseGroup } from '../cases.js';
import { CONTENDER_IDS } from '../contenders/types.js';
import type { BenchReport, EnvironmentResult } from '../results.js';
import { adapterName, COLORS, COMPARISONS, figureOf, format, formatRatio, measurementOf, resultOf, speedup } from './figures.js';

const WIDTH_PER_COLUMN = 600;
const MARGIN = 24;
const LABEL_WIDTH = 190;
const VALUE_ROOM = 64;
const BAR = 8;
const BAR_STEP = 10;
const GROUP_GAP = 8;
/** A generous width of one 8-px character, to keep labels inside their column. */
const CHAR_WIDTH = 4.6;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`;
}

/** A log10 axis over [lo, hi] mapped onto [x0, x1]. */
interface LogScale {
  readonly lo: number;
  readonly hi: number;
  at(value: number): number;
}

function logScale(lo: number, hi: number, x0: number, x1: number): LogScale {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return { lo, hi, at: (v) => x0 + ((Math.log10(Math.min(hi, Math.max(lo, v))) - a) / (b - a)) * (x1 - x0) };
}

/** Whole decades around every value, so the ticks are 0.1, 1, 10... */
function decades(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return [0.1, 10];
  let lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (hi <= lo) hi = lo * 10;
  if (hi / lo < 100) lo /= 10;
  return [lo, hi];
}

function axis(scale: LogScale, x0: number, x1: number, yTop: number, yBottom: number, tick: (v: number) => string): string {
  const parts: string[] = [];
  for (let v = scale.lo; v <= scale.hi * 1.0001; v *= 10) {
    const x = scale.at(v);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${yTop}" x2="${x.toFixed(1)}" y2="${yBottom}" stroke="#ddd"/>`);
    parts.push(text(x, yBottom + 11, tick(v), 'font-size="9" text-anchor="middle" fill="#555"'));
  }
  parts.push(`<line x1="${x0}" y1="${yBottom}" x2="${x1}" y2="${yBottom}" stroke="#999"/>`);
  return parts.join('');
}

const PANEL_TITLES: Readonly<Record<CaseGroup, string>> = {
  matmul: 'Matmul: GFLOP/s (2·M·K·N / time), higher is better',
  rows: 'Softmax, CE + grad: GB/s (8 bytes per logit), higher is better',
  training: 'Training: ms per step or epoch, lower is better',
  linear: 'Linear + cross-entropy with gradients, fused and unfused: ms, lower is better',
};

interface Panel {
  readonly svg: string;
  readonly height: number;
}

/** Bars of every contender per case, with whiskers from the slowest to the fastest repetition. */
function figurePanel(env: EnvironmentResult, cases: readonly BenchCase[], group: CaseGroup, domain: [number, number], x: number, y: number, width: number): Panel {
  const x0 = x + LABEL_WIDTH;
  const x1 = x + width - VALUE_ROOM;
  const scale = logScale(domain[0], domain[1], x0, x1);
  const parts: string[] = [text(x, y + 12, PANEL_TITLES[group], 'font-size="12" font-weight="600"')];
  let cy = y + 22;
  const top = cy;
  const bars: string[] = [];
  for (const c of cases) {
    const groupTop = cy;
    for (const id of CONTENDER_IDS) {
      const r = resultOf(env, c.id, id);
      if (r === undefined) continue;
      const m = measurementOf(env, c.id, id);
      if (m === null) {
        bars.push(text(x0 + 2, cy + BAR - 1, `${id}: failed`, 'font-size="8" fill="#999"'));
      } else {
        const f = figureOf(c, m);
        const end = scale.at(f.median);
        const mid = cy + BAR / 2;
        bars.push(
          `<rect x="${x0}" y="${cy}" width="${Math.max(1, end - x0).toFixed(1)}" height="${BAR}" fill="${COLORS[id]}"><title>${esc(`${id}: ${format(f.median)}`)}</title></rect>`,
          `<line x1="${scale.at(f.worst).toFixed(1)}" y1="${mid}" x2="${scale.at(f.best).toFixed(1)}" y2="${mid}" stroke="#222" stroke-width="1"/>`,
          text(Math.max(end, scale.at(Math.max(f.worst, f.best))) + 3, cy + BAR - 1, format(f.median), 'font-size="8" fill="#333"'),
        );
      }
      cy += BAR_STEP;
    }
    parts.push(text(x0 - 6, (groupTop + cy) / 2 + 3, c.title, 'font-size="10" text-anchor="end"'));
    cy += GROUP_GAP;
  }
  const unitTick = (v: number) => format(v);
  parts.push(axis(scale, x0, x1, top - 2, cy - GROUP_GAP + 2, unitTick), ...bars);
  return { svg: parts.join(''), height: cy - y + 16 };
}

/** Speed-ups of ours, bars growing right of 1× where ours is faster, left where it is slower. */
function ratioPanel(env: EnvironmentResult, cases: readonly BenchCase[], domain: [number, number], x: number, y: number, width: number): Panel {
  const x0 = x + LABEL_WIDTH;
  const x1 = x + width - VALUE_ROOM;
  const scale = logScale(domain[0], domain[1], x0, x1);
  const one = scale.at(1);
  const parts: string[] = [text(x, y + 12, 'Speed-up of ours: their median ÷ ours (right of 1× = ours faster)', 'font-size="12" font-weight="600"')];
  let cy = y + 22;
  const top = cy;
  const bars: string[] = [];
  for (const c of cases) {
    const groupTop = cy;
    for (const cmp of COMPARISONS) {
      const r = speedup(env, c.id, cmp, 'wall');
      const label = `${cmp.label} ${formatRatio(r)}`;
      if (r !== null) {
        const end = scale.at(r);
        const [left, right] = end >= one ? [one, end] : [end, one];
        const opacity = cmp.ours === 'ours-webgpu' ? '1' : '0.55';
        bars.push(
          `<rect x="${left.toFixed(1)}" y="${cy}" width="${Math.max(1, right - left).toFixed(1)}" height="${BAR}" fill="${COLORS[cmp.other]}" fill-opacity="${opacity}"><title>${esc(label)}</title></rect>`,
          // Labels sit right of the bar (or of the 1× line for bars that grow left), clear of the
          // case titles; one that would run off the column goes inside the bar's end instead.
          Math.max(end, one) + 3 + label.length * CHAR_WIDTH > x + width
            ? text(end - 3, cy + BAR - 1, label, 'font-size="8" fill="#fff" text-anchor="end"')
            : text(Math.max(end, one) + 3, cy + BAR - 1, label, 'font-size="8" fill="#333"'),
        );
      } else {
        bars.push(text(one + 3, cy + BAR - 1, label, 'font-size="8" fill="#999"'));
      }
      cy += BAR_STEP;
    }
    parts.push(text(x0 - 6, (groupTop + cy) / 2 + 3, c.title, 'font-size="10" text-anchor="end"'));
    cy += GROUP_GAP;
  }
  parts.push(
    axis(scale, x0, x1, top - 2, cy - GROUP_GAP + 2, (v) => `${format(v)}×`),
    `<line x1="${one.toFixed(1)}" y1="${top - 2}" x2="${one.toFixed(1)}" y2="${cy - GROUP_GAP + 2}" stroke="#333"/>`,
    ...bars,
  );
  return { svg: parts.join(''), height: cy - y + 16 };
}

function columnHeader(env: EnvironmentResult, x: number, y: number): Panel {
  const software = env.adapter?.isSoftware === true;
  const parts = [
    text(x, y + 14, env.runtime, 'font-size="14" font-weight="700"'),
    text(x, y + 30, `Adapter: ${adapterName(env)}`, `font-size="10" fill="${software ? '#b2182b' : '#333'}"`),
    text(x, y + 44, `Date: ${env.date.slice(0, 16).replace('T', ' ')} UTC · ${env.cpuCores} CPU cores`, 'font-size="10" fill="#333"'),
  ];
  return { svg: parts.join(''), height: 54 };
}

export function renderSvg(report: BenchReport): string {
  const envs = report.environments;
  const columns = Math.max(1, envs.length);
  const width = MARGIN * 2 + columns * WIDTH_PER_COLUMN + (columns - 1) * MARGIN;
  const groups: readonly CaseGroup[] = ['matmul', 'rows', 'training', 'linear'];
  const casesOf = (g: CaseGroup) => report.cases.filter((c) => groupOf(c) === g);

  // One domain per panel across environments, so Node and Chromium bars compare at a glance.
  const domains = new Map<CaseGroup, [number, number]>();
  for (const g of groups) {
    const values: number[] = [];
    for (const env of envs) {
      for (const c of casesOf(g)) {
        for (const id of CONTENDER_IDS) {
          const m = measurementOf(env, c.id, id);
          if (m !== null) values.push(...Object.values(figureOf(c, m)));
        }
      }
    }
    domains.set(g, decades(values));
  }
  const ratios = envs.flatMap((env) => report.cases.flatMap((c) => COMPARISONS.map((cmp) => speedup(env, c.id, cmp, 'wall'))));
  const extreme = Math.max(10, ...ratios.filter((r): r is number => r !== null && r > 0).map((r) => Math.max(r, 1 / r)));
  const reach = 10 ** Math.ceil(Math.log10(extreme));
  const ratioDomain: [number, number] = [1 / reach, reach];

  const title = [
    text(MARGIN, MARGIN + 8, `webgpu-softmax benchmark: ${report.mode} run, ${report.date.slice(0, 10)}`, 'font-size="18" font-weight="700"'),
    text(
      MARGIN,
      MARGIN + 26,
      'Steady-state wall time (R iterations queued, one sync). Log scales; whiskers span the slowest to the fastest repetition. ' +
        (envs.some((e) => e.adapter?.isSoftware === true) ? 'Software adapter: GPU figures are CPU figures.' : ''),
      'font-size="11" fill="#444"',
    ),
  ];
  const legend = CONTENDER_IDS.map((id, i) => {
    const lx = MARGIN + i * 120;
    return `<rect x="${lx}" y="${MARGIN + 36}" width="12" height="10" fill="${COLORS[id]}"/>${text(lx + 16, MARGIN + 45, id, 'font-size="11"')}`;
  });
  const top = MARGIN + 60;

  const body: string[] = [];
  let height = top;
  envs.forEach((env, i) => {
    const x = MARGIN + i * (WIDTH_PER_COLUMN + MARGIN);
    let y = top;
    const header = columnHeader(env, x, y);
    body.push(header.svg);
    y += header.height;
    for (const g of groups) {
      const cases = casesOf(g);
      if (cases.length === 0) continue;
      const panel = figurePanel(env, cases, g, domains.get(g)!, x, y, WIDTH_PER_COLUMN);
      body.push(panel.svg);
      y += panel.height;
    }
    const panel = ratioPanel(env, report.cases, ratioDomain, x, y, WIDTH_PER_COLUMN);
    body.push(panel.svg);
    y += panel.height;
    height = Math.max(height, y);
  });
  if (envs.length === 0) body.push(text(MARGIN, top + 20, 'No environment produced results.', 'font-size="12"'));
  height += MARGIN;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...title,
    ...legend,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
