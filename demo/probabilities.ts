import { argmax } from './confusion.js';

/**
 * One bar per class, longest for the most likely. Each item keeps its exact probability in
 * `data-probability`, so tests and screen readers need not parse the rounded text.
 * With `null`, the list empties.
 */
export function renderProbabilities(list: HTMLOListElement, probabilities: Float32Array | null, classNames: readonly string[]): void {
  if (probabilities === null) {
    list.replaceChildren();
    delete list.dataset['predicted'];
    return;
  }
  const best = argmax(probabilities, 0, classNames.length);
  list.dataset['predicted'] = String(best);
  list.replaceChildren(
    ...classNames.map((name, c) => {
      const p = probabilities[c]!;
      const item = document.createElement('li');
      item.className = c === best ? 'best' : '';
      item.dataset['digit'] = name;
      item.dataset['probability'] = String(p);
      item.setAttribute('aria-label', `${name}: ${(100 * p).toFixed(1)}%`);
      const label = document.createElement('span');
      label.className = 'digit';
      label.textContent = name;
      const track = document.createElement('span');
      track.className = 'track';
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(100 * p).toFixed(2)}%`;
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = p.toFixed(3);
      item.append(label, track, value);
      return item;
    }),
  );
}
