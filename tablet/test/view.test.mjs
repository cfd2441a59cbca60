// What the screens show: the server's rows with the inspector's own changes laid over them until
// the server's copy includes them; what an answer.set sends (only what changed, with its base);
// the sync conflicts still open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerChange, answerFields, answersView, inspectionView, openConflicts, stillPending } from '../src/lib/view.js';
import { freshStore } from './helpers.mjs';

const entry = (seq, name, args, extra = {}) => ({
  seq,
  status: 'pending',
  mutation: { seq, name, entity_id: 'i1', args, device_ts: `2026-11-24T09:${String(seq).padStart(2, '0')}:00+08:00` },
  ...extra,
});

test('a local draft shows before the server has it, and the server copy once it does', () => {
  const create = entry(1, 'inspection.create@1', {
    project_id: 'p1',
    template_id: 't1',
    started_at_device: '2026-11-24T09:30:00+08:00',
  });
  const local = inspectionView(null, [create]);
  assert.equal(local.status, 'draft');
  assert.equal(local.local, true);
  assert.equal(local.template, 't1');
  const submit = entry(2, 'inspection.submit@1', { signature_sha256: 'ab'.repeat(32), submitted_at_device: 'x' });
  assert.equal(inspectionView(null, [create, submit]).status, 'submitted');
  assert.equal(inspectionView(null, [create, submit]).waiting, true);
  const server = { id: 'i1', status: 'submitted', grade: '合格', version: 9 };
  const done = [
    { ...create, status: 'done', result: { version: 5 } },
    { ...submit, status: 'done', result: { version: 9 } },
  ];
  assert.deepEqual(inspectionView(server, done), { ...server, local: false });
});

test('answers: pending and unconfirmed edits lie over the server row, refused ones never', () => {
  const server = [
    { id: 'a1', item_code: 'M1', value: 'pass', note: '', measured: '', unit: '', version: 10, result: '' },
  ];
  const pending = entry(3, 'answer.set@1', { item_code: 'M1', set: { value: 'fail' }, photos: ['p1'] });
  let view = answersView(server, [pending], { a1: ['p0'] });
  assert.equal(view.M1.value, 'fail');
  assert.deepEqual(view.M1.photos, ['p0', 'p1']);
  assert.equal(view.M1.pending, true);

  // sent and applied (version 11) but not pulled yet: still shown
  const sent = { ...pending, status: 'done', result: { status: 'applied', version: 11 } };
  assert.equal(answersView(server, [sent]).M1.value, 'fail');
  // pulled: the server's row (version 11) is the truth
  const pulled = [{ ...server[0], value: 'fail', version: 11 }];
  view = answersView(pulled, [sent], { a1: ['p1'] });
  assert.equal(view.M1.pending, false);
  assert.deepEqual(view.M1.photos, ['p1']);
  // refused: never laid over
  const refused = { ...pending, status: 'rejected', result: { status: 'rejected' } };
  assert.equal(answersView(server, [refused]).M1.value, 'pass');
  // an answer never seen by the server
  view = answersView([], [entry(4, 'answer.set@1', { item_code: 'N1', set: { checked: 10, passed: 9 }, photos: [] })]);
  assert.deepEqual([view.N1.checked, view.N1.passed, view.N1.version], [10, 9, null]);
  // the base of the next change is what the server will hold after this one: an empty note
  assert.deepEqual([view.N1.note, view.N1.flagged], ['', false]);
});

test('a photo the server refused stays on its item, out of what is sent', () => {
  const e = entry(5, 'answer.set@1', { item_code: 'M3', set: { value: 'fail' }, photos: [] }, { refusedPhotos: ['heic'] });
  assert.deepEqual(answersView([], [e]).M3.photos, ['heic']);
});

test('stillPending follows the version the server answered with', () => {
  assert.equal(stillPending({ status: 'pending' }, { version: 99 }), true);
  assert.equal(stillPending({ status: 'done', result: { version: 5 } }, { version: 4 }), true);
  assert.equal(stillPending({ status: 'done', result: { version: 5 } }, { version: 5 }), false);
  assert.equal(stillPending({ status: 'done', result: { version: null } }, null), true);
  assert.equal(stillPending({ status: 'rejected', result: {} }, null), false);
});

test('an answer.set sends the whole finding when it changed, a note only when it did', () => {
  const shown = answerFields({ value: 'pass', note: '抽查10处', measured: '[1.5, 2]', unit: 'mm', deduction: null });
  assert.deepEqual(shown.measured, [1.5, 2]);
  const clear = { value: null, deduction: null, measured: null, unit: null, checked: null, passed: null };
  let change = answerChange(shown, { ...clear, value: 'fail', note: '抽查10处' });
  assert.deepEqual(change.set, { ...clear, value: 'fail' });
  assert.deepEqual(change.base, { ...clear, value: 'pass', measured: [1.5, 2], unit: 'mm' });
  // the note alone: the finding is left to the server's merge
  change = answerChange(shown, { note: '抽查12处' });
  assert.deepEqual(change, { set: { note: '抽查12处' }, base: { note: '抽查10处' } });
  // nothing changed: nothing to send
  assert.deepEqual(answerChange(shown, { value: 'pass', note: '抽查10处' }).set, {});
  // the server's terms: empty value and unit are null, measured a list or null
  assert.deepEqual(answerFields({ value: '', unit: '', measured: '' }).value, null);
  assert.equal(answerFields({ value: '', unit: '', measured: '' }).measured, null);
  // a count goes up with both figures
  assert.deepEqual(answerChange(null, { ...clear, checked: 10, passed: 9 }).set, { ...clear, checked: 10, passed: 9 });
});

test('sync conflicts: a pull that brings one resolved on the server takes it off the list', async () => {
  const store = await freshStore();
  const conflict = (id, updated_at, extra = {}) => ({
    id,
    project: 'p1',
    table_name: 'inspection_answer',
    record_id: `a-${id}`,
    field: 'value',
    reason: 'overwritten',
    kept_value: '"pass"',
    lost_value: '"fail"',
    updated_at,
    resolved_at: null,
    resolution: '',
    version: 1,
    ...extra,
  });
  const pulled = (cursor, rows) => ({
    changes: { sync_conflict: { upsert: rows, delete: [] } },
    purge: [],
    cursor,
    has_more: false,
    last_mutation_seq: 0,
  });
  await store.applyPage(
    'u1',
    pulled('c1', [conflict('k1', '2026-11-24T09:00:00+08:00'), conflict('k2', '2026-11-24T10:00:00+08:00')]),
  );
  let open = openConflicts(await store.rows('u1', 'sync_conflict'));
  assert.deepEqual(open.map((c) => c.id), ['k2', 'k1']); // newest first
  // a supervisor kept the overwritten value of k2 in the portal: the next pull brings it resolved
  const resolved = conflict('k2', '2026-11-24T11:00:00+08:00', {
    resolved_at: '2026-11-24T11:00:00+08:00',
    resolution: 'lost',
    version: 2,
  });
  await store.applyPage('u1', pulled('c2', [resolved]));
  open = openConflicts(await store.rows('u1', 'sync_conflict'));
  assert.deepEqual(open.map((c) => c.id), ['k1']);
  // resolved either way, nothing is left to decide
  await store.applyPage(
    'u1',
    pulled('c3', [conflict('k1', '2026-11-24T12:00:00+08:00', { resolved_at: '2026-11-24T12:00:00+08:00', resolution: 'kept', version: 2 })]),
  );
  assert.deepEqual(openConflicts(await store.rows('u1', 'sync_conflict')), []);
});
