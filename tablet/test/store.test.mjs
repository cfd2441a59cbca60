// The local store: a pull page and its cursor commit together or not at all; the outbox numbers
// each user's mutations 1, 2, 3 … and keeps them through sign-outs; users never see each other's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshStore } from './helpers.mjs';

const page = (cursor, upserts, extra = {}) => ({
  changes: { building: { upsert: upserts, delete: [] } },
  purge: [],
  cursor,
  has_more: false,
  last_mutation_seq: 0,
  ...extra,
});

test('a page and its cursor are applied in one transaction', async () => {
  const store = await freshStore();
  await store.applyPage('u1', page('c1', [{ id: 'b1', project: 'p1', site: 's1', name: '1号楼', version: 3 }]));
  assert.equal(await store.meta('u1', 'cursor'), 'c1');
  assert.equal((await store.row('u1', 'building', 'b1')).name, '1号楼');
  assert.deepEqual(
    (await store.rowsByRef('u1', 'building', 's1')).map((b) => b.id),
    ['b1'],
  );

  // a row that cannot be stored half-way through the page: neither the rows before it nor the
  // cursor may stay, or the next pull would start after rows that were never written
  const bad = { id: 'b3', project: 'p1', site: 's1', name: () => 'not storable' };
  await assert.rejects(
    store.applyPage('u1', page('c2', [{ id: 'b2', project: 'p1', site: 's1', name: '2号楼' }, bad])),
  );
  assert.equal(await store.meta('u1', 'cursor'), 'c1');
  assert.equal(await store.row('u1', 'building', 'b2'), null);
});

test('purge removes a lost project, deletes remove rows, other users are untouched', async () => {
  const store = await freshStore();
  const rows = [
    { id: 'b1', project: 'p1', site: 's1', name: '1号楼' },
    { id: 'b2', project: 'p2', site: 's2', name: '2号楼' },
  ];
  await store.applyPage('u1', {
    ...page('c1', rows),
    changes: { building: { upsert: rows, delete: [] }, project: { upsert: [{ id: 'p1' }, { id: 'p2' }], delete: [] } },
  });
  await store.applyPage('u2', page('x1', rows));
  const counts = await store.applyPage('u1', {
    changes: { building: { upsert: [], delete: ['b2'] } },
    purge: [{ bucket: 'project:p1', project_id: 'p1' }],
    cursor: 'c2',
    has_more: false,
  });
  assert.equal(counts.purged, 2); // the project row and its building
  assert.deepEqual(await store.rows('u1', 'building'), []);
  assert.deepEqual((await store.rows('u1', 'project')).map((p) => p.id), ['p2']);
  assert.equal((await store.rows('u2', 'building')).length, 2);
});

test('outbox: sequence numbers per user, in order, never reused after sign-out', async () => {
  const store = await freshStore();
  const m = (name) => ({ id: name, name: 'answer.set@1', entityId: 'i1', args: { item_code: name }, deviceTs: 't' });
  const a1 = await store.enqueue('u1', m('A1'));
  const b1 = await store.enqueue('u2', m('B1'));
  const a2 = await store.enqueue('u1', m('A2'));
  assert.deepEqual([a1.seq, a2.seq, b1.seq], [1, 2, 1]);
  assert.deepEqual((await store.outbox('u1')).map((e) => e.mutation.args.item_code), ['A1', 'A2']);
  assert.deepEqual((await store.outbox('u2')).map((e) => e.mutation.args.item_code), ['B1']);

  await store.markSent('u1', [1, 2]);
  await store.storeResults('u1', [
    { seq: 1, status: 'applied', version: 7 },
    { seq: 2, status: 'rejected', code: 'validation' },
  ]);
  assert.deepEqual((await store.outbox('u1')).map((e) => [e.seq, e.status, e.sent]), [
    [1, 'done', true],
    [2, 'rejected', true],
  ]);
  // entries done may be cleared away; the next number still follows the last one made
  await store.db.clear('outbox');
  assert.equal((await store.enqueue('u1', m('A3'))).seq, 3);
  assert.equal(await store.countOutbox('u1', 'pending'), 1);
});

test('photos are kept per user until the server has them', async () => {
  const store = await freshStore();
  const blob = new Blob([new Uint8Array([1, 2, 3])]);
  await store.addPhoto('u1', { sha256: 'aa', project: 'p1', content_type: 'image/jpeg', size: 3, blob, owner: 'i1', item: 'M1' });
  await store.addPhoto('u1', { sha256: 'aa', project: 'p1', content_type: 'image/jpeg', size: 3, blob, owner: 'i1', item: 'M1' });
  assert.equal(await store.countPhotos('u1', 'pending'), 1);
  assert.equal(await store.countPhotos('u2', 'pending'), 0);
  await store.updatePhoto('u1', 'aa', { status: 'stored' });
  assert.equal(await store.countPhotos('u1', 'pending'), 0);
  assert.deepEqual((await store.photosOf('u1', 'i1')).map((p) => p.item), ['M1']);
});

test('settled changes are forgotten after a while; pending ones and open refusals never', async () => {
  const store = await freshStore();
  const at = (day) => `2026-11-${day}T09:00:00+08:00`;
  const make = (code, day) => ({ id: code, name: 'answer.set@1', entityId: 'i1', args: { item_code: code }, deviceTs: at(day) });
  for (const [code, day] of [['A', '01'], ['B', '01'], ['C', '01'], ['D', '01'], ['E', '20']]) {
    await store.enqueue('u1', make(code, day));
  }
  await store.storeResults('u1', [
    { seq: 1, status: 'applied' },
    { seq: 2, status: 'rejected' },
    { seq: 3, status: 'rejected' },
    { seq: 5, status: 'applied' },
  ]);
  await store.updateOutboxEntry('u1', 3, () => ({ redone: true }));
  // A applied and C dealt with, both old: gone. B refused and not dealt with, D pending, E recent: kept.
  assert.equal(await store.pruneOutbox('u1', '2026-11-10T00:00:00Z'), 2);
  assert.deepEqual((await store.outbox('u1')).map((e) => e.mutation.args.item_code), ['B', 'D', 'E']);
  // numbering goes on after the last number made
  assert.equal((await store.enqueue('u1', make('F', '21'))).seq, 6);
});
