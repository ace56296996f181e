export { modelLifecycle } from './lifecycle.ts';
export { retrain } from './retrain.ts';
export { scheduledRetrain } from './scheduled.ts';
export { sweep } from './sweep.ts';
export { trainingPermits } from './training-permits.ts';
