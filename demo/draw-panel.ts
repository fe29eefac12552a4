import { createSketchpad, type Sketchpad } from './draw.js';
import { SIDE, toGray, toMnist } from './preprocess.js';
import { renderProbabilities } from './probabilities.js';
import type { Trainer } from './types.js';

export interface DrawPanelElements {
  readonly sketch: HTMLCanvasElement;
  readonly clear: HTMLButtonElement;
  readonly preview: HTMLCanvasElement;
  readonly prediction: HTMLElement;
  readonly probabilities: HTMLOListElement;
}

/** The trainer of the latest model, or why there is none yet. */
export type Judge = Pick<Trainer, 'predict'> | { readonly waiting: string };

/**
 * The drawing canvas and the model's answer to it. `judge` is asked at each prediction, so
 * the panel always uses the newest model; errors go to `onError`.
 */
export class DrawPanel {
  readonly #e: DrawPanelElements;
  readonly #judge: () => Judge;
  readonly #onError: (error: unknown) => void;
  readonly #classNames: readonly string[];
  readonly #sketch: Sketchpad;
  #asked = 0;

  constructor(e: DrawPanelElements, classNames: readonly string[], judge: () => Judge, onError: (error: unknown) => void) {
    this.#e = e;
    this.#classNames = classNames;
    this.#judge = judge;
    this.#onError = onError;
    this.#sketch = createSketchpad(e.sketch, () => this.update());
    e.clear.addEventListener('click', () => {
      this.#sketch.clear();
      this.update();
    });
  }

  /** Judges the drawing again, as after a stroke. */
  update(): void {
    this.#predict().catch(this.#onError);
  }

  async #predict(): Promise<void> {
    const e = this.#e;
    const pixels = toMnist(toGray(this.#sketch.pixels()));
    this.#drawPreview(pixels);
    const judge = this.#judge();
    const asked = ++this.#asked;
    if (pixels === null || 'waiting' in judge) {
      renderProbabilities(e.probabilities, null, this.#classNames);
      e.prediction.textContent = 'waiting' in judge ? judge.waiting : 'Draw a digit.';
      return;
    }
    const p = await judge.predict(pixels);
    // Strokes can come faster than reads from the GPU: only the latest drawing's answer is shown.
    if (asked !== this.#asked || p === null) return;
    renderProbabilities(e.probabilities, p, this.#classNames);
    e.prediction.textContent = `Prediction: ${e.probabilities.dataset['predicted']}`;
  }

  /** What the model sees, so a surprising prediction can be traced to the preprocessing. */
  #drawPreview(pixels: Float32Array | null): void {
    const g = this.#e.preview.getContext('2d');
    if (g === null) return;
    const image = g.createImageData(SIDE, SIDE);
    pixels?.forEach((v, i) => image.data.fill(Math.round(255 * v), i * 4, i * 4 + 3));
    for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
    g.putImageData(image, 0, 0);
  }
}
