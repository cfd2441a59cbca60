// One user's sync with the server, in the order of the reference client
// (inspection/sync/client.py): announce new photos, push the outbox (its records may cite those
// photos), send the photos' bytes, then pull until the server has nothing more.
import { HttpError, Offline, RETRYABLE, deviceNow } from './api.js';

export const SCHEMA_VERSION = 1;
// Upload answers that mean "try again later" rather than "these bytes will never be accepted".
const UPLOAD_RETRYABLE = new Set([401, 408, 409, 425, 429, 500, 502, 503, 504]);

export class UpgradeRequired extends Error {
  constructor() {
    super('请更新应用');
    this.name = 'UpgradeRequired';
  }
}

/** Why the server refused a photo for good, in words for the inspector. */
export function refusalReason(status, contentType = '') {
  if (status === 415) {
    const kind = contentType.includes('heic') || contentType.includes('heif') ? 'HEIC' : contentType || '未知';
    return `服务器不接受此照片格式（${kind}），请重拍`;
  }
  if (status === 413) return '照片超过服务器允许的大小，请重拍';
  if (status === 422) return '照片无法识别或已损坏，请重拍';
  if (status === 403 || status === 404) return '无权向该项目上传照片';
  return `服务器拒收此照片（${status}），请重拍`;
}

function citedPhotos(mutation) {
  const a = mutation.args || {};
  const out = [...(a.photos || [])];
  if (a.signature_sha256) out.push(a.signature_sha256);
  return out;
}

export class Syncer {
  constructor({
    store,
    api,
    user,
    deviceId,
    pageLimit = 2500,
    maxBytes = 6_000_000,
    pushBatch = 100,
    now = deviceNow,
    shrink = null,
  }) {
    // shrink(blob) → a small copy kept once the server holds the original (null: keep it)
    this.shrink = shrink;
    this.store = store;
    this.api = api;
    this.user = user;
    this.deviceId = deviceId;
    this.pageLimit = pageLimit;
    this.maxBytes = maxBytes;
    this.pushBatch = pushBatch;
    this.now = now;
  }

  // photos: announce

  async announcePhotos() {
    const pending = (await this.store.photos(this.user, 'pending')).filter((p) => !p.announced);
    for (const p of pending) {
      const r = await this.announce(p);
      if (r.ok) continue;
      if (!UPLOAD_RETRYABLE.has(r.status)) await this.refuse(p, refusalReason(r.status, p.content_type));
    }
  }

  async announce(p) {
    const r = await this.api.request('POST', '/api/v1/evidence/uploads', {
      json: {
        sha256: p.sha256,
        project_id: p.project,
        content_type: p.content_type,
        size: p.size,
        original_name: p.name || '',
      },
    });
    if (r.ok) await this.store.updatePhoto(this.user, p.sha256, { announced: true });
    return r;
  }

  /** A photo the server will never take: marked with the reason, and taken out of every change
   * not yet sent that cites it, so the answer itself still goes through (the screen keeps showing
   * the photo on its item as refused, to be retaken). */
  async refuse(p, reason) {
    await this.store.updatePhoto(this.user, p.sha256, { status: 'refused', error: reason });
    for (const entry of await this.store.outbox(this.user, 'pending')) {
      if (entry.sent || !citedPhotos(entry.mutation).includes(p.sha256)) continue;
      await this.store.updateOutboxEntry(this.user, entry.seq, (e) => {
        const args = { ...e.mutation.args, photos: (e.mutation.args.photos || []).filter((s) => s !== p.sha256) };
        return {
          mutation: { ...e.mutation, args },
          refusedPhotos: [...(e.refusedPhotos || []), p.sha256],
        };
      });
    }
    this.store.changed('photos');
  }

  // outbox

  async push() {
    let sent = 0;
    for (;;) {
      const pending = (await this.store.outbox(this.user, 'pending')).sort((a, b) => a.seq - b.seq);
      if (!pending.length) return sent;
      const batch = [];
      for (const entry of pending.slice(0, this.pushBatch)) {
        // a record citing a photo the server has not heard of would be refused: wait for it
        if (!(await this.photosReady(entry.mutation))) break;
        batch.push(entry);
      }
      if (!batch.length) return sent;
      await this.store.markSent(
        this.user,
        batch.map((e) => e.seq),
      );
      const r = await this.api.request('POST', '/api/v1/sync/push', {
        json: {
          device_id: this.deviceId,
          schema_version: SCHEMA_VERSION,
          device_now: this.now(),
          mutations: batch.map((e) => e.mutation),
        },
      });
      const body = await r.json().catch(() => null);
      if (!r.ok) throw new HttpError(r.status, body);
      await this.store.storeResults(this.user, body.results);
      sent += body.results.length;
      this.store.changed('outbox');
      if (batch.length < Math.min(pending.length, this.pushBatch)) return sent;
    }
  }

  async photosReady(mutation) {
    for (const sha of citedPhotos(mutation)) {
      const p = await this.store.photo(this.user, sha);
      if (p && p.status === 'pending' && !p.announced) return false;
    }
    return true;
  }

  // photos: bytes

  async uploadPhotos() {
    let sent = 0;
    const pending = await this.store.photos(this.user, 'pending');
    for (const p of pending) {
      let r;
      try {
        // announcing again is harmless and gives a fresh upload target (presigned URLs expire)
        r = await this.announce(p);
        if (r.ok) {
          const ticket = await r.json();
          if (ticket.upload) {
            r = await this.sendBytes(ticket.upload, p.blob);
            if (r.ok) r = await this.api.request('POST', ticket.complete_url, { json: {} });
          }
        }
      } catch (err) {
        if (!(err instanceof Offline)) throw err;
        await this.store.updatePhoto(this.user, p.sha256, { attempts: p.attempts + 1, error: '网络中断，稍后重试' });
        continue;
      }
      if (r.ok) {
        // the server has verified the bytes: a thumbnail is enough to show it from now on
        const small = this.shrink ? await this.shrink(p.blob).catch(() => null) : null;
        await this.store.updatePhoto(this.user, p.sha256, {
          status: 'stored',
          attempts: p.attempts + 1,
          error: '',
          ...(small ? { blob: small, shrunk: true } : {}),
        });
        sent += 1;
      } else if (UPLOAD_RETRYABLE.has(r.status)) {
        await this.store.updatePhoto(this.user, p.sha256, {
          attempts: p.attempts + 1,
          error: `服务器暂时无法接收（${r.status}），稍后重试`,
        });
      } else {
        await this.refuse(p, refusalReason(r.status, p.content_type));
      }
    }
    if (sent) this.store.changed('photos');
    return sent;
  }

  async sendBytes(target, blob) {
    if (target.via === 'api') {
      return this.api.request(target.method, target.url, { body: blob, headers: { ...(target.headers || {}) } });
    }
    // a presigned URL on the object store: its own headers exactly, and no bearer token
    try {
      return await this.api.fetch(target.url, { method: target.method, headers: target.headers || {}, body: blob });
    } catch {
      throw new Offline();
    }
  }

  // pull

  pullRequest(cursor, estimate) {
    return this.api.request('POST', '/api/v1/sync/pull', {
      json: {
        device_id: this.deviceId,
        schema_version: SCHEMA_VERSION,
        cursor,
        limit: this.pageLimit,
        max_bytes: this.maxBytes,
        device_now: this.now(),
        estimate,
      },
    });
  }

  async readPage(request) {
    const r = await request;
    if (r.status === 426) throw new UpgradeRequired();
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new HttpError(r.status, body);
    return body;
  }

  /** Pull until the server has nothing more. Each page is applied with its cursor in one local
   * transaction; the next page is already being fetched meanwhile. onProgress({received, total}). */
  async pull(onProgress = () => {}) {
    // waitMs: waiting for the server's pages; applyMs: writing them into IndexedDB
    const report = { pages: 0, upserts: 0, deletes: 0, purged: 0, reset: false, waitMs: 0, applyMs: 0 };
    let cursor = await this.store.meta(this.user, 'cursor');
    let next = this.pullRequest(cursor ?? null, true);
    let total = null;
    let received = 0;
    for (let guard = 0; guard < 100_000; guard += 1) {
      const waited = performance.now();
      const page = await this.readPage(next);
      report.waitMs += performance.now() - waited;
      if (page.reset_required) {
        await this.store.resetRows(this.user);
        report.reset = true;
        next = this.pullRequest(null, true);
        continue;
      }
      if (total === null && page.estimate != null) total = page.estimate;
      // fetch the next page while this one is written
      if (page.has_more) next = this.pullRequest(page.cursor, false);
      const applying = performance.now();
      const counts = await this.store.applyPage(this.user, page);
      report.applyMs += performance.now() - applying;
      report.pages += 1;
      report.upserts += counts.upserts;
      report.deletes += counts.deletes;
      report.purged += counts.purged;
      received += counts.upserts + counts.deletes;
      onProgress({ received, total: total === null ? null : Math.max(total, received), done: !page.has_more });
      cursor = page.cursor;
      if (!page.has_more) {
        this.store.changed('rows');
        return report;
      }
    }
    throw new Error('pull did not finish');
  }

  // reference data the app needs offline that is not in the sync buckets

  async reference(projectIds) {
    const plans = await this.api.json('GET', '/api/v1/checklists/plans');
    await this.store.setMeta(this.user, 'plans', plans);
    const materials = await this.api.json('GET', '/api/v1/samples/materials');
    await this.store.setMeta(this.user, 'materials', materials);
    for (const id of projectIds) {
      const members = [];
      for (let offset = 0; ; offset += 100) {
        const r = await this.api.request('GET', `/api/v1/projects/${id}/members?limit=100&offset=${offset}`);
        if (!r.ok) break;
        const page = await r.json();
        members.push(...page.items);
        if (page.items.length < 100) break;
      }
      await this.store.setMeta(this.user, `members:${id}`, members);
    }
    await this.store.setMeta(this.user, 'reference_at', Date.now());
  }

  /** Thumbnails of photos the inspector must look at offline (contractors' answers to review). */
  async cacheThumbnails(shas, limit = 60) {
    let fetched = 0;
    for (const sha of shas) {
      if (fetched >= limit) break;
      if (await this.store.thumb(this.user, sha)) continue;
      if (await this.store.photo(this.user, sha)) continue; // taken on this tablet: the original is here
      const r = await this.api.request('GET', `/api/v1/evidence/${sha}?size=320`, { retries: 1 });
      if (!r.ok) continue;
      await this.store.putThumb(this.user, sha, await r.blob());
      fetched += 1;
    }
    return fetched;
  }
}

export { RETRYABLE };
