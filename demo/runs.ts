/** One training run, as the timing table shows it. */
export interface Run {
  /** Counts from 1 over the page's life, so a column keeps its name when older ones drop out. */
  readonly id: number;
  /** 'WebGPU' or 'CPU', with the adapter where it matters. */
  readonly backend: string;
  readonly software: boolean;
  readonly settings: string;
  /** Where it trained: 'worker' or 'page'. */
  readonly thread: string;
  /** Seconds of each epoch done so far. */
  readonly seconds: number[];
  testAccuracy: number | null;
  /** The longest time between two of the page's frames while it trained, in milliseconds. */
  longestFrameGapMs: number | null;
  /** The backend that ran it, as its context reports once it is done ('webgpu' or 'cpu'). */
  ran: string | null;
}

/** Runs older than this drop out of the table, so it stays readable. */
const KEEP = 6;

/**
 * The table of runs: one column per run, one row per epoch, so a WebGPU run and a CPU run
 * with the same settings read side by side.
 */
export class RunTable {
  readonly #table: HTMLTableElement;
  readonly #runs: Run[] = [];

  constructor(table: HTMLTableElement) {
    this.#table = table;
    this.render();
  }

  /** Adds a run; its `seconds` fill in as the caller pushes to them and calls `render`. */
  add(run: Run): void {
    this.#runs.push(run);
    if (this.#runs.length > KEEP) this.#runs.shift();
    this.render();
  }

  render(): void {
    const table = this.#table;
    if (this.#runs.length === 0) {
      const row = document.createElement('tr');
      const td = document.createElement('td');
      td.textContent = 'No runs yet.';
      row.append(td);
      table.replaceChildren(row);
      return;
    }
    const count = this.#runs.length;
    const head = row([header('epoch', 'col'), ...this.#runs.map((r, i) => runHeader(r, i, count))]);
    const epochs = Math.max(...this.#runs.map((r) => r.seconds.length));
    const body = Array.from({ length: epochs }, (_, e) =>
      row([header(String(e + 1), 'row'), ...this.#runs.map((r) => data(r.seconds[e]?.toFixed(3) ?? ''))]),
    );
    body.push(row([header('median', 'row'), ...this.#runs.map((r) => data(r.seconds.length === 0 ? '' : median(r.seconds).toFixed(3)))]));
    body.push(row([header('test accuracy', 'row'), ...this.#runs.map((r) => data(r.testAccuracy?.toFixed(4) ?? ''))]));
    body.push(row([header('longest frame gap (ms)', 'row'), ...this.#runs.map(frameGapCell)]));
    const thead = document.createElement('thead');
    thead.append(head);
    const tbody = document.createElement('tbody');
    tbody.append(...body);
    table.replaceChildren(thead, tbody);
  }
}

function frameGapCell(run: Run): HTMLTableCellElement {
  const td = data(run.longestFrameGapMs?.toFixed(0) ?? '');
  if (run.longestFrameGapMs !== null) td.dataset['frameGap'] = String(run.longestFrameGapMs);
  return td;
}

function runHeader(run: Run, index: number, count: number): HTMLTableCellElement {
  const th = header(`#${run.id} ${run.backend}`, 'col');
  th.dataset['backend'] = run.backend;
  th.dataset['thread'] = run.thread;
  if (run.ran !== null) th.dataset['ran'] = run.ran;
  const detail = document.createElement('small');
  detail.textContent = `${run.settings}, ${run.thread === 'worker' ? 'in a worker' : 'on the main thread'}` + (run.software ? ' (software adapter)' : '');
  th.append(document.createElement('br'), detail);
  // The newest run is the one being drawn on and charted.
  if (index === count - 1) th.classList.add('latest');
  return th;
}

function row(cells: readonly HTMLTableCellElement[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

function header(text: string, scope: 'row' | 'col'): HTMLTableCellElement {
  const th = document.createElement('th');
  th.scope = scope;
  th.textContent = text;
  return th;
}

function data(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
