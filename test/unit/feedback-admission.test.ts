/**
 * spec.training.feedback in the training snapshot: which feedback senders count and how large a
 * share of the window feedback may be (activities/data.ts admitFeedback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admitFeedback, describeDroppedFeedback } from '../../activities/data.ts';

/** 65 imported records then 300 anonymous and 10 from the key "crm", interleaved by arrival. */
function window() {
  const records = [];
  let id = 0;
  for (let i = 0; i < 65; i++) records.push({ id: ++id, features: { x: i }, label: 'a', source: 'import.csv' });
  for (let i = 0; i < 300; i++) {
    records.push({ id: ++id, features: { x: i }, label: 'b', source: i === 0 ? 'feedback' : 'feedback:anonymous' });
    if (i % 30 === 0) records.push({ id: ++id, features: { x: i }, label: 'c', source: 'feedback:crm' });
  }
  return records;
}

test('maxShare 1 and no sources: the window as read', () => {
  const { records, feedback } = admitFeedback(window(), { maxShare: 1 });
  assert.equal(records.length, 375);
  assert.deepEqual(feedback, { kept: { anonymous: 300, crm: 10 }, droppedUnlistedSources: {}, droppedOverMaxShare: 0 });
});

test('only listed senders count; a pre-API-key "feedback" record is anonymous', () => {
  const { records, feedback } = admitFeedback(window(), { maxShare: 1, sources: ['crm'] });
  assert.equal(records.length, 75);
  assert.deepEqual(feedback.droppedUnlistedSources, { anonymous: 300 });
  assert.ok(records.every((r) => r.source === 'import.csv' || r.source === 'feedback:crm'));
});

test('maxShare caps feedback against imported records, keeping the most recent feedback and the id order', () => {
  const { records, feedback } = admitFeedback(window(), { maxShare: 0.2 });
  const fromFeedback = records.filter((r) => r.source !== 'import.csv');
  // 65 imported: at most 16 feedback rows (16 / 81 <= 0.2 < 17 / 82).
  assert.equal(fromFeedback.length, 16);
  assert.ok(fromFeedback.length / records.length <= 0.2);
  assert.equal(feedback.droppedOverMaxShare, 310 - 16);
  const ids = records.map((r) => r.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );
  assert.equal(ids.at(-1), 375, 'the newest feedback is kept');
  assert.equal(records.filter((r) => r.source === 'import.csv').length, 65, 'imported records are never dropped');
});

test('maxShare 0: imported records only; no imported records and maxShare < 1: no feedback', () => {
  assert.equal(admitFeedback(window(), { maxShare: 0 }).records.length, 65);
  const onlyFeedback = window().filter((r) => r.source !== 'import.csv');
  assert.equal(admitFeedback(onlyFeedback, { maxShare: 0.5 }).records.length, 0);
});

test('what was dropped reads in the validation report', () => {
  const policy = { maxShare: 0.2, sources: ['crm'] };
  const { feedback } = admitFeedback(window(), policy);
  const line = describeDroppedFeedback(feedback, policy);
  assert.match(line!, /300 from "anonymous" \(not in training\.feedback\.sources: crm\)/);
  assert.equal(feedback.droppedOverMaxShare, 0, '10 crm rows are 10 / 75 < 0.2');
  assert.equal(describeDroppedFeedback(admitFeedback(window(), { maxShare: 1 }).feedback, { maxShare: 1 }), undefined);
});
