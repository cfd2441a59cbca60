// The sync engine against a scripted server (the real server is in the browser tests): the
// outbox goes up in order and in batches, frozen once sent; a photo refused for good is taken
// out of what is not yet sent so the answer still arrives; tokens refresh once for requests that
// fail together; pages come down with their cursor, with progress; 426 stops pulls, not pushes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, AuthLost } from '../src/lib/api.js';
import { Syncer, UpgradeRequired } from '../src/lib/sync.js';
import { freshStore, jsonResponse, scriptedFetch, session } from './helpers.mjs';

function syncer(store, fetchImpl, s = session()) {
  const api = new Api({ fetchImpl, session: s, retries: 1, backoffMs: 1 });
  return new Syncer({ store, api, user: 'u1', deviceId: 'tablet-test', pushBatch: 2, now: () => '2026-11-24T09:30:00+08:00' });
}

const answer = (code, photos = []) => ({
  id: `m-${code}`,
  name: 'answer.set@1',
  entityId: 'i1',
  args: { item_code: code, set: { value: 'fail' }, photos },
  deviceTs: '2026-11-24T09:00:00+08:00',
});

function pushServer(outcome = () => 'applied') {
  return [
    'POST',
    '/api/v1/sync/push',
    ({ body }) =>
      jsonResponse(200, {
        results: body.mutations.map((m) => ({ seq: m.seq, id: m.id, status: outcome(m), version: 10 + m.seq })),
        last_mutation_seq: body.mutations.at(-1).seq,
      }),
  ];
}

test('the outbox goes up in order, in batches, and a refused change does not block the rest', async () => {
  const store = await freshStore();
  for (const code of ['M1', 'M2', 'M3', 'N1', 'N2']) await store.enqueue('u1', answer(code));
  const { fetchImpl, calls } = scriptedFetch([pushServer((m) => (m.args.item_code === 'M2' ? 'rejected' : 'applied'))]);
  const sent = await syncer(store, fetchImpl).push();
  assert.equal(sent, 5);
  const pushes = calls.filter((c) => c.path === '/api/v1/sync/push');
  assert.deepEqual(
    pushes.map((c) => c.body.mutations.map((m) => m.seq)),
    [[1, 2], [3, 4], [5]],
  );
  assert.equal(pushes[0].body.device_id, 'tablet-test');
  assert.equal(pushes[0].body.device_now, '2026-11-24T09:30:00+08:00');
  assert.deepEqual((await store.outbox('u1')).map((e) => e.status), ['done', 'rejected', 'done', 'done', 'done']);
});

test('a photo refused for good: the answer still goes up without it, the photo shows why', async () => {
  const store = await freshStore();
  const blob = new Blob([new Uint8Array([0, 0, 0, 24])]);
  await store.addPhoto('u1', { sha256: 'heic1', project: 'p1', content_type: 'image/heic', size: 4, blob, owner: 'i1', item: 'M3' });
  await store.addPhoto('u1', { sha256: 'jpg1', project: 'p1', content_type: 'image/jpeg', size: 4, blob, owner: 'i1', item: 'M3' });
  await store.enqueue('u1', answer('M3', ['heic1', 'jpg1']));
  const { fetchImpl, calls } = scriptedFetch([
    [
      'POST',
      '/api/v1/evidence/uploads',
      ({ body }) =>
        body.content_type === 'image/heic'
          ? jsonResponse(415, { title: 'Unsupported', field: 'content_type' })
          : jsonResponse(201, { evidence: {}, upload: null }),
    ],
    pushServer(),
  ]);
  const s = syncer(store, fetchImpl);
  await s.announcePhotos();
  await s.push();
  const pushed = calls.find((c) => c.path === '/api/v1/sync/push').body.mutations[0];
  assert.deepEqual(pushed.args.photos, ['jpg1']);
  const heic = await store.photo('u1', 'heic1');
  assert.equal(heic.status, 'refused');
  assert.equal(heic.error, '服务器不接受此照片格式（HEIC），请重拍');
  const [entry] = await store.outbox('u1');
  assert.equal(entry.status, 'done');
  assert.deepEqual(entry.refusedPhotos, ['heic1']);
});

test('a change citing a photo the server has not heard of waits; the ones before it go', async () => {
  const store = await freshStore();
  const blob = new Blob([new Uint8Array([1])]);
  await store.enqueue('u1', answer('M1'));
  await store.addPhoto('u1', { sha256: 'late', project: 'p1', content_type: 'image/jpeg', size: 1, blob });
  await store.enqueue('u1', answer('M2', ['late']));
  const { fetchImpl, calls } = scriptedFetch([
    ['POST', '/api/v1/evidence/uploads', () => jsonResponse(503, { title: 'down' })],
    pushServer(),
  ]);
  const s = syncer(store, fetchImpl);
  await s.announcePhotos();
  await s.push();
  assert.deepEqual(
    calls.filter((c) => c.path === '/api/v1/sync/push').map((c) => c.body.mutations.map((m) => m.seq)),
    [[1]],
  );
  assert.deepEqual((await store.outbox('u1')).map((e) => e.status), ['done', 'pending']);
  assert.equal((await store.photo('u1', 'late')).status, 'pending');
});

test('an expired token is refreshed once for requests failing together; a refused refresh asks to sign in', async () => {
  const s = session();
  let refreshes = 0;
  const { fetchImpl } = scriptedFetch([
    ['POST', '/api/v1/auth/refresh', () => {
      refreshes += 1;
      return jsonResponse(200, { access_token: 'a2', refresh_token: `r${refreshes + 1}` });
    }],
    ['GET', '/api/v1/me', ({ init }) => (init.headers.authorization === 'Bearer a2' ? jsonResponse(200, { ok: 1 }) : jsonResponse(401, {}))],
  ]);
  const api = new Api({ fetchImpl, session: s, retries: 0 });
  const answers = await Promise.all([api.json('GET', '/api/v1/me'), api.json('GET', '/api/v1/me'), api.json('GET', '/api/v1/me')]);
  assert.deepEqual(answers, [{ ok: 1 }, { ok: 1 }, { ok: 1 }]);
  assert.equal(refreshes, 1, 'a refresh token works once: one refresh for all');
  assert.equal(s.state.refresh, 'r2');

  const revoked = session();
  const { fetchImpl: refusing } = scriptedFetch([
    ['POST', '/api/v1/auth/refresh', () => jsonResponse(401, { title: 'revoked' })],
    ['GET', '/api/v1/me', () => jsonResponse(401, {})],
  ]);
  await assert.rejects(new Api({ fetchImpl: refusing, session: revoked, retries: 0 }).json('GET', '/api/v1/me'), AuthLost);
  assert.equal(revoked.state.lost, true);
});

test('pull: pages with their cursors, progress against the estimate, a replacement sync keeps the outbox', async () => {
  const store = await freshStore();
  await store.enqueue('u1', answer('M1'));
  const pages = [
    { changes: { building: { upsert: [{ id: 'b1', project: 'p1' }, { id: 'b2', project: 'p1' }], delete: [] } }, purge: [], cursor: 'c1', has_more: true, last_mutation_seq: 0, estimate: 3 },
    { changes: { building: { upsert: [{ id: 'b3', project: 'p1' }], delete: [] } }, purge: [], cursor: 'c2', has_more: false, last_mutation_seq: 0, estimate: null },
  ];
  const { fetchImpl, calls } = scriptedFetch([
    ['POST', '/api/v1/sync/pull', ({ body }) => jsonResponse(200, body.cursor === 'c1' ? pages[1] : pages[0])],
  ]);
  const progress = [];
  const report = await syncer(store, fetchImpl).pull((p) => progress.push(p));
  assert.equal(report.upserts, 3);
  assert.deepEqual(progress.map((p) => [p.received, p.total]), [[2, 3], [3, 3]]);
  assert.deepEqual(calls.map((c) => [c.body.cursor, c.body.estimate]), [[null, true], ['c1', false]]);
  assert.equal(await store.meta('u1', 'cursor'), 'c2');

  // the server's tombstones are gone for this tablet: start again, keep the outbox
  const { fetchImpl: resetting } = scriptedFetch([
    ['POST', '/api/v1/sync/pull', ({ body }) => jsonResponse(200, body.cursor === 'c2' ? { reset_required: true, changes: {}, purge: [], cursor: 'r', has_more: false } : pages[1])],
  ]);
  const again = await syncer(store, resetting).pull();
  assert.equal(again.reset, true);
  assert.deepEqual((await store.rows('u1', 'building')).map((b) => b.id), ['b3']);
  assert.equal(await store.countOutbox('u1', 'pending'), 1);
});

test('426 on pull: the app must be updated, and its pushes still go through', async () => {
  const store = await freshStore();
  await store.enqueue('u1', answer('M1'));
  const { fetchImpl } = scriptedFetch([
    ['POST', '/api/v1/sync/pull', () => jsonResponse(426, { title: 'too old' })],
    pushServer(),
  ]);
  const s = syncer(store, fetchImpl);
  assert.equal(await s.push(), 1);
  await assert.rejects(s.pull(), UpgradeRequired);
});

test('an upload cut off is kept and sent again; a store that refuses the bytes for good marks it refused', async () => {
  const store = await freshStore();
  const blob = new Blob([new Uint8Array([9, 9, 9])]);
  await store.addPhoto('u1', { sha256: 'p1', project: 'p1', content_type: 'image/jpeg', size: 3, blob });
  let puts = 0;
  const { fetchImpl, calls } = scriptedFetch([
    ['POST', '/api/v1/evidence/uploads', () => jsonResponse(201, { evidence: {}, upload: { via: 'api', method: 'PUT', url: '/api/v1/evidence/p1' }, complete_url: '/api/v1/evidence/p1/complete' })],
    ['PUT', '/api/v1/evidence/p1', () => {
      puts += 1;
      if (puts === 1) throw new TypeError('connection reset while sending the photo');
      return jsonResponse(200, {});
    }],
    ['POST', '/api/v1/evidence/p1/complete', () => jsonResponse(200, { status: 'stored' })],
  ]);
  const s = syncer(store, fetchImpl);
  s.api.retries = 0;
  assert.equal(await s.uploadPhotos(), 0);
  assert.equal((await store.photo('u1', 'p1')).status, 'pending');
  assert.equal(await s.uploadPhotos(), 1);
  assert.equal((await store.photo('u1', 'p1')).status, 'stored');
  const put = calls.filter((c) => c.method === 'PUT').at(-1);
  assert.equal(put.headers.authorization, 'Bearer a1');
});
