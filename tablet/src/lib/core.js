// The tablet app's state and actions, without any screen: who is signed in, the changes an
// inspector makes (each a named mutation in their outbox), and when sync runs.
import { Api, AuthLost, HttpError, Offline, deviceNow } from './api.js';
import { deviceIdNew, uuidv4, uuidv7 } from './ids.js';
import { Syncer, UpgradeRequired } from './sync.js';
import { answerChange, answersView } from './view.js';

const SYNC_INTERVAL_MS = 60_000;
const MAX_BACKOFF_MS = 10 * 60_000;
const REFERENCE_EVERY_MS = 6 * 3600_000;
const OUTBOX_KEEP_MS = 30 * 24 * 3600_000;
const PBKDF2_ROUNDS = 150_000;
const enc = new TextEncoder();

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function verifier(password, salt) {
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(salt), iterations: PBKDF2_ROUNDS },
    key,
    256,
  );
  return hex(bits);
}

/** The end of a day picked on a date picker, in Beijing time (as the portal's forms do). */
export function endOfDay(date) {
  return `${date}T23:59:59+08:00`;
}

export class SignInError extends Error {}

export class Tablet {
  constructor(store, { base = '', fetchImpl, online = () => navigator.onLine, shrink = null } = {}) {
    this.store = store;
    this.shrink = shrink;
    this.base = base;
    this.fetchImpl = fetchImpl || globalThis.fetch.bind(globalThis);
    this.isOnline = online;
    this.listeners = new Set();
    this.status = {
      online: online(),
      syncing: false,
      progress: null,
      lastSynced: null,
      pending: 0,
      photosPending: 0,
      photosRefused: 0,
      rejected: 0,
      authLost: false,
      upgrade: false,
      error: '',
      storage: null,
      updateReady: false,
    };
    this.user = '';
    this.profile = null;
    this.timer = null;
    this.backoff = 0;
    this.running = null;
    this.lastPosition = null;
  }

  // events for the screens

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  setStatus(change) {
    this.status = { ...this.status, ...change };
    for (const fn of this.listeners) fn(this.status);
  }

  async init() {
    this.deviceId = await this.store.deviceMeta('device_id');
    if (!this.deviceId) {
      this.deviceId = deviceIdNew();
      await this.store.setDeviceMeta('device_id', this.deviceId);
    }
    const current = await this.store.deviceMeta('current_user');
    if (current) await this.useUser(current);
    return this;
  }

  async useUser(user) {
    this.user = user;
    this.profile = user ? await this.store.meta(user, 'profile') : null;
    this.api = new Api({
      base: this.base,
      fetchImpl: this.fetchImpl,
      session: {
        deviceId: this.deviceId,
        tokens: async () => ({
          access: await this.store.meta(user, 'access_token'),
          refresh: await this.store.meta(user, 'refresh_token'),
        }),
        saveTokens: async ({ access, refresh }) => {
          await this.store.setMeta(user, 'access_token', access);
          await this.store.setMeta(user, 'refresh_token', refresh);
        },
        lost: async () => {
          // the refresh token was refused: keep everything, ask the person to sign in again
          await this.store.setMeta(user, 'auth_lost', true);
          this.setStatus({ authLost: true });
        },
      },
    });
    this.syncer = user
      ? new Syncer({ store: this.store, api: this.api, user, deviceId: this.deviceId, shrink: this.shrink })
      : null;
    if (user) {
      const [authLost, lastSynced, upgrade] = await Promise.all([
        this.store.meta(user, 'auth_lost'),
        this.store.meta(user, 'last_synced'),
        this.store.meta(user, 'upgrade_required'),
      ]);
      this.setStatus({ authLost: !!authLost, lastSynced: lastSynced || null, upgrade: !!upgrade });
      // the counts fill the status bar a moment later; the screen need not wait for them
      this.refreshCounts();
    }
    this.setStatus({ user });
  }

  // signing in and out

  async signIn(username, password) {
    username = username.trim();
    let r;
    try {
      r = await this.fetchImpl(this.base + '/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password, device_id: this.deviceId }),
      });
    } catch {
      return this.signInOffline(username, password);
    }
    if (r.status === 429) throw new SignInError('尝试次数过多，请稍后再试');
    if (r.status === 401 || r.status === 422) throw new SignInError('用户名或密码不正确');
    if (!r.ok) throw new SignInError(`服务器暂时无法登录（${r.status}），请稍后再试`);
    const body = await r.json();
    const user = body.user.id;
    const salt = uuidv4();
    await this.store.setMeta(user, 'access_token', body.access_token);
    await this.store.setMeta(user, 'refresh_token', body.refresh_token);
    await this.store.setMeta(user, 'auth_lost', false);
    await this.store.setMeta(user, 'profile', { ...body.user, username: body.user.username || username });
    // lets the same person unlock the app on this tablet while offline
    await this.store.setMeta(user, 'verifier', { salt, hash: await verifier(password, salt) });
    await this.store.setDeviceMeta('current_user', user);
    await this.useUser(user);
    this.askPersistence();
    return user;
  }

  async signInOffline(username, password) {
    const profile = (await this.store.users()).find((p) => p.username === username);
    const known = profile && (await this.store.meta(profile.id, 'verifier'));
    if (!known || (await verifier(password, known.salt)) !== known.hash) {
      throw new SignInError('离线时只能由曾在本平板登录过的用户登录；请检查用户名和密码');
    }
    await this.store.setDeviceMeta('current_user', profile.id);
    await this.useUser(profile.id);
    return profile.id;
  }

  /** Signs out: the server session ends (when reachable); this user's rows, outbox and photos
   * stay on the tablet for their next sign-in. */
  async signOut() {
    const user = this.user;
    if (!user) return;
    this.stop();
    const access = await this.store.meta(user, 'access_token');
    if (access && this.isOnline()) {
      try {
        await this.fetchImpl(this.base + '/api/v1/auth/logout', {
          method: 'POST',
          headers: { authorization: `Bearer ${access}` },
        });
      } catch {
        // offline: the tokens are forgotten here; the session expires on the server by itself
      }
    }
    await this.store.setMeta(user, 'access_token', null);
    await this.store.setMeta(user, 'refresh_token', null);
    await this.store.setDeviceMeta('current_user', '');
    await this.useUser('');
  }

  /** Another person takes the tablet: this one stays signed in (their sync resumes when they
   * come back), the screen asks for the next person's password. */
  async switchUser() {
    this.stop();
    await this.store.setDeviceMeta('current_user', '');
    await this.useUser('');
  }

  // counts for the status bar

  async refreshCounts() {
    if (!this.user) return;
    const [pending, photosPending, photosRefused, rejected] = await Promise.all([
      this.store.countOutbox(this.user, 'pending'),
      this.store.countPhotos(this.user, 'pending'),
      this.store.countPhotos(this.user, 'refused'),
      this.store.countOutbox(this.user, 'rejected'),
    ]);
    this.setStatus({ pending, photosPending, photosRefused, rejected });
  }

  async storage() {
    if (!navigator.storage || !navigator.storage.estimate) return null;
    const { usage, quota } = await navigator.storage.estimate();
    const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    const info = { usage, quota, persisted, nearFull: quota ? usage / quota > 0.8 : false };
    this.setStatus({ storage: info });
    return info;
  }

  /** Ask the browser never to evict this app's data (unsynced work lives only here). */
  async askPersistence() {
    try {
      if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
        await navigator.storage.persist();
      }
    } catch {
      // not offered by this browser
    }
    await this.storage();
  }

  // changes the inspector makes

  async enqueue(name, entityId, args, { baseVersion = null, baseValues = {} } = {}, extra = {}) {
    const entry = await this.store.enqueue(
      this.user,
      { id: uuidv4(), name, entityId, args, baseVersion, baseValues, deviceTs: deviceNow() },
      extra,
    );
    this.store.changed('outbox');
    await this.refreshCounts();
    this.soon();
    return entry;
  }

  async createInspection({ project, template, site, building, workItem, supervisionPoint, occurrence, note }) {
    const id = uuidv7();
    const args = { project_id: project, template_id: template, started_at_device: deviceNow() };
    if (site) args.site_id = site;
    if (building) args.building_id = building;
    if (workItem) args.work_item_id = workItem;
    if (supervisionPoint) args.supervision_point = supervisionPoint;
    if (occurrence) args.occurrence_id = occurrence;
    if (note) args.note = note;
    if (this.lastPosition) args.gps = this.lastPosition;
    await this.enqueue('inspection.create@1', id, args);
    return id;
  }

  /** The answer to one item as this tablet shows it now: the server's row with this user's
   * changes not yet reflected laid over it, read afresh from the store. */
  async currentAnswer(inspectionId, itemCode) {
    const entries = await this.store.outboxFor(this.user, inspectionId);
    const rows = (await this.store.rowsByRef(this.user, 'inspection_answer', inspectionId)).filter(
      (r) => r.item_code === itemCode,
    );
    return answersView(rows, entries)[itemCode] || null;
  }

  /** An answer as the inspector now wants it (`wanted`: the answer's fields), plus photos newly
   * taken for it. Changes are made one at a time, each against the answer as it stands after the
   * one before (a note typed and a photo taken a moment later must not undo each other). */
  setAnswer(inspectionId, itemCode, wanted, newPhotos = []) {
    const run = async () => {
      const shown = await this.currentAnswer(inspectionId, itemCode);
      let { set, base } = answerChange(shown, wanted);
      if (!Object.keys(set).length) {
        if (!newPhotos.length) return null;
        // a photo alone: the command needs a field; the note as it stands changes nothing
        set = { note: shown ? shown.note ?? '' : '' };
        base = { note: set.note };
      }
      return this.enqueue(
        'answer.set@1',
        inspectionId,
        { item_code: itemCode, set, photos: newPhotos },
        { baseVersion: shown && shown.version != null ? shown.version : null, baseValues: base },
      );
    };
    this.answering = (this.answering || Promise.resolve()).then(run, run);
    return this.answering;
  }

  async keepPhoto(photo, { project, owner = '', item = '' }) {
    await this.store.addPhoto(this.user, { ...photo, project, owner, item, taken_at: deviceNow() });
    await this.refreshCounts();
    this.store.changed('photos');
  }

  async submitInspection(inspection, signature) {
    await this.keepPhoto(signature, { project: inspection.project, owner: inspection.id, item: '__signature' });
    const args = { signature_sha256: signature.sha256, submitted_at_device: deviceNow() };
    if (this.lastPosition) args.gps = this.lastPosition;
    return this.enqueue('inspection.submit@1', inspection.id, args);
  }

  async issueOrder(order, deadlineDay, reason = '') {
    const args = { version: order.version, deadline: endOfDay(deadlineDay) };
    if (reason) args.deadline_reason = reason;
    return this.enqueue('order.issue@1', order.id, args);
  }

  async acceptOrder(order, note = '') {
    return this.enqueue('order.accept@1', order.id, { version: order.version, note });
  }

  async rejectOrder(order, reason, deadlineDay) {
    return this.enqueue('order.reject@1', order.id, {
      version: order.version,
      reason,
      deadline: endOfDay(deadlineDay),
    });
  }

  async createBatch(fields) {
    const id = uuidv7();
    await this.enqueue('batch.create@1', id, fields);
    return id;
  }

  async recordSample(batchId, fields) {
    const id = uuidv7();
    await this.enqueue('sample.record@1', id, { batch_id: batchId, ...fields });
    return id;
  }

  /** Send a refused change again as it was (after the cause was fixed elsewhere), or put back a
   * value the server overwrote. */
  async redoRejected(entry) {
    const m = entry.mutation;
    await this.store.updateOutboxEntry(this.user, entry.seq, () => ({ redone: true }));
    return this.enqueue(m.name, m.entity_id, m.args, { baseVersion: null, baseValues: {} });
  }

  async restoreOverwritten(conflict, answer) {
    const lost = JSON.parse(conflict.lost_value);
    const kept = JSON.parse(conflict.kept_value);
    await this.store.setMeta(this.user, `conflict_done:${conflict.id}`, true);
    if (conflict.table_name === 'inspection_answer' && answer) {
      return this.enqueue(
        'answer.set@1',
        answer.inspection,
        { item_code: answer.item_code, set: { [conflict.field]: lost }, photos: [] },
        { baseVersion: answer.version, baseValues: { [conflict.field]: kept } },
      );
    }
    const name = { site: 'site.update@1', building: 'building.update@1', work_item: 'work_item.update@1' }[
      conflict.table_name
    ];
    if (!name) return null;
    return this.enqueue(
      name,
      conflict.record_id,
      { set: { [conflict.field]: lost } },
      { baseValues: { [conflict.field]: kept } },
    );
  }

  // sync

  start() {
    this.stop();
    this.onOnline = () => {
      this.setStatus({ online: true });
      this.backoff = 0;
      this.syncNow();
    };
    this.onOffline = () => this.setStatus({ online: false });
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.schedule(0);
  }

  stop() {
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
    this.timer = null;
    if (this.onOnline) {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.syncNow(), ms);
  }

  /** Sync a moment after a change, so a burst of answers goes in one push. */
  soon() {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.syncNow(), 1500);
  }

  async syncNow() {
    if (!this.user || !this.syncer) return null;
    if (this.running) return this.running;
    const user = this.user;
    const run = async () => {
      const online = this.isOnline();
      this.setStatus({ online });
      if (!online) return null;
      if (this.status.authLost) return null;
      this.setStatus({ syncing: true, error: '' });
      let next = SYNC_INTERVAL_MS;
      try {
        const report = await this.syncOnce(user);
        this.backoff = 0;
        return report;
      } catch (err) {
        next = this.failed(err);
        return null;
      } finally {
        if (this.user === user) {
          this.setStatus({ syncing: false, progress: null });
          await this.refreshCounts();
          this.schedule(next);
        }
      }
    };
    // one sync per user at a time, also across two open tabs of the app
    const locked = navigator.locks ? () => navigator.locks.request(`sync:${user}`, run) : run;
    this.running = locked().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  failed(err) {
    if (err instanceof AuthLost) {
      this.setStatus({ authLost: true, error: '' });
      return SYNC_INTERVAL_MS;
    }
    if (err instanceof UpgradeRequired) {
      this.setStatus({ upgrade: true });
      return SYNC_INTERVAL_MS;
    }
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff ? this.backoff * 2 : 5_000);
    const wait = this.backoff / 2 + Math.random() * (this.backoff / 2);
    if (err instanceof Offline) {
      this.setStatus({ error: '网络不可用，稍后自动重试' });
    } else if (err instanceof HttpError) {
      this.setStatus({ error: `服务器暂时无法同步（${err.status}），稍后自动重试` });
    } else {
      this.setStatus({ error: `同步出错：${err.message || err}` });
      console.error(err);
    }
    return wait;
  }

  async syncOnce(user) {
    const s = this.syncer;
    await s.announcePhotos();
    await this.refreshCounts();
    const pushed = await s.push();
    await this.refreshCounts();
    const photos = await s.uploadPhotos();
    await this.refreshCounts();
    let report = null;
    const pullStarted = performance.now();
    try {
      report = await s.pull((progress) => this.setStatus({ progress }));
      // how long the last pull took, for the status screen and bench/tablet.py
      this.lastPull = { ms: performance.now() - pullStarted, ...report };
      if (this.status.upgrade) {
        await this.store.setMeta(user, 'upgrade_required', false);
        this.setStatus({ upgrade: false });
      }
    } catch (err) {
      if (!(err instanceof UpgradeRequired)) throw err;
      // an app too old to pull still pushes: offline work is never stranded
      await this.store.setMeta(user, 'upgrade_required', true);
      this.setStatus({ upgrade: true });
    }
    const at = new Date().toISOString();
    await this.store.setMeta(user, 'last_synced', at);
    this.setStatus({ lastSynced: at });
    const referenceAt = (await this.store.meta(user, 'reference_at')) || 0;
    if (Date.now() - referenceAt > REFERENCE_EVERY_MS) {
      const projects = (await this.store.rows(user, 'project')).map((p) => p.id);
      await s.reference(projects).catch((err) => console.warn('reference data', err));
    }
    await s.cacheThumbnails(await this.photosToReview(user)).catch(() => 0);
    // the changes the server settled a month ago are history; the server keeps the record
    await this.store.pruneOutbox(user, new Date(Date.now() - OUTBOX_KEEP_MS).toISOString());
    await this.storage();
    return { pushed, photos, report };
  }

  /** Photos of contractors' answers waiting for this inspector's review, to read them offline. */
  async photosToReview(user) {
    const orders = (await this.store.rows(user, 'rectification_order')).filter(
      (o) => o.status === 'responded' && o.issuer === user,
    );
    const shas = [];
    for (const o of orders) {
      for (const link of await this.store.rowsByRef(user, 'evidence_link', o.id)) shas.push(link.sha256);
      for (const response of await this.store.rowsByRef(user, 'order_response', o.id)) {
        for (const link of await this.store.rowsByRef(user, 'evidence_link', response.id)) shas.push(link.sha256);
      }
    }
    return shas;
  }
}

export { Offline, AuthLost };
