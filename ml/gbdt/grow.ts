/**
 * Growing one regression tree on binned data from per-row gradients and hessians, as LightGBM's
 * serial tree learner does: per-leaf gradient/hessian histograms (the smaller child's built from
 * its rows, the larger's by subtracting it from the parent's), split search over bin boundaries
 * with L1/L2-regularised gains and LightGBM's rules (counts estimated from hessians, a feature
 * that could not split a node is not tried below it, NaN tried on either side), then
 * best-first (leaf-wise) or level-by-level (depth-wise) growth.
 *
 * Memory: up to numLeaves histograms of 16 bytes per bin of every column (31 leaves x 20
 * columns x 255 bins: 2.5 MB), kept between trees; the bins twice (column- and row-major).
 */
import { binCount, type ColumnBins } from './bins.ts';
import { K_EPSILON } from './objective.ts';
import type { GbdtParams } from './params.ts';
import type { Tree } from './tree.ts';

/** The training matrix in bins, column-major. */
export interface BinnedData {
  nRows: number;
  columns: ColumnBins[];
  bins: Uint8Array | Uint16Array;
}

/** Rows a tree learns from: indices into the training rows, ascending. */
export interface RowSet {
  rows: Int32Array;
  count: number;
  /** rows is 0..nRows-1 (no bagging): histograms can read columns in order. */
  all: boolean;
}

const thresholdL1 = (s: number, l1: number): number => (s > 0 ? Math.max(0, s - l1) : s < 0 ? -Math.max(0, -s - l1) : 0);

export class TreeGrower {
  private readonly nColumns: number;
  private readonly numBins: Int32Array;
  /** First histogram slot of each column. */
  private readonly offset: Int32Array;
  private readonly hasNanBin: Uint8Array;
  private readonly histLength: number;
  private readonly columnBins: Array<Uint8Array | Uint16Array>;
  /** The bins again, row-major, for building a leaf's histogram from its scattered rows. */
  private readonly rowBins: Uint8Array | Uint16Array;
  /** Scratch: the columns a histogram is built for, and their first histogram slot. */
  private readonly features: Int32Array;
  private readonly featureSlot: Int32Array;
  private readonly maxLeaves: number;

  // Per tree: rows of each leaf are rows[leafStart, leafStart + leafCount) of `order`.
  private readonly order: Int32Array;
  private readonly spill: Int32Array;
  private readonly orderedGrad: Float64Array;
  private readonly orderedHess: Float64Array;
  private readonly leafStart: Int32Array;
  private readonly leafCount: Int32Array;
  private readonly leafDepth: Int32Array;
  private readonly leafNode: Int32Array;
  private readonly leafSumG: Float64Array;
  private readonly leafSumH: Float64Array;
  private readonly leafOutput: Float64Array;
  private readonly leafHist: Array<Float64Array | undefined>;
  private readonly freeHists: Float64Array[] = [];
  /** splittable[leaf * nColumns + f]: f found a valid split at the leaf (LightGBM's is_splittable). */
  private readonly splittable: Uint8Array;
  // The best split of each leaf.
  private readonly bestGain: Float64Array;
  private readonly bestFeature: Int32Array;
  private readonly bestBin: Int32Array;
  private readonly bestMissingLeft: Uint8Array;
  private readonly bestLeftG: Float64Array;
  private readonly bestLeftH: Float64Array;
  private readonly bestRightG: Float64Array;
  private readonly bestRightH: Float64Array;
  private readonly bestLeftOut: Float64Array;
  private readonly bestRightOut: Float64Array;

  private grad!: Float32Array;
  private hess!: Float32Array;
  private nLeaves = 0;
  private nNodes = 0;
  private tree!: Tree;

  constructor(
    private readonly data: BinnedData,
    private readonly params: GbdtParams,
  ) {
    const { nRows, columns } = data;
    this.nColumns = columns.length;
    this.numBins = Int32Array.from(columns, binCount);
    this.hasNanBin = Uint8Array.from(columns, (c) => (c.nanBin ? 1 : 0));
    this.offset = new Int32Array(this.nColumns);
    let total = 0;
    for (let f = 0; f < this.nColumns; f++) {
      this.offset[f] = total;
      total += this.numBins[f];
    }
    this.histLength = 2 * total;
    this.columnBins = columns.map((_, f) => data.bins.subarray(f * nRows, (f + 1) * nRows));
    this.rowBins = data.bins instanceof Uint8Array ? new Uint8Array(data.bins.length) : new Uint16Array(data.bins.length);
    for (let f = 0; f < this.nColumns; f++) {
      const col = this.columnBins[f];
      for (let r = 0; r < nRows; r++) this.rowBins[r * this.nColumns + f] = col[r];
    }
    this.features = new Int32Array(this.nColumns);
    this.featureSlot = new Int32Array(this.nColumns);
    this.maxLeaves = params.growth === 'depthwise' ? Math.min(params.numLeaves, 2 ** params.maxDepth) : params.numLeaves;
    const L = this.maxLeaves;
    this.order = new Int32Array(nRows);
    this.spill = new Int32Array(nRows);
    this.orderedGrad = new Float64Array(nRows);
    this.orderedHess = new Float64Array(nRows);
    this.leafStart = new Int32Array(L);
    this.leafCount = new Int32Array(L);
    this.leafDepth = new Int32Array(L);
    this.leafNode = new Int32Array(L);
    this.leafSumG = new Float64Array(L);
    this.leafSumH = new Float64Array(L);
    this.leafOutput = new Float64Array(L);
    this.leafHist = new Array<Float64Array | undefined>(L).fill(undefined);
    this.splittable = new Uint8Array(L * this.nColumns);
    this.bestGain = new Float64Array(L);
    this.bestFeature = new Int32Array(L);
    this.bestBin = new Int32Array(L);
    this.bestMissingLeft = new Uint8Array(L);
    this.bestLeftG = new Float64Array(L);
    this.bestLeftH = new Float64Array(L);
    this.bestRightG = new Float64Array(L);
    this.bestRightH = new Float64Array(L);
    this.bestLeftOut = new Float64Array(L);
    this.bestRightOut = new Float64Array(L);
  }

  /** One tree (leaf values with the learning rate applied) over `rowSet`, splitting only columns with usable[f] = 1. */
  grow(grad: Float32Array, hess: Float32Array, rowSet: RowSet, usable: Uint8Array): Tree {
    this.grad = grad;
    this.hess = hess;
    this.order.set(rowSet.rows.subarray(0, rowSet.count));
    const maxNodes = 2 * this.maxLeaves - 1;
    this.tree = {
      feature: new Int32Array(maxNodes).fill(-1),
      threshold: new Float64Array(maxNodes),
      missingLeft: new Uint8Array(maxNodes),
      left: new Int32Array(maxNodes).fill(-1),
      right: new Int32Array(maxNodes).fill(-1),
      value: new Float64Array(maxNodes),
      cover: new Float64Array(maxNodes),
      gain: new Float64Array(maxNodes),
    };
    for (let leaf = 0; leaf < this.nLeaves; leaf++) this.release(leaf);
    this.nLeaves = 1;
    this.nNodes = 1;
    let sumG = 0;
    let sumH = 0;
    for (let i = 0; i < rowSet.count; i++) {
      const r = rowSet.rows[i];
      sumG += grad[r];
      sumH += hess[r];
    }
    this.setLeaf(0, 0, 0, rowSet.count, 0, 0, sumG, sumH);
    for (let f = 0; f < this.nColumns; f++) this.splittable[f] = usable[f] && this.numBins[f] > 1 ? 1 : 0;
    this.bestGain[0] = -Infinity;
    if (this.mayGrowBelow(0, 0)) {
      const hist = this.takeHist();
      this.buildHistogram(hist, 0, rowSet.all);
      this.leafHist[0] = hist;
      this.search(0);
    }
    if (this.params.growth === 'leafwise') this.growLeafwise();
    else this.growDepthwise();

    const { learningRate } = this.params;
    for (let leaf = 0; leaf < this.nLeaves; leaf++)
      this.tree.value[this.leafNode[leaf]] = this.nLeaves > 1 ? this.leafOutput[leaf] * learningRate : 0;
    return trimTree(this.tree, this.nNodes);
  }

  private growLeafwise(): void {
    while (this.nLeaves < this.maxLeaves) {
      let best = 0;
      for (let leaf = 1; leaf < this.nLeaves; leaf++) {
        const g = this.bestGain[leaf];
        const b = this.bestGain[best];
        if (g > b || (g === b && this.bestFeature[leaf] < this.bestFeature[best])) best = leaf;
      }
      if (!(this.bestGain[best] > 0)) return;
      this.split(best);
    }
  }

  private growDepthwise(): void {
    let level = [0];
    for (let depth = 0; depth < this.params.maxDepth && level.length > 0; depth++) {
      const candidates = level.filter((leaf) => this.bestGain[leaf] > 0);
      candidates.sort((a, b) => this.bestGain[b] - this.bestGain[a] || a - b);
      const next: number[] = [];
      for (const leaf of candidates) {
        if (this.nLeaves >= this.maxLeaves) return;
        next.push(leaf, this.split(leaf));
      }
      level = next;
    }
  }

  /** Whether children of a split at this depth could still be split (LightGBM's BeforeFindBestSplit). */
  private mayGrowBelow(depth: number, leavesAfter: number): boolean {
    const { maxDepth } = this.params;
    return (maxDepth <= 0 || depth < maxDepth) && leavesAfter < this.maxLeaves;
  }

  private setLeaf(
    leaf: number,
    node: number,
    start: number,
    count: number,
    depth: number,
    output: number,
    sumG: number,
    sumH: number,
  ): void {
    this.leafNode[leaf] = node;
    this.leafStart[leaf] = start;
    this.leafCount[leaf] = count;
    this.leafDepth[leaf] = depth;
    this.leafOutput[leaf] = output;
    this.leafSumG[leaf] = sumG;
    this.leafSumH[leaf] = sumH;
    this.tree.cover[node] = count;
  }

  /** Splits a leaf by its best split; the left child keeps its index, the right one is returned. */
  private split(leaf: number): number {
    const f = this.bestFeature[leaf];
    const bin = this.bestBin[leaf];
    const col = this.columnBins[f];
    const nanBin = this.hasNanBin[f] ? this.numBins[f] - 1 : -1;
    const missingLeft = this.bestMissingLeft[leaf] === 1;
    const start = this.leafStart[leaf];
    const end = start + this.leafCount[leaf];
    const order = this.order;
    let nLeft = start;
    let nRight = 0;
    for (let i = start; i < end; i++) {
      const r = order[i];
      const b = col[r];
      if (b === nanBin ? missingLeft : b <= bin) order[nLeft++] = r;
      else this.spill[nRight++] = r;
    }
    order.set(this.spill.subarray(0, nRight), nLeft);
    const leftCount = nLeft - start;

    const tree = this.tree;
    const node = this.leafNode[leaf];
    const leftNode = this.nNodes++;
    const rightNode = this.nNodes++;
    const threshold = this.data.columns[f].upper[bin];
    tree.feature[node] = f;
    tree.threshold[node] = threshold;
    // A column without NaN in training reads NaN as 0, so NaN goes where 0 goes.
    tree.missingLeft[node] = nanBin >= 0 ? (missingLeft ? 1 : 0) : 0 <= threshold ? 1 : 0;
    tree.left[node] = leftNode;
    tree.right[node] = rightNode;
    // LightGBM reports the loss reduction itself, min_gain_to_split not taken off.
    tree.gain[node] = this.bestGain[leaf] + this.params.minGainToSplit;

    const right = this.nLeaves++;
    const depth = this.leafDepth[leaf] + 1;
    const parentHist = this.leafHist[leaf];
    this.leafHist[leaf] = undefined;
    this.setLeaf(leaf, leftNode, start, leftCount, depth, this.bestLeftOut[leaf], this.bestLeftG[leaf], this.bestLeftH[leaf]);
    this.setLeaf(right, rightNode, nLeft, nRight, depth, this.bestRightOut[leaf], this.bestRightG[leaf], this.bestRightH[leaf]);
    this.bestGain[leaf] = -Infinity;
    this.bestGain[right] = -Infinity;
    const minData2 = 2 * this.params.minDataInLeaf;
    if (!parentHist) throw new Error('gbdt: a split leaf has no histogram');
    if (!this.mayGrowBelow(depth, this.nLeaves) || (leftCount < minData2 && nRight < minData2)) {
      this.freeHists.push(parentHist);
      return right;
    }
    // Both children may only try the columns the parent could split on.
    const nc = this.nColumns;
    this.splittable.copyWithin(right * nc, leaf * nc, leaf * nc + nc);
    const smaller = leftCount < nRight ? leaf : right;
    const larger = smaller === leaf ? right : leaf;
    const small = this.takeHist();
    this.buildHistogram(small, smaller, false);
    this.subtract(parentHist, small, leaf);
    this.leafHist[smaller] = small;
    this.leafHist[larger] = parentHist;
    this.search(smaller);
    this.search(larger);
    return right;
  }

  private takeHist(): Float64Array {
    return this.freeHists.pop() ?? new Float64Array(this.histLength);
  }

  private release(leaf: number): void {
    const hist = this.leafHist[leaf];
    if (hist) this.freeHists.push(hist);
    this.leafHist[leaf] = undefined;
  }

  private buildHistogram(hist: Float64Array, leaf: number, inOrder: boolean): void {
    const start = this.leafStart[leaf];
    const count = this.leafCount[leaf];
    const rows = this.order.subarray(start, start + count);
    const og = this.orderedGrad;
    const oh = this.orderedHess;
    const grad = this.grad;
    const hess = this.hess;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      og[i] = grad[r];
      oh[i] = hess[r];
    }
    const usable = this.splittable;
    const base = leaf * this.nColumns;
    const features = this.features;
    let nFeatures = 0;
    for (let f = 0; f < this.nColumns; f++) {
      if (!usable[base + f]) continue;
      const o = 2 * this.offset[f];
      hist.fill(0, o, o + 2 * this.numBins[f]);
      features[nFeatures] = f;
      this.featureSlot[nFeatures++] = o;
    }
    if (inOrder) {
      // All rows in order: read each column straight through.
      for (let k = 0; k < nFeatures; k++) {
        const col = this.columnBins[features[k]];
        const o = this.featureSlot[k];
        for (let i = 0; i < count; i++) {
          const j = o + 2 * col[i];
          hist[j] += og[i];
          hist[j + 1] += oh[i];
        }
      }
      return;
    }
    // A leaf's rows, scattered: one row's bins sit together in the row-major copy. Each bin still
    // adds its rows in the same order, so the sums are the same as column by column.
    const rowBins = this.rowBins;
    const slots = this.featureSlot;
    const nc = this.nColumns;
    for (let i = 0; i < count; i++) {
      const at = rows[i] * nc;
      const g = og[i];
      const h = oh[i];
      for (let k = 0; k < nFeatures; k++) {
        const j = slots[k] + 2 * rowBins[at + features[k]];
        hist[j] += g;
        hist[j + 1] += h;
      }
    }
  }

  private subtract(parent: Float64Array, child: Float64Array, leaf: number): void {
    const usable = this.splittable;
    const base = leaf * this.nColumns;
    for (let f = 0; f < this.nColumns; f++) {
      if (!usable[base + f]) continue;
      const end = 2 * (this.offset[f] + this.numBins[f]);
      for (let j = 2 * this.offset[f]; j < end; j++) parent[j] -= child[j];
    }
  }

  /** The best split of a leaf over the columns still splittable there (LightGBM's FindBestThreshold). */
  private search(leaf: number): void {
    const hist = this.leafHist[leaf]!;
    const { minDataInLeaf: minData, minSumHessianInLeaf: minHess, lambdaL1: l1, lambdaL2: l2, minGainToSplit } = this.params;
    // Without L1, the same value without the soft threshold's branches.
    const leafGain =
      l1 > 0
        ? (g: number, h: number): number => {
            const s = thresholdL1(g, l1);
            return (s * s) / (h + l2);
          }
        : (g: number, h: number): number => (g * g) / (h + l2);
    const sumG = this.leafSumG[leaf];
    const sumH = this.leafSumH[leaf] + 2 * K_EPSILON;
    const num = this.leafCount[leaf];
    const minShift = leafGain(sumG, sumH) + minGainToSplit;
    const cntFactor = num / sumH;
    const usable = this.splittable;
    const base = leaf * this.nColumns;
    let bestGain = -Infinity;
    for (let f = 0; f < this.nColumns; f++) {
      if (!usable[base + f]) continue;
      const o = 2 * this.offset[f];
      const nb = this.numBins[f];
      const nanAside = this.hasNanBin[f] === 1 && nb > 2 ? 1 : 0;
      let splittable = false;
      // Right to left: the right side gathers bins from the top; NaN (if set aside) stays left.
      let fGain = -Infinity;
      let fBin = -1;
      let fLeftG = 0;
      let fLeftH = 0;
      let fMissingLeft = 1;
      let rG = 0;
      let rH = K_EPSILON;
      let rC = 0;
      for (let b = nb - 1 - nanAside; b >= 1; b--) {
        const hh = hist[o + 2 * b + 1];
        rG += hist[o + 2 * b];
        rH += hh;
        rC += Math.trunc(hh * cntFactor + 0.5);
        if (rC < minData || rH < minHess) continue;
        if (num - rC < minData) break;
        const lH = sumH - rH;
        if (lH < minHess) break;
        const lG = sumG - rG;
        const gain = leafGain(lG, lH) + leafGain(rG, rH);
        if (gain <= minShift) continue;
        splittable = true;
        if (gain > fGain) {
          fGain = gain;
          fBin = b - 1;
          fLeftG = lG;
          fLeftH = lH;
        }
      }
      // A column with NaN and too few bins to set it aside sends NaN right (it sits in the top bin).
      if (this.hasNanBin[f] === 1 && !nanAside) fMissingLeft = 0;
      let shifted = fBin >= 0 ? fGain - minShift : -Infinity;
      if (nanAside) {
        // Left to right, NaN kept aside on the right.
        let lG = 0;
        let lH = K_EPSILON;
        let lC = 0;
        let wGain = -Infinity;
        let wBin = -1;
        let wLeftG = 0;
        let wLeftH = 0;
        for (let b = 0; b <= nb - 2; b++) {
          const hh = hist[o + 2 * b + 1];
          lG += hist[o + 2 * b];
          lH += hh;
          lC += Math.trunc(hh * cntFactor + 0.5);
          if (lC < minData || lH < minHess) continue;
          if (num - lC < minData) break;
          const rHs = sumH - lH;
          if (rHs < minHess) break;
          const gain = leafGain(lG, lH) + leafGain(sumG - lG, rHs);
          if (gain <= minShift) continue;
          splittable = true;
          if (gain > wGain) {
            wGain = gain;
            wBin = b;
            wLeftG = lG;
            wLeftH = lH;
          }
        }
        // LightGBM compares against the stored (shifted) gain plus the shift.
        if (wBin >= 0 && wGain > shifted + minShift) {
          fBin = wBin;
          fLeftG = wLeftG;
          fLeftH = wLeftH;
          fMissingLeft = 0;
          shifted = wGain - minShift;
        }
      }
      usable[base + f] = splittable ? 1 : 0;
      if (fBin < 0 || !(shifted > bestGain)) continue;
      bestGain = shifted;
      this.bestFeature[leaf] = f;
      this.bestBin[leaf] = fBin;
      this.bestMissingLeft[leaf] = fMissingLeft;
      this.bestLeftOut[leaf] = -thresholdL1(fLeftG, l1) / (fLeftH + l2);
      this.bestRightOut[leaf] = -thresholdL1(sumG - fLeftG, l1) / (sumH - fLeftH + l2);
      this.bestLeftG[leaf] = fLeftG;
      this.bestLeftH[leaf] = fLeftH - K_EPSILON;
      this.bestRightG[leaf] = sumG - fLeftG;
      this.bestRightH[leaf] = sumH - fLeftH - K_EPSILON;
    }
    this.bestGain[leaf] = bestGain;
  }
}

function trimTree(t: Tree, n: number): Tree {
  return {
    feature: t.feature.slice(0, n),
    threshold: t.threshold.slice(0, n),
    missingLeft: t.missingLeft.slice(0, n),
    left: t.left.slice(0, n),
    right: t.right.slice(0, n),
    value: t.value.slice(0, n),
    cover: t.cover.slice(0, n),
    gain: t.gain.slice(0, n),
  };
}
