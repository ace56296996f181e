/**
 * Writer populations for the MNIST demo: deterministic transforms of a 28x28 digit (row-major
 * intensities in [0, 1]) that a different group of writers would produce. The demo's "new
 * writers" slant their digits, write with a thicker pen and off-centre (`newWriter`).
 */

export const SIDE = 28;

/** The pixel at (x, y), 0 outside the image. */
const at = (img: ArrayLike<number>, x: number, y: number) => (x >= 0 && x < SIDE && y >= 0 && y < SIDE ? img[y * SIDE + x] : 0);

/** Turned by `degrees` (clockwise on screen) about the centre, with bilinear interpolation. */
export function rotate(img: ArrayLike<number>, degrees: number): number[] {
  const t = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(t), Math.sin(t)];
  const c = (SIDE - 1) / 2;
  const out = new Array<number>(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      // Where this output pixel comes from: the inverse rotation.
      const sx = cos * (x - c) + sin * (y - c) + c;
      const sy = -sin * (x - c) + cos * (y - c) + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const [fx, fy] = [sx - x0, sy - y0];
      out[y * SIDE + x] =
        at(img, x0, y0) * (1 - fx) * (1 - fy) +
        at(img, x0 + 1, y0) * fx * (1 - fy) +
        at(img, x0, y0 + 1) * (1 - fx) * fy +
        at(img, x0 + 1, y0 + 1) * fx * fy;
    }
  return out;
}

/** A thicker pen: each pixel the brightest of itself and its four neighbours (a grey dilation). */
export function thicken(img: ArrayLike<number>): number[] {
  const out = new Array<number>(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++)
      out[y * SIDE + x] = Math.max(at(img, x, y), at(img, x - 1, y), at(img, x + 1, y), at(img, x, y - 1), at(img, x, y + 1));
  return out;
}

/** Moved `dx` pixels right and `dy` down; what leaves the image is lost, what enters is blank. */
export function shift(img: ArrayLike<number>, dx: number, dy: number): number[] {
  const out = new Array<number>(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) out[y * SIDE + x] = at(img, x - dx, y - dy);
  return out;
}

/** Three decimals, as the package stores intensities: smaller requests and logs. */
const rounded = (img: number[]) => img.map((v) => Math.round(v * 1000) / 1000);

/** The demo's new writers: slanted 20 degrees, a thicker pen, written 2 pixels right and 2 down. */
export function newWriter(img: ArrayLike<number>): number[] {
  return rounded(shift(thicken(rotate(img, 20)), 2, 2));
}
