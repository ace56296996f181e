/**
 * Faster gradient kernels for the tfjs 'cpu' backend, which is where the cnn family trains when
 * tfjs-node is absent (the wasm backend has no Conv2D gradient kernels).
 *
 * tfjs-backend-cpu 4.22 computes Conv2DBackpropFilter and MaxPoolGrad with a TensorBuffer.get()
 * call per multiply-add; on the 8x8 digits cnn that was ~80% of each training step
 * (Conv2DBackpropFilter 192 ms of a 272 ms step, batch 32). These replacements do the same sums
 * with flat typed-array indexing (same results up to float summation order; the filter gradient
 * accumulates in float64). Only the channels-last layout that tf.layers uses is replaced; any
 * other call falls through to the original kernel.
 *
 * Installing re-registers the two cpu kernels for this thread's tfjs (kernels are global per
 * isolate); it is idempotent. Other backends are untouched.
 */
import type { Tf } from './backend.ts';

type KernelConfig = import('@tensorflow/tfjs').KernelConfig;
type KernelFunc = import('@tensorflow/tfjs').KernelFunc;
type TensorInfo = import('@tensorflow/tfjs').TensorInfo;

interface CpuBackend {
  data: { get(dataId: unknown): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The kernels replaced, per tfjs module, while installed. */
const originals = new WeakMap<object, KernelConfig[]>();

/** Replaces the cpu backend's Conv2DBackpropFilter and MaxPoolGrad kernels (see the module comment). */
export function installFastCpuKernels(tf: Tf): void {
  if (originals.has(tf)) return;
  const originalConv = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  const originalPool = tf.getKernel('MaxPoolGrad', 'cpu');
  if (!originalConv || !originalPool) return; // no cpu backend registered: nothing to speed up
  originals.set(tf, [originalConv, originalPool]);
  replaceKernel(tf, {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: conv2dBackpropFilter(tf, originalConv.kernelFunc),
  });
  replaceKernel(tf, { kernelName: 'MaxPoolGrad', backendName: 'cpu', kernelFunc: maxPoolGrad(tf, originalPool.kernelFunc) });
}

/** Puts tfjs's own cpu kernels back (for comparisons in tests). */
export function uninstallFastCpuKernels(tf: Tf): void {
  const saved = originals.get(tf);
  if (!saved) return;
  for (const config of saved) replaceKernel(tf, config);
  originals.delete(tf);
}

function replaceKernel(tf: Tf, config: KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

function conv2dBackpropFilter(tf: Tf, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as CpuBackend;
    const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if ((dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const {
      batchSize,
      inHeight,
      inWidth,
      inChannels,
      outHeight,
      outWidth,
      outChannels,
      strideHeight,
      strideWidth,
      filterHeight,
      filterWidth,
    } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xv = backend.data.get(x.dataId).values;
    const dyv = backend.data.get(dy.dataId).values;
    const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        for (let yC = 0; yC < outWidth; yC++) {
          const dyOff = ((b * outHeight + yR) * outWidth + yC) * outChannels;
          for (let wR = 0; wR < filterHeight; wR++) {
            const xR = yR * strideHeight + wR - top;
            if (xR < 0 || xR >= inHeight) continue;
            for (let wC = 0; wC < filterWidth; wC++) {
              const xC = yC * strideWidth + wC - left;
              if (xC < 0 || xC >= inWidth) continue;
              const xOff = ((b * inHeight + xR) * inWidth + xC) * inChannels;
              const wOff = (wR * filterWidth + wC) * inChannels * outChannels;
              for (let ci = 0; ci < inChannels; ci++) {
                const xval = xv[xOff + ci];
                if (xval === 0) continue;
                const row = wOff + ci * outChannels;
                for (let co = 0; co < outChannels; co++) acc[row + co] += xval * dyv[dyOff + co];
              }
            }
          }
        }
      }
    }
    return backend.makeTensorInfo([filterHeight, filterWidth, inChannels, outChannels], 'float32', Float32Array.from(acc));
  };
}

function maxPoolGrad(tf: Tf, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as CpuBackend;
    const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    if (input.dtype !== 'float32') return fallback(args);
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const {
      batchSize,
      inHeight,
      inWidth,
      inChannels,
      outHeight,
      outWidth,
      strideHeight,
      strideWidth,
      effectiveFilterHeight,
      effectiveFilterWidth,
    } = info;
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return fallback(args);
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xv = backend.data.get(input.dataId).values;
    const dyv = backend.data.get(dy.dataId).values;
    const dx = new Float32Array(batchSize * inHeight * inWidth * inChannels);
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        const r0 = yR * strideHeight - top;
        const rMin = Math.max(0, r0);
        const rMax = Math.min(inHeight, r0 + effectiveFilterHeight);
        for (let yC = 0; yC < outWidth; yC++) {
          const c0 = yC * strideWidth - left;
          const cMin = Math.max(0, c0);
          const cMax = Math.min(inWidth, c0 + effectiveFilterWidth);
          const dyOff = ((b * outHeight + yR) * outWidth + yC) * inChannels;
          for (let d = 0; d < inChannels; d++) {
            // The first strict maximum in row-major window order, as tfjs's maxPoolPositions.
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let r = rMin; r < rMax; r++) {
              for (let c = cMin; c < cMax; c++) {
                const i = ((b * inHeight + r) * inWidth + c) * inChannels + d;
                if (xv[i] > best) {
                  best = xv[i];
                  at = i;
                }
              }
            }
            if (at >= 0) dx[at] += dyv[dyOff + d];
          }
        }
      }
    }
    return backend.makeTensorInfo([...input.shape], 'float32', dx);
  };
}
