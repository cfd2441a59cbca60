// The tablet's local database (IndexedDB through idb): each user's copy of their sync buckets,
// their outbox, their photos, and small per-user settings. Everything is keyed by user first, so
// several people on one tablet never see each other's data or outbox.
import { openDB, unwrap } from 'idb';

export const DB_NAME = 'siteinspect-tablet';
export const DB_VERSION = 1;
const NO_USER = '';

// Which field of a synced row says what it belongs to, for the screens' lookups
// (answers of an inspection, links of a record, buildings of a site …).
const REF_FIELD = {
  inspection_answer: 'inspection',
  evidence_link: 'record_id',
  order_response: 'order',
  order_event: 'order',
  sample: 'batch',
  sample_result: 'sample',
  building: 'site',
  work_item: 'site',
  site: 'project',
  supervision_point_state: 'work_item',
  inspection: 'project',
  rectification_order: 'project',
  material_batch: 'project',
  inspection_occurrence: 'project',
  sync_conflict: 'record_id',
  membership: 'project',
};

/** What the row belongs to, or undefined: a row without it stays out of the index (one write less). */
export function refOf(tbl, data) {
  const field = REF_FIELD[tbl];
  const value = field ? data[field] : null;
  return value == null ? undefined : String(value);
}

export function projectOf(tbl, data) {
  if (tbl === 'project') return String(data.id);
  return data.project == null ? '' : String(data.project);
}

export async function openStore(name = DB_NAME, idbFactory = undefined) {
  if (idbFactory) globalThis.indexedDB = globalThis.indexedDB || idbFactory;
  const db = await openDB(name, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('meta', { keyPath: ['user', 'key'] });
      // A first sync writes tens of thousands of rows, so each is stored as cheaply as IndexedDB
      // allows: the server's row itself, flat (a nested object costs a third more to store), with
      // its user, table, project and reference in four extra fields, and one index only (a
      // table's rows are a range of the key; a purge scans, it is rare).
      const rows = db.createObjectStore('rows', { keyPath: ['_u', '_t', 'id'] });
      rows.createIndex('ref', ['_u', '_t', '_r']);
      const outbox = db.createObjectStore('outbox', { keyPath: ['user', 'seq'] });
      outbox.createIndex('status', ['user', 'status']);
      outbox.createIndex('entity', ['user', 'entity']);
      const photos = db.createObjectStore('photos', { keyPath: ['user', 'sha256'] });
      photos.createIndex('status', ['user', 'status']);
      photos.createIndex('owner', ['user', 'owner']);
      db.createObjectStore('thumbs', { keyPath: ['user', 'sha256'] });
    },
    blocking() {
      // a newer version of the app wants to upgrade the database: let it
      db.close();
    },
  });
  return new Store(db);
}

export class Store {
  constructor(db) {
    this.db = db;
    this.listeners = new Set();
  }

  // change notification for the screens: (what) => void
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(what) {
    for (const fn of this.listeners) fn(what);
  }

  // meta

  async meta(user, key) {
    const found = await this.db.get('meta', [user, key]);
    return found ? found.value : undefined;
  }

  async setMeta(user, key, value) {
    await this.db.put('meta', { user, key, value });
  }

  async deviceMeta(key) {
    return this.meta(NO_USER, key);
  }

  async setDeviceMeta(key, value) {
    return this.setMeta(NO_USER, key, value);
  }

  // rows

  async row(user, tbl, id) {
    return (await this.db.get('rows', [user, tbl, String(id)])) || null;
  }

  async rows(user, tbl) {
    return this.db.getAll('rows', IDBKeyRange.bound([user, tbl], [user, tbl, []]));
  }

  async rowsByRef(user, tbl, ref) {
    return this.db.getAllFromIndex('rows', 'ref', [user, tbl, String(ref)]);
  }

  async countRows(user) {
    const range = IDBKeyRange.bound([user], [user, []]);
    return this.db.count('rows', range);
  }

  /** One pull page and its cursor, in ONE transaction: a crash between pages resumes from the
   * last page applied, never from a cursor ahead of the rows it stands for. */
  async applyPage(user, page) {
    const tx = this.db.transaction(['rows', 'meta'], 'readwrite', { durability: 'relaxed' });
    try {
      return await this.writePage(tx, user, page);
    } catch (err) {
      // nothing of a page that failed half-way may stay: its cursor would skip the rest
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await tx.done.catch(() => {});
      throw err;
    }
  }

  async writePage(tx, user, page) {
    const rows = tx.objectStore('rows');
    const counts = { upserts: 0, deletes: 0, purged: 0 };
    for (const purge of page.purge || []) {
      if (!purge.project_id) continue;
      const project = String(purge.project_id);
      let cursor = await rows.openCursor(IDBKeyRange.bound([user], [user, []]));
      while (cursor) {
        if (cursor.value._p === project) {
          cursor.delete();
          counts.purged += 1;
        }
        cursor = await cursor.continue();
      }
    }
    // the bare IndexedDB store: thousands of puts without a promise each; a failing request
    // aborts the whole transaction, and `tx.done` reports it
    const raw = unwrap(rows);
    for (const [tbl, change] of Object.entries(page.changes || {})) {
      for (const data of change.upsert || []) {
        data._u = user;
        data._t = tbl;
        data._p = projectOf(tbl, data);
        const ref = refOf(tbl, data);
        if (ref !== undefined) data._r = ref;
        raw.put(data);
        counts.upserts += 1;
      }
      for (const id of change.delete || []) {
        raw.delete([user, tbl, String(id)]);
        counts.deletes += 1;
      }
    }
    const meta = unwrap(tx.objectStore('meta'));
    meta.put({ user, key: 'cursor', value: page.cursor });
    meta.put({ user, key: 'server_mutation_seq', value: page.last_mutation_seq ?? 0 });
    await tx.done;
    return counts;
  }

  /** Replacement sync: forget this user's copy (never their outbox or photos) and their cursor. */
  async resetRows(user) {
    const tx = this.db.transaction(['rows', 'meta'], 'readwrite');
    await tx.objectStore('rows').delete(IDBKeyRange.bound([user], [user, []]));
    await tx.objectStore('meta').put({ user, key: 'cursor', value: null });
    await tx.done;
  }

  // outbox

  /** Append a mutation with the next device sequence number. `extra` is stored beside it (not
   * sent) for the screens. Returns the stored entry. */
  async enqueue(user, { name, entityId, args, baseVersion = null, baseValues = {}, deviceTs, id }, extra = {}) {
    if (!user) throw new Error('sign in first');
    const tx = this.db.transaction(['outbox', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    const outbox = tx.objectStore('outbox');
    const made = (await meta.get([user, 'last_seq_made']))?.value || 0;
    const last = await outbox.openCursor(IDBKeyRange.bound([user, 0], [user, Infinity]), 'prev');
    const seq = Math.max(made, last ? last.value.seq : 0) + 1;
    const mutation = {
      seq,
      id,
      name,
      entity_id: entityId == null ? null : String(entityId),
      base_version: baseVersion,
      base_values: baseValues,
      args,
      device_ts: deviceTs,
    };
    const entry = {
      user,
      seq,
      entity: mutation.entity_id || '',
      mutation,
      status: 'pending',
      sent: false,
      result: null,
      ...extra,
    };
    await outbox.put(entry);
    await meta.put({ user, key: 'last_seq_made', value: seq });
    await tx.done;
    return entry;
  }

  async outbox(user, status = undefined) {
    if (status) return this.db.getAllFromIndex('outbox', 'status', [user, status]);
    return this.db.getAll('outbox', IDBKeyRange.bound([user, 0], [user, Infinity]));
  }

  async outboxFor(user, entity) {
    const found = await this.db.getAllFromIndex('outbox', 'entity', [user, String(entity)]);
    return found.sort((a, b) => a.seq - b.seq);
  }

  async countOutbox(user, status = 'pending') {
    return this.db.countFromIndex('outbox', 'status', [user, status]);
  }

  /** Mark entries as sent before the request leaves: from then on their payload is frozen (the
   * server compares a retried mutation with what it stored under that sequence number). */
  async markSent(user, seqs) {
    const tx = this.db.transaction('outbox', 'readwrite');
    for (const seq of seqs) {
      const entry = await tx.store.get([user, seq]);
      if (entry && !entry.sent) await tx.store.put({ ...entry, sent: true });
    }
    await tx.done;
  }

  async storeResults(user, results) {
    const tx = this.db.transaction('outbox', 'readwrite');
    for (const result of results) {
      const entry = await tx.store.get([user, result.seq]);
      if (!entry) continue;
      const status = result.status === 'rejected' ? 'rejected' : 'done';
      await tx.store.put({ ...entry, status, result, sent: true });
    }
    await tx.done;
  }

  /** Forget changes the server settled before `before` (ISO time): applied ones, and refused ones
   * the user has dealt with. Pending ones and refusals still on screen are never removed. */
  async pruneOutbox(user, before) {
    const limit = new Date(before).getTime();
    const tx = this.db.transaction('outbox', 'readwrite');
    let cursor = await tx.store.openCursor(IDBKeyRange.bound([user, 0], [user, Infinity]));
    let removed = 0;
    while (cursor) {
      const e = cursor.value;
      const settled = e.status === 'done' || (e.status === 'rejected' && e.redone);
      if (settled && new Date(e.mutation.device_ts).getTime() < limit) {
        await cursor.delete();
        removed += 1;
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return removed;
  }

  async updateOutboxEntry(user, seq, change) {
    const tx = this.db.transaction('outbox', 'readwrite');
    const entry = await tx.store.get([user, seq]);
    if (entry) await tx.store.put({ ...entry, ...change(entry) });
    await tx.done;
  }

  // photos

  async addPhoto(user, photo) {
    const key = [user, photo.sha256];
    const tx = this.db.transaction('photos', 'readwrite');
    const existing = await tx.store.get(key);
    if (!existing) {
      await tx.store.put({
        user,
        status: 'pending',
        announced: false,
        attempts: 0,
        error: '',
        owner: '',
        ...photo,
      });
    }
    await tx.done;
  }

  async photo(user, sha256) {
    return this.db.get('photos', [user, sha256]);
  }

  async photos(user, status = undefined) {
    if (status) return this.db.getAllFromIndex('photos', 'status', [user, status]);
    return this.db.getAll('photos', IDBKeyRange.bound([user], [user, []]));
  }

  async photosOf(user, owner) {
    return this.db.getAllFromIndex('photos', 'owner', [user, String(owner)]);
  }

  async updatePhoto(user, sha256, change) {
    const tx = this.db.transaction('photos', 'readwrite');
    const found = await tx.store.get([user, sha256]);
    if (found) await tx.store.put({ ...found, ...change });
    await tx.done;
  }

  async countPhotos(user, status = 'pending') {
    return this.db.countFromIndex('photos', 'status', [user, status]);
  }

  // thumbnails of the server's photos, kept for reading orders offline

  async thumb(user, sha256) {
    return this.db.get('thumbs', [user, sha256]);
  }

  async putThumb(user, sha256, blob) {
    await this.db.put('thumbs', { user, sha256, blob, size: blob.size });
  }

  /** Users who have used this tablet, for the sign-in screen. */
  async users() {
    const found = await this.db.getAll('meta');
    return found.filter((m) => m.key === 'profile' && m.user).map((m) => m.value);
  }
}
