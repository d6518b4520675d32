import { randomFillSync } from 'node:crypto';
import { encode } from 'jpeg-js';
import { UsageError } from './args';

/** Image shape as the old client took it: `height,width` (grey) or `height,width,3` (RGB). */
export interface Shape {
  height: number;
  width: number;
  channels: 1 | 3;
}

export function parseShape(raw: string): Shape {
  const parts = raw.replace(/[[\]\s]/g, '').split(',');
  const nums = parts.map(Number);
  const ok = (parts.length === 2 || parts.length === 3) && nums.every((n) => Number.isInteger(n) && n > 0);
  if (!ok || nums[0] > 8192 || nums[1] > 8192 || (parts.length === 3 && nums[2] !== 3 && nums[2] !== 1)) {
    throw new UsageError(
      `--shape must be HEIGHT,WIDTH or HEIGHT,WIDTH,3 (each up to 8192), got ${JSON.stringify(raw)}`,
    );
  }
  return { height: nums[0], width: nums[1], channels: parts.length === 3 && nums[2] === 3 ? 3 : 1 };
}

/** One JPEG of random noise (grey noise has R = G = B). */
export function noiseJpeg(shape: Shape, quality: number): Buffer {
  const { width, height, channels } = shape;
  const rgba = Buffer.alloc(width * height * 4);
  const noise = randomFillSync(Buffer.alloc(width * height * channels));
  const g = channels === 3 ? 1 : 0;
  const b = channels === 3 ? 2 : 0;
  for (let p = 0, n = 0; p < rgba.length; p += 4, n += channels) {
    rgba[p] = noise[n];
    rgba[p + 1] = noise[n + g];
    rgba[p + 2] = noise[n + b];
    rgba[p + 3] = 255;
  }
  return encode({ data: rgba, width, height }, quality).data;
}

/** Width and height from a JPEG's start-of-frame marker, or null when there is none. */
export function jpegSize(data: Uint8Array): { width: number; height: number } | null {
  if (data[0] !== 0xff || data[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < data.length) {
    if (data[i] !== 0xff) return null;
    const marker = data[i + 1];
    const length = (data[i + 2] << 8) | data[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (data[i + 5] << 8) | data[i + 6], width: (data[i + 7] << 8) | data[i + 8] };
    }
    i += 2 + length;
  }
  return null;
}
