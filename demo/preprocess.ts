/** MNIST's side, and the box its digits were scaled into before being centred. */
export const SIDE = 28;
const BOX = 20;

/** Grey levels in [0, 1], row-major; the shape of `ImageData` reduced to one channel. */
export interface Gray {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** One channel of an RGBA image: the strokes are white on black, so red alone is the ink. */
export function toGray(image: { readonly width: number; readonly height: number; readonly data: Uint8ClampedArray }): Gray {
  const data = new Float32Array(image.width * image.height);
  for (let i = 0; i < data.length; i++) data[i] = image.data[i * 4]! / 255;
  return { width: image.width, height: image.height, data };
}

/**
 * A drawing in MNIST's format, as the original data was made: the ink's bounding box scaled
 * into 20x20 keeping its aspect ratio, then placed in 28x28 so that its centre of mass is the
 * image's centre. Null when there is no ink.
 */
export function toMnist(image: Gray): Float32Array | null {
  const box = inkBox(image);
  if (box === null) return null;
  const scale = BOX / Math.max(box.width, box.height);
  const width = Math.max(1, Math.round(box.width * scale));
  const height = Math.max(1, Math.round(box.height * scale));
  const patch = areaResample(image, box, width, height);
  return centre(patch, width, height);
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function inkBox({ width, height, data }: Gray): Box | null {
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! === 0) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  return right < 0 ? null : { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/**
 * Averages every source pixel into the target pixel it falls in. A 10x reduction by plain
 * sampling would keep or drop whole strokes at random; averaging keeps the soft edges
 * MNIST's anti-aliased digits have.
 */
function areaResample(image: Gray, box: Box, width: number, height: number): Float32Array {
  const sums = new Float32Array(width * height);
  const counts = new Float32Array(width * height);
  for (let y = 0; y < box.height; y++) {
    const ty = Math.min(height - 1, Math.floor((y * height) / box.height));
    for (let x = 0; x < box.width; x++) {
      const tx = Math.min(width - 1, Math.floor((x * width) / box.width));
      sums[ty * width + tx]! += image.data[(box.y + y) * image.width + box.x + x]!;
      counts[ty * width + tx]!++;
    }
  }
  return sums.map((s, i) => (counts[i]! > 0 ? s / counts[i]! : 0));
}

/** Places the patch in a 28x28 image, shifted by whole pixels so its centre of mass lands nearest the centre. */
function centre(patch: Float32Array, width: number, height: number): Float32Array {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = patch[y * width + x]!;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const dx = Math.round(SIDE / 2 - mx / mass);
  const dy = Math.round(SIDE / 2 - my / mass);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ox = x + dx;
      const oy = y + dy;
      // A lopsided digit can push part of its box off the image; MNIST crops it too.
      if (ox < 0 || oy < 0 || ox >= SIDE || oy >= SIDE) continue;
      out[oy * SIDE + ox] = Math.min(1, Math.max(0, patch[y * width + x]!));
    }
  }
  return out;
}
