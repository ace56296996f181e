/**
 * Deployment to the model server: set-state calls on its admin endpoint (repeating one is
 * harmless), and the live comparisons of a canary, or a shadow, with the champion from the shared log.
 */
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { Score } from '../core/promotion.ts';
import { summarizeShadow, type ShadowComparison } from '../core/shadow.ts';
import type { ActivityContext } from './context.ts';

/** Live score of one version since the canary started (core/promotion.ts Score). */
export type LiveScore = Score;

export function deploymentActivities(ctx: ActivityContext) {
  return {
    async deploy(input: {
      model: string;
      champion: string;
      canary?: { version: string; weight: number };
      /** Gets a copy of every request; absent removes any shadow. */
      shadow?: { version: string };
      reason: string;
    }): Promise<void> {
      const url = `${ctx.serving.url}/admin/models/${encodeURIComponent(input.model)}/deployment`;
      const response = await request(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ctx.serving.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ champion: { version: input.champion }, canary: input.canary, shadow: input.shadow, reason: input.reason }),
      }).catch((err: Error) => {
        throw new Error(`model server at ${ctx.serving.url} unreachable: ${err.message}`);
      });
      const text = await response.body.text();
      if (response.statusCode >= 500) throw new Error(`model server answered ${response.statusCode}: ${text}`);
      // 4xx is a verdict (unknown version, unloadable model, bad token): retrying won't help.
      if (response.statusCode >= 400) {
        throw ApplicationFailure.nonRetryable(`model server refused deployment (${response.statusCode}): ${text}`, 'ModelLoadError');
      }
    },

    /** Live scores since the canary step began: accuracy of a classifier, RMSE of a regression model. */
    async compareCanary(input: {
      model: string;
      since: string;
      championVersion: string;
      canaryVersion: string;
      regression?: boolean;
    }): Promise<{ champion: LiveScore; canary: LiveScore }> {
      if (input.regression) {
        const live = await ctx.store.liveErrors(input.model, input.since);
        const score = (version: string): LiveScore =>
          live[version]?.n
            ? { n: live[version].n, accuracy: null, rmse: live[version].rmse, squaredErrors: live[version].squaredErrors }
            : { n: 0, accuracy: null, rmse: null };
        return { champion: score(input.championVersion), canary: score(input.canaryVersion) };
      }
      const live = await ctx.store.liveAccuracy(input.model, input.since);
      const score = (version: string): LiveScore => {
        const s = live[version];
        return s && s.n > 0 ? { n: s.n, accuracy: s.correct / s.n, correct: s.correct } : { n: 0, accuracy: null, correct: 0 };
      };
      return { champion: score(input.championVersion), canary: score(input.canaryVersion) };
    },

    /** The shadow against the champion on the rows both predicted since `since` (the shadow phase's start). */
    async compareShadow(input: { model: string; since: string; shadowVersion: string; regression?: boolean }): Promise<ShadowComparison> {
      const counts = await ctx.store.shadowPairCounts(input.model, input.shadowVersion, { fromTime: input.since });
      return summarizeShadow(input.shadowVersion, counts, input.regression ?? false);
    },
  };
}
