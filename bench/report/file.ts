// A report as a whole: assembled from environments, read back from JSON (another run's report,
// or the benchmark page's download, which has the same shape), merged, and saved as Markdown,
// JSON and SVG side by side.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { arch, cpus, release, type } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from '../cases.js';
import type { Settings } from '../measure.js';
import type { BenchReport, EnvironmentName, EnvironmentResult } from '../results.js';
import { renderMarkdown } from './markdown.js';
import { renderSvg } from './svg.js';

export function assembleReport(parts: {
  readonly command: string;
  readonly settings: Settings;
  readonly cases: readonly BenchCase[];
  readonly environments: readonly EnvironmentResult[];
  readonly missing: readonly { readonly environment: EnvironmentName; readonly error: string }[];
  readonly seconds: number;
}): BenchReport {
  return {
    format: 'webgpu-softmax/bench',
    version: 1,
    date: new Date().toISOString(),
    mode: parts.settings.mode,
    host: { os: `${type()} ${release()} ${arch()}`, cpu: cpus()[0]?.model.trim() ?? 'unknown CPU', cores: cpus().length },
    ...parts,
  };
}

/** A report written by `npm run bench`, the bin's `bench` or the benchmark page; an Error naming the file otherwise. */
export async function readReport(path: string): Promise<BenchReport> {
  let doc: Partial<BenchReport>;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as Partial<BenchReport>;
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (doc.format !== 'webgpu-softmax/bench' || doc.version !== 1 || !Array.isArray(doc.environments) || !Array.isArray(doc.cases)) {
    throw new Error(`${path}: not a webgpu-softmax benchmark report (format 'webgpu-softmax/bench', version 1)`);
  }
  return doc as BenchReport;
}

/** `report` with the environments (and any cases it lacks) of `added` runs after its own. */
export function mergeReports(report: BenchReport, added: readonly BenchReport[]): BenchReport {
  const cases = [...report.cases];
  for (const c of added.flatMap((r) => r.cases)) if (!cases.some((k) => k.id === c.id)) cases.push(c);
  return { ...report, cases, environments: [...report.environments, ...added.flatMap((r) => r.environments)] };
}

/** Writes `<stem>.md`, `.json` and `.svg` into `dir`; returns the Markdown and the three paths. */
export async function saveReport(report: BenchReport, dir: string): Promise<{ markdown: string; paths: string[] }> {
  const stem = join(dir, `${report.date.slice(0, 19).replace(/:/g, '-')}-${report.mode}`);
  const markdown = renderMarkdown(report);
  await mkdir(dir, { recursive: true });
  const paths = [`${stem}.md`, `${stem}.json`, `${stem}.svg`];
  await Promise.all([writeFile(paths[0]!, markdown), writeFile(paths[1]!, `${JSON.stringify(report, null, 2)}\n`), writeFile(paths[2]!, renderSvg(report))]);
  return { markdown, paths };
}
