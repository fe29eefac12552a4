/** A canvas to draw one digit on: thick white strokes on black, from a mouse, a pen or a finger. */
export interface Sketchpad {
  /** The drawing as RGBA pixels at the canvas's own resolution. */
  pixels(): ImageData;
  clear(): void;
}

/** About a tenth of the canvas: scaled to MNIST's 20-pixel box, that is the width of its pen strokes. */
const STROKE_WIDTH = 24;

/** Calls `onStroke` after each stroke, when the pointer lifts, so the prediction follows the drawing. */
export function createSketchpad(canvas: HTMLCanvasElement, onStroke: () => void): Sketchpad {
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) throw new Error('draw: this browser gives no 2D canvas context');
  const g = context;
  // Pointer events cover mouse, pen and touch; without this the page would scroll under a finger.
  canvas.style.touchAction = 'none';

  const clear = (): void => {
    g.fillStyle = '#000';
    g.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();

  /** Canvas pixels, which differ from CSS pixels when the canvas is drawn scaled. */
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };

  let last: [number, number] | null = null;
  // Stroked a segment at a time: stroking the whole path on every move costs more the longer the stroke.
  const segment = (to: [number, number]): void => {
    if (last === null) return;
    g.beginPath();
    g.moveTo(last[0], last[1]);
    g.lineTo(to[0], to[1]);
    g.stroke();
    last = to;
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    g.fillStyle = '#fff';
    g.strokeStyle = '#fff';
    g.lineWidth = STROKE_WIDTH;
    g.lineCap = 'round';
    // A dot of its own, because a stroke drops segments of zero length and a tap would leave nothing.
    g.beginPath();
    g.arc(x, y, STROKE_WIDTH / 2, 0, 2 * Math.PI);
    g.fill();
    last = [x, y];
  });
  canvas.addEventListener('pointermove', (e) => {
    segment(at(e));
  });
  const end = (): void => {
    if (last === null) return;
    last = null;
    onStroke();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  return { pixels: () => g.getImageData(0, 0, canvas.width, canvas.height), clear };
}
