import { svgElement } from './svg.js';

export interface Series {
  readonly name: string;
  readonly color: string;
  /** One value per epoch done so far. */
  readonly values: readonly number[];
}

export interface LineChart {
  readonly title: string;
  /** The run's epochs: the x axis spans them all from the start, so it does not rescale as points arrive. */
  readonly epochs: number;
  readonly series: readonly Series[];
  /** Keeps accuracy within [0, 1] however the points fall. */
  readonly clamp?: readonly [number, number];
}

const WIDTH = 480;
const HEIGHT = 240;
const MARGIN = { left: 46, right: 12, top: 34, bottom: 34 } as const;

/** Draws the chart into `svg` (whose viewBox is 480 x 240), replacing what was there. */
export function renderLineChart(svg: SVGSVGElement, chart: LineChart): void {
  svg.replaceChildren();
  svg.append(svgElement('text', { x: MARGIN.left, y: 14, class: 'chart-title' }, chart.title));
  chart.series.forEach((s, i) => {
    const x = MARGIN.left + i * 90;
    svg.append(svgElement('rect', { x, y: 20, width: 10, height: 4, fill: s.color }));
    svg.append(svgElement('text', { x: x + 14, y: 26, class: 'chart-legend' }, s.name));
  });

  const values = chart.series.flatMap((s) => s.values).filter(Number.isFinite);
  const [lo, hi] = yDomain(values, chart.clamp);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  // Epochs sit in the middle of equal slots, so one epoch is a point in the middle, not on the axis.
  const px = (epoch: number): number => MARGIN.left + ((epoch + 0.5) / chart.epochs) * plotW;
  const py = (v: number): number => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;

  for (const tick of ticks(lo, hi)) {
    const y = py(tick);
    svg.append(svgElement('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: 'chart-grid' }));
    svg.append(svgElement('text', { x: MARGIN.left - 6, y: y + 4, class: 'chart-tick', 'text-anchor': 'end' }, format(tick)));
  }
  const step = Math.ceil(chart.epochs / 10);
  for (let e = 0; e < chart.epochs; e += step) {
    svg.append(svgElement('text', { x: px(e), y: HEIGHT - MARGIN.bottom + 16, class: 'chart-tick', 'text-anchor': 'middle' }, String(e + 1)));
  }
  svg.append(svgElement('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, class: 'chart-tick', 'text-anchor': 'middle' }, 'epoch'));
  svg.append(
    svgElement('rect', { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, class: 'chart-frame' }),
  );

  for (const s of chart.series) {
    const points = s.values.map((v, e) => [px(e), py(v)] as const).filter(([, y]) => Number.isFinite(y));
    if (points.length > 1) {
      const d = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
      svg.append(svgElement('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2 }));
    }
    s.values.forEach((v, e) => {
      if (!Number.isFinite(v)) return;
      const dot = svgElement('circle', { cx: px(e), cy: py(v), r: 3.5, fill: s.color });
      dot.append(svgElement('title', {}, `${s.name}, epoch ${e + 1}: ${v.toFixed(4)}`));
      svg.append(dot);
    });
  }
  svg.setAttribute(
    'aria-label',
    `${chart.title}. ` + chart.series.map((s) => `${s.name}: ${s.values.map((v) => v.toFixed(4)).join(', ') || 'no epochs yet'}`).join('. '),
  );
}

/** A range with some room around the points, so a flat curve is not drawn on the frame. */
function yDomain(values: readonly number[], clamp: readonly [number, number] | undefined): [number, number] {
  if (values.length === 0) return clamp === undefined ? [0, 1] : [clamp[0], clamp[1]];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = Math.max((hi - lo) * 0.15, Math.abs(hi) * 0.02, 1e-3);
  lo -= pad;
  hi += pad;
  if (clamp !== undefined) {
    lo = Math.max(clamp[0], lo);
    hi = Math.min(clamp[1], hi);
  }
  return [lo, hi];
}

/** Round steps of 1, 2 or 5 times a power of ten, about five of them. */
function ticks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function format(v: number): string {
  return Number(v.toPrecision(3)).toString();
}
