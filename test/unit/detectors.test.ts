import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ADWIN_DEFAULTS,
  adwinEstimation,
  createDetector,
  DDM_DEFAULTS,
  type DetectorState,
  PAGE_HINKLEY_DEFAULTS,
  updateDetector,
  updateMany,
} from '../../core/drift/detectors.ts';

/*
 * Reference values: river 0.26.1 (Python 3.11.7) in a throwaway venv outside the project
 * (python3 -m venv /tmp/river-venv && /tmp/river-venv/bin/pip install river). Defaults and
 * algorithms were checked against the 0.26.1 sources: river/drift/page_hinkley.py,
 * river/drift/binary/ddm.py, river/stats/mean.py and rust_src/adwin.rs (ADWIN is Rust in 0.26).
 *
 *   import json
 *   import river
 *   from river import drift
 *
 *   M = 0xFFFFFFFF
 *   def fmix32(h):
 *       h ^= h >> 16; h = (h * 0x85EBCA6B) & M
 *       h ^= h >> 13; h = (h * 0xC2B2AE35) & M
 *       h ^= h >> 16; return h
 *   def u32(i, seed):                      # JS: fmix32((Math.imul(i, 0x9E3779B1) + seed) >>> 0)
 *       return fmix32((i * 0x9E3779B1 + seed) & M)
 *   def bits(n, seed, permille):           # permille(i): P(x_i = 1) in 1/1000
 *       return [1 if u32(i, seed) % 1000 < permille(i) else 0 for i in range(n)]
 *   def reals(n, seed, shift):             # uniform-ish on {0, 0.001, ..., 0.999} plus shift(i)
 *       return [(u32(i, seed) % 1000) / 1000 + shift(i) for i in range(n)]
 *
 *   E1 = bits(6000, 1, lambda i: 150 if i < 2000 else 400 if i < 4000 else 100)
 *   E2 = bits(5000, 2, lambda i: 100 if i < 2000 else min(500, 100 + (i - 2000) // 10))
 *   R1 = reals(5000, 7, lambda i: 0.0 if i < 1500 else 0.5 if i < 3000 else -0.25)
 *
 *   def run(det, xs, checkpoints=()):
 *       alarms, warnings, cps, warned = [], [], {}, False
 *       for i, x in enumerate(xs):
 *           det.update(x)
 *           if det.drift_detected: alarms.append(i)
 *           w = getattr(det, "warning_detected", False)
 *           if w and not warned: warnings.append(i)
 *           warned = w
 *           if i in checkpoints or (checkpoints and det.drift_detected):
 *               cps[i] = [det.width, det.total, det.variance, det.estimation]
 *       out = {"alarms": alarms}
 *       if warnings: out["warnings"] = warnings
 *       if cps: out["checkpoints"] = cps
 *       return out
 *
 *   CP = (99, 999, 1999, 2500, 3999, 4999, 5999)
 *   res = {
 *     "version": river.__version__,
 *     "ph_E1": run(drift.PageHinkley(), E1),
 *     "ph_R1_both": run(drift.PageHinkley(), R1),
 *     "ph_R1_up": run(drift.PageHinkley(mode="up"), R1),
 *     "ph_R1_down": run(drift.PageHinkley(mode="down"), R1),
 *     "ph_R1_custom": run(drift.PageHinkley(min_instances=50, delta=0.01, threshold=20, alpha=0.999), R1),
 *     "adwin_E1": run(drift.ADWIN(), E1, CP),
 *     "adwin_E2": run(drift.ADWIN(), E2, CP),
 *     "adwin_E1_clock1": run(drift.ADWIN(delta=0.05, clock=1), E1, CP),
 *     "adwin_R1_custom": run(drift.ADWIN(delta=0.01, clock=1, max_buckets=3, min_window_length=10, grace_period=20), R1, CP),
 *     "ddm_E1": run(drift.binary.DDM(), E1),
 *     "ddm_E2": run(drift.binary.DDM(), E2),
 *     "ddm_E2_custom": run(drift.binary.DDM(warm_start=50, warning_threshold=1.5, drift_threshold=2.5), E2),
 *   }
 *   print(json.dumps(res))
 *
 * The streams use only 32-bit integer operations and one correctly rounded division (and addition),
 * so both sides feed the detectors the same numbers. Everything is compared exactly, including
 * ADWIN's floating-point sums. The only operation that is not bit-identical is the logarithm in
 * ADWIN's cut bound (V8's Math.log is off by one ulp from glibc's log for ~2.5% of arguments); in
 * these streams the closest cut decision has |mean difference| and bound 0.1% apart, far from
 * where one ulp could flip it.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const u32 = (i: number, seed: number): number => fmix32((Math.imul(i, 0x9e3779b1) + seed) >>> 0);
function bits(n: number, seed: number, permille: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => (u32(i, seed) % 1000 < permille(i) ? 1 : 0));
}
function reals(n: number, seed: number, shift: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => (u32(i, seed) % 1000) / 1000 + shift(i));
}

const E1 = bits(6000, 1, (i) => (i < 2000 ? 150 : i < 4000 ? 400 : 100));
const E2 = bits(5000, 2, (i) => (i < 2000 ? 100 : Math.min(500, 100 + Math.floor((i - 2000) / 10))));
const R1 = reals(5000, 7, (i) => (i < 1500 ? 0 : i < 3000 ? 0.5 : -0.25));

/** [index, width, total, variance, estimation] of river's ADWIN after the value at `index`. */
type Checkpoint = [number, number, number, number, number];

interface RiverCase {
  name: string;
  make: () => DetectorState;
  xs: number[];
  alarms: number[];
  warnings?: number[];
  checkpoints?: Checkpoint[];
}

const cases: RiverCase[] = [
  { name: 'PageHinkley() on E1', make: () => createDetector('pageHinkley'), xs: E1, alarms: [2163, 4153] },
  { name: 'PageHinkley() on R1', make: () => createDetector('pageHinkley'), xs: R1, alarms: [1606, 3049] },
  { name: "PageHinkley(mode='up') on R1", make: () => createDetector('pageHinkley', { mode: 'up' }), xs: R1, alarms: [1606] },
  { name: "PageHinkley(mode='down') on R1", make: () => createDetector('pageHinkley', { mode: 'down' }), xs: R1, alarms: [3085] },
  {
    name: 'PageHinkley(min_instances=50, delta=0.01, threshold=20, alpha=0.999) on R1',
    make: () => createDetector('pageHinkley', { minInstances: 50, delta: 0.01, threshold: 20, alpha: 0.999 }),
    xs: R1,
    alarms: [1543, 3015],
  },
  {
    name: 'ADWIN() on E1',
    make: () => createDetector('adwin'),
    xs: E1,
    alarms: [2079, 4063],
    checkpoints: [
      [99, 100, 12.0, 10.559999999999997, 0.12],
      [999, 1000, 143.0, 122.55099999999986, 0.143],
      [1999, 2000, 298.0, 253.59799999999998, 0.149],
      [2079, 1312, 227.0, 187.72484756097563, 0.17301829268292682],
      [2500, 421, 171.0, 101.54394299287416, 0.40617577197149646],
      [3999, 1920, 775.0, 462.1744791666671, 0.4036458333333333],
      [4063, 1728, 669.0, 409.9947916666671, 0.3871527777777778],
      [4999, 936, 80.0, 73.16239316239327, 0.08547008547008547],
      [5999, 1936, 192.0, 172.95867768595045, 0.09917355371900827],
    ],
  },
  {
    name: 'ADWIN() on E2 (gradual increase)',
    make: () => createDetector('adwin'),
    xs: E2,
    alarms: [3295],
    checkpoints: [
      [99, 100, 15.0, 12.750000000000002, 0.15],
      [999, 1000, 94.0, 85.16400000000007, 0.094],
      [1999, 2000, 199.0, 179.1995000000001, 0.0995],
      [2500, 2501, 277.0, 246.32067173130758, 0.11075569772091164],
      [3295, 2784, 355.0, 309.73239942528767, 0.12751436781609196],
      [3999, 704, 192.0, 139.6363636363635, 0.2727272727272727],
      [4999, 1704, 554.0, 373.8849765258222, 0.32511737089201875],
    ],
  },
  {
    name: 'ADWIN(delta=0.05, clock=1) on E1',
    make: () => createDetector('adwin', { delta: 0.05, clock: 1 }),
    xs: E1,
    alarms: [2040, 4044],
    checkpoints: [
      [99, 100, 12.0, 10.559999999999997, 0.12],
      [999, 1000, 143.0, 122.55099999999986, 0.143],
      [1999, 2000, 298.0, 253.59799999999998, 0.149],
      [2040, 1273, 212.0, 176.69442262372348, 0.16653574234092694],
      [2500, 460, 186.0, 110.79130434782617, 0.4043478260869565],
      [3999, 1959, 790.0, 471.4190913731509, 0.4032669729453803],
      [4044, 1748, 686.0, 416.780320366134, 0.39244851258581237],
      [4999, 955, 80.0, 73.29842931937179, 0.08376963350785341],
      [5999, 1955, 192.0, 173.14373401534516, 0.09820971867007673],
    ],
  },
  {
    name: 'ADWIN(delta=0.01, clock=1, max_buckets=3, min_window_length=10, grace_period=20) on R1',
    make: () => createDetector('adwin', { delta: 0.01, clock: 1, maxBuckets: 3, minWindowLength: 10, gracePeriod: 20 }),
    xs: R1,
    alarms: [1536, 3018],
    checkpoints: [
      [99, 100, 52.192, 8.860239360000001, 0.52192],
      [999, 1000, 508.62300000000016, 82.02145487099997, 0.5086230000000002],
      [1536, 257, 140.56400000000005, 24.128692124513506, 0.5469416342412453],
      [1999, 463, 472.95900000000063, 38.256371706263515, 1.0215097192224636],
      [2500, 964, 979.9389999999999, 79.42935587033202, 1.0165342323651452],
      [3018, 970, 960.0080000000005, 91.7403420989693, 0.9896989690721655],
      [3999, 981, 240.67400000000004, 84.30208066258916, 0.24533537206931705],
      [4999, 1981, 475.5940000000005, 170.38601402826814, 0.2400777385159013],
    ],
  },
  {
    name: 'DDM() on E1',
    make: () => createDetector('ddm'),
    xs: E1,
    alarms: [67, 2130],
    warnings: [
      61, 180, 187, 193, 198, 385, 396, 423, 435, 440, 444, 453, 2035, 2038, 2275, 2282, 2296, 2316, 2319, 2326, 2330, 2333, 2335, 2338,
      2778, 2787, 3915, 3940, 3942, 3960,
    ],
  },
  {
    name: 'DDM() on E2 (gradual increase)',
    make: () => createDetector('ddm'),
    xs: E2,
    alarms: [3161, 3866],
    warnings: [
      412, 433, 1934, 1939, 2156, 2227, 2236, 3283, 3286, 3309, 3341, 3347, 3947, 3996, 4012, 4053, 4059, 4067, 4081, 4086, 4093, 4096,
      4098, 4101, 4110,
    ],
  },
  {
    name: 'DDM(warm_start=50, warning_threshold=1.5, drift_threshold=2.5) on E2',
    make: () => createDetector('ddm', { warmStart: 50, warningThreshold: 1.5, driftThreshold: 2.5 }),
    xs: E2,
    alarms: [2471, 2889, 3376, 3567, 4348, 4507],
    warnings: [
      65, 140, 147, 307, 324, 505, 512, 518, 534, 588, 611, 801, 812, 899, 902, 1381, 1387, 1408, 1451, 2564, 2687, 2754, 2756, 2950, 2972,
      3008, 3017, 3024, 3047, 3050, 3074, 3084, 3153, 3216, 3218, 3273, 3275, 3439, 3441, 3496, 3500, 3508, 3522, 3529, 3538, 3542, 3549,
      3623, 3643, 3645, 3650, 3652, 3711, 3716, 3761, 3774, 3779, 3788, 3796, 3866, 3871, 3879, 3947, 4034, 4038, 4041, 4046, 4048, 4430,
      4438, 4444, 4578, 4580, 4583, 4588, 4619, 4638, 4660, 4669, 4725, 4733, 4777, 4779, 4790, 4793, 4803, 4805, 4825, 4835, 4838, 4888,
      4896, 4936, 4941, 4964, 4966, 4976, 4991,
    ],
  },
];

describe('drift detectors match river 0.26.1', () => {
  it('the reference streams are what the Python script generates', () => {
    // Spot values of the hash (fmix32 of 0x9E3779B1 * i + seed, mod 2^32) and stream sums.
    assert.equal(u32(0, 1), fmix32(1));
    assert.equal(E1.length, 6000);
    assert.equal(R1[0], (u32(0, 7) % 1000) / 1000);
    assert.equal(
      E1.slice(0, 2000).reduce((a, b) => a + b, 0),
      298,
    ); // river's ADWIN total at 1999
  });

  for (const c of cases) {
    it(c.name, () => {
      // updateMany: drift indices and warning-zone entries
      const run = updateMany(c.make(), c.xs);
      assert.deepEqual(run.alarms, c.alarms, 'alarms');
      assert.deepEqual(run.warnings, c.warnings ?? [], 'warnings');

      // updateDetector, one value at a time: the same signals, and ADWIN's window at the checkpoints
      const checkpoints = new Map((c.checkpoints ?? []).map((cp) => [cp[0], cp]));
      let state = c.make();
      const alarms: number[] = [];
      for (let i = 0; i < c.xs.length; i++) {
        const r = updateDetector(state, c.xs[i]);
        state = r.state;
        if (r.drift) alarms.push(i);
        const cp = checkpoints.get(i);
        if (cp && state.kind === 'adwin') {
          assert.deepEqual([i, state.width, state.total, state.variance, adwinEstimation(state)], cp, `ADWIN at ${i}`);
        }
      }
      assert.deepEqual(alarms, c.alarms, 'alarms, one at a time');
      assert.deepEqual(state, run.state, 'final state');
    });
  }
});

describe('detector state', () => {
  const kinds = [
    { name: 'PageHinkley', make: () => createDetector('pageHinkley'), xs: R1 },
    { name: 'ADWIN', make: () => createDetector('adwin'), xs: E1 },
    { name: 'ADWIN (clock 1, small buckets)', make: () => createDetector('adwin', { clock: 1, maxBuckets: 2, delta: 0.05 }), xs: E1 },
    { name: 'DDM', make: () => createDetector('ddm'), xs: E1 },
  ];

  for (const k of kinds) {
    it(`${k.name}: a JSON round trip mid-stream continues identically`, () => {
      const full = updateMany(k.make(), k.xs);
      assert.ok(full.alarms.length > 0, 'the stream should trigger the detector');
      // Split points: arbitrary ones, right at an alarm (the state still carries the drift flag and
      // the pre-reset window) and right after it.
      const splits = [1, 17, 1234, full.alarms[0], full.alarms[0] + 1, k.xs.length - 1];
      for (const split of splits) {
        const head = updateMany(k.make(), k.xs.slice(0, split + 1));
        const restored = JSON.parse(JSON.stringify(head.state)) as DetectorState;
        assert.deepEqual(restored, head.state, `lossless JSON at ${split}`);
        const tail = updateMany(restored, k.xs.slice(split + 1));
        assert.deepEqual([...head.alarms, ...tail.alarms.map((i) => i + split + 1)], full.alarms, `alarms after a split at ${split}`);
        assert.deepEqual(tail.state, full.state, `final state after a split at ${split}`);
      }
    });
  }

  it('fresh states are plain JSON (no Infinity or NaN) and carry the defaults', () => {
    for (const kind of ['pageHinkley', 'adwin', 'ddm'] as const) {
      const s = createDetector(kind);
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    }
    assert.deepEqual(createDetector('pageHinkley').params, { ...PAGE_HINKLEY_DEFAULTS });
    assert.deepEqual(createDetector('adwin').params, { ...ADWIN_DEFAULTS });
    assert.deepEqual(createDetector('ddm').params, { ...DDM_DEFAULTS });
  });

  it("river's defaults", () => {
    assert.deepEqual({ ...PAGE_HINKLEY_DEFAULTS }, { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' });
    assert.deepEqual({ ...ADWIN_DEFAULTS }, { delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 });
    assert.deepEqual({ ...DDM_DEFAULTS }, { warmStart: 30, warningThreshold: 2, driftThreshold: 3 });
    // An explicit undefined keeps the default.
    assert.equal(createDetector('adwin', { clock: undefined }).params.clock, 32);
  });

  it('updates never mutate their input state', () => {
    for (const k of kinds) {
      const mid = updateMany(k.make(), k.xs.slice(0, 2500)).state;
      const snapshot = structuredClone(mid);
      updateDetector(mid, 1);
      updateMany(mid, k.xs.slice(2500));
      assert.deepEqual(mid, snapshot, k.name);
    }
  });

  it('resets lazily after a drift, as river does', () => {
    // ADWIN keeps the shrunken window (width 1312 in river) until the next value, then starts afresh.
    const atAlarm = updateMany(createDetector('adwin'), E1.slice(0, 2080)).state;
    assert.equal(atAlarm.drift, true);
    assert.equal(atAlarm.width, 1312);
    const next = updateDetector(atAlarm, 1);
    assert.equal(next.drift, false);
    assert.equal(next.state.width, 1);
    assert.equal(next.state.total, 1);
    assert.equal(next.state.tick, 1);
  });

  it('ADWIN keeps a compact exponential histogram', () => {
    const s = updateMany(createDetector('adwin'), new Array(100_000).fill(0)).state;
    assert.equal(s.width, 100_000);
    // After compression each level holds at most max_buckets buckets, and there are about log2(n / max_buckets) levels.
    assert.ok(s.levels.length <= 17, `${s.levels.length} levels`);
    assert.ok(s.levels.every((l) => l.totals.length <= 5 && l.totals.length === l.variances.length));
    let width = 0;
    s.levels.forEach((l, i) => (width += l.totals.length * 2 ** i));
    assert.equal(width, s.width);
    assert.ok(JSON.stringify(s).length < 2000);
  });

  it('rejects bad values and parameters', () => {
    assert.throws(() => updateDetector(createDetector('ddm'), 0.5), RangeError);
    assert.throws(() => updateDetector(createDetector('ddm'), 2), RangeError);
    for (const kind of ['pageHinkley', 'adwin', 'ddm'] as const) {
      assert.throws(() => updateDetector(createDetector(kind), NaN), RangeError);
      assert.throws(() => updateDetector(createDetector(kind), Infinity), RangeError);
    }
    assert.throws(() => createDetector('adwin', { clock: 0 }), RangeError);
    assert.throws(() => createDetector('adwin', { maxBuckets: 1.5 }), RangeError);
    assert.throws(() => createDetector('adwin', { minWindowLength: 0 }), RangeError);
    assert.throws(() => createDetector('adwin', { delta: 0 }), RangeError);
    assert.throws(() => createDetector('pageHinkley', { mode: 'sideways' as 'up' }), RangeError);
    assert.throws(() => createDetector('pageHinkley', { threshold: NaN }), RangeError);
    assert.throws(() => createDetector('ddm', { driftThreshold: Infinity }), RangeError);
    assert.throws(() => createDetector('kswin' as 'ddm'), RangeError);
  });

  it('Page-Hinkley and ADWIN accept real values, DDM 0/1; warnings are DDM-only', () => {
    const ph = updateMany(createDetector('pageHinkley'), R1);
    const adwin = updateMany(createDetector('adwin'), R1);
    assert.deepEqual(ph.warnings, []);
    assert.ok(adwin.alarms.length > 0 && adwin.warnings.length === 0);
    assert.equal(updateDetector(createDetector('adwin'), 3.5).warning, false);
  });
});
