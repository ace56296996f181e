/**
 * trainTrial's warm start (TrainInput.warmStart): training continues a saved model's weights on
 * new rows. On the 8x8 digits (test/fixtures/digits.json, every 5th image validation): a softmax
 * "champion" trained on the first half of the training images, then a warm start and a fresh
 * model, same config and seed, on the second half.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ModelConfig } from '../../core/search-space.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { trainTrial, type TrainInput } from '../../ml/train.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/digits.json', import.meta.url), 'utf8')) as {
  images: string[];
  labels: number[];
};
const rows = fixture.images.map((s) => Object.fromEntries([...s].map((c, i) => [`p${i}`, parseInt(c, 17)])));
const labels = fixture.labels.map(String);
const part = (pick: (i: number) => boolean) => {
  const ids = rows.map((_, i) => i).filter(pick);
  return { rows: ids.map((i) => rows[i]), labels: ids.map((i) => labels[i]) };
};
const isVal = (i: number) => i % 5 === 4;
const oldRows = part((i) => !isVal(i) && i < 900);
const newRows = part((i) => !isVal(i) && i >= 900);
const validation = part(isVal);
const SOFTMAX: ModelConfig = { family: 'softmax', params: { learningRate: 0.01 } };

const input = (extra: Partial<TrainInput>): TrainInput => ({
  config: SOFTMAX,
  features: Array.from({ length: 64 }, (_, i) => ({ name: `p${i}`, type: 'number' as const })),
  classes: [...'0123456789'],
  train: newRows,
  validation,
  seed: 7,
  fromEpoch: 0,
  toEpoch: 1,
  ...extra,
});

describe('warm start', async () => {
  const champion = await trainTrial(input({ train: oldRows, toEpoch: 15, seed: 1 }));
  const warmStart = servingFiles(champion.checkpoint);

  it("starts from the saved model's weights: after one epoch it is far ahead of a fresh model", async () => {
    const [warm, fresh] = [await trainTrial(input({ warmStart })), await trainTrial(input({}))];
    const [w, f] = [warm.history[0], fresh.history[0]];
    console.log(
      `epoch 1: warm start val acc ${w.valAccuracy.toFixed(3)} loss ${w.valLoss.toFixed(3)}; fresh ${f.valAccuracy.toFixed(3)} ${f.valLoss.toFixed(3)}; champion ${champion.valAccuracy.toFixed(3)}`,
    );
    assert.ok(w.valLoss < f.valLoss / 2, 'a much lower validation loss');
    assert.ok(w.valAccuracy >= champion.valAccuracy - 0.02, 'about as good as the model it continues, at least');
  });

  it('resumes its later rungs exactly, from its own checkpoint', async () => {
    const oneGo = await trainTrial(input({ warmStart, toEpoch: 4 }));
    const rung0 = await trainTrial(input({ warmStart, toEpoch: 2 }));
    const rung1 = await trainTrial(input({ fromEpoch: 2, toEpoch: 4, checkpoint: rung0.checkpoint }));
    assert.deepEqual(rung1.checkpoint['weights.bin'], oneGo.checkpoint['weights.bin']);
    await assert.rejects(
      trainTrial(input({ warmStart, fromEpoch: 2, toEpoch: 4, checkpoint: rung0.checkpoint })),
      /warm start begins at epoch 0/,
    );
  });

  it('refuses a model trained on other classes', async () => {
    await assert.rejects(
      trainTrial(input({ warmStart, classes: [...'0123456789', 'x'] })),
      /The model to warm-start from was trained on other features or classes than this input/,
    );
  });
});
