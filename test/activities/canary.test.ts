/**
 * compareCanary on every store engine: a classifier's canary is scored by live accuracy, a
 * regression model's by live RMSE over the predictions whose true value came back, with the
 * moments of the squared errors for the sequential test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ActivityContext } from '../../activities/context.ts';
import { deploymentActivities } from '../../activities/deployment.ts';
import { canaryIsWorse } from '../../core/promotion.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test('a regression canary is judged by live RMSE: values off by 1 vs off by 3', async () => {
      const store = await engine.open();
      const since = new Date(Date.now() - 1000).toISOString();
      const logged = (id: string, version: string, value: number) => ({
        id,
        model: 'mpg',
        version,
        role: version === '2' ? ('canary' as const) : ('champion' as const),
        task: 'regression' as const,
        features: { weight: 3000 },
        label: String(value),
        confidence: null,
        probabilities: {},
      });
      await store.logPredictions([
        logged('a', '1', 21),
        logged('b', '1', 19),
        logged('c', '2', 23),
        logged('d', '2', 17),
        logged('e', '2', 20),
      ]);
      // Truth 20 everywhere: the champion errs by 1 and 1, the canary by 3 and 3 (and e has no value back).
      await store.addFeedbackMany([
        { predictionId: 'a', label: 20 },
        { predictionId: 'b', label: '20' },
        { predictionId: 'c', label: 20 },
        { predictionId: 'd', label: 20 },
        { predictionId: 'e', kind: 'overridden' },
      ]);
      const activities = deploymentActivities({ store } as unknown as ActivityContext);
      const live = await activities.compareCanary({ model: 'mpg', since, championVersion: '1', canaryVersion: '2', regression: true });
      // Squared errors 1, 1 and 9, 9: the moments the sequential test reads (no spread within either).
      assert.deepEqual(live, {
        champion: { n: 2, accuracy: null, rmse: 1, squaredErrors: { n: 2, mean: 1, m2: 0 } },
        canary: { n: 2, accuracy: null, rmse: 3, squaredErrors: { n: 2, mean: 9, m2: 0 } },
      });
      assert.equal(canaryIsWorse(live, 0.05), true);
      // A version without labelled predictions has no score yet.
      const none = await activities.compareCanary({ model: 'mpg', since, championVersion: '1', canaryVersion: '9', regression: true });
      assert.deepEqual(none.canary, { n: 0, accuracy: null, rmse: null });
      await store.close();
    });
  });
}
