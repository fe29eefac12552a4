/** Counts `[true class][predicted class]`, row-major `classes x classes`. */
export function confusionMatrix(probabilities: Float32Array, labels: Int32Array, classes: number): Int32Array {
  const counts = new Int32Array(classes * classes);
  labels.forEach((label, row) => {
    counts[label * classes + argmax(probabilities, row * classes, classes)]!++;
  });
  return counts;
}

/** The index, from `offset`, of the largest of `length` values; the first one on a tie. */
export function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}

/**
 * Fills `table` with the counts, each cell shaded by its share of the row, so the errors
 * stand out however many digits of each class the test set holds.
 */
export function renderConfusion(table: HTMLTableElement, counts: Int32Array, classNames: readonly string[]): void {
  const classes = classNames.length;
  const caption = document.createElement('caption');
  caption.textContent = 'Rows: true digit. Columns: predicted digit.';
  caption.className = 'visually-hidden';
  const head = document.createElement('tr');
  head.append(cell('th', 'true ↓ pred. →', 'col'));
  for (const name of classNames) head.append(cell('th', name, 'col'));
  const rows = classNames.map((name, t) => {
    const tr = document.createElement('tr');
    tr.append(cell('th', name, 'row'));
    const total = counts.subarray(t * classes, (t + 1) * classes).reduce((a, b) => a + b, 0);
    for (let p = 0; p < classes; p++) {
      const n = counts[t * classes + p]!;
      const td = cell('td', String(n));
      const share = total === 0 ? 0 : n / total;
      // Right answers in green, wrong ones in red, both by how much of the row they take.
      td.style.backgroundColor = t === p ? `rgba(22, 163, 74, ${share})` : `rgba(220, 38, 38, ${Math.min(1, share * 4)})`;
      if (share > 0.5) td.classList.add('strong');
      td.dataset['true'] = String(t);
      td.dataset['predicted'] = String(p);
      td.title = `${n} test images of a ${name} predicted as ${classNames[p]}`;
      tr.append(td);
    }
    return tr;
  });
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  tbody.append(...rows);
  table.replaceChildren(caption, thead, tbody);
}

function cell(kind: 'th' | 'td', text: string, scope?: 'row' | 'col'): HTMLTableCellElement {
  const c = document.createElement(kind);
  c.textContent = text;
  if (scope !== undefined) c.scope = scope;
  return c;
}
