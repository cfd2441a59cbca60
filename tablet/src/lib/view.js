// What a screen shows: the server's rows with the user's own changes laid over them until the
// server's copy includes them. Pure functions over plain data (unit-tested in Node).

export const ANSWER_FIELDS = ['value', 'deduction', 'measured', 'unit', 'checked', 'passed', 'text', 'note', 'flagged'];

/** An answer row in the terms the tablet edits and the server merges (answer.set's base_values):
 * measured as a list, empty strings as null. */
export function answerFields(row) {
  if (!row) return Object.fromEntries(ANSWER_FIELDS.map((k) => [k, null]));
  const out = {};
  for (const k of ANSWER_FIELDS) out[k] = row[k] ?? null;
  if (typeof out.measured === 'string') out.measured = out.measured ? JSON.parse(out.measured) : null;
  if (Array.isArray(out.measured) && out.measured.length === 0) out.measured = null;
  for (const k of ['value', 'unit']) out[k] = out[k] || null;
  return out;
}

/** Does the server's copy already include what this outbox entry did? Until it does, the entry is
 * laid over the row: pending ones always; sent ones until a pull brings the row at (or past) the
 * version the server answered with. Refused ones never (they are listed for the user instead). */
export function stillPending(entry, serverRow) {
  if (entry.status === 'rejected') return false;
  if (entry.status === 'pending') return true;
  const version = entry.result && entry.result.version;
  if (version == null) return !serverRow;
  return !serverRow || (serverRow.version ?? -1) < version;
}

/** The inspection as the inspector sees it now: the server's row, or the draft made on this
 * tablet, with a local submission shown as submitted (waiting for sync). */
export function inspectionView(serverRow, entries) {
  let view = serverRow ? { ...serverRow, local: false } : null;
  for (const e of entries) {
    const m = e.mutation;
    if (m.name === 'inspection.create@1' && !serverRow && e.status !== 'rejected') {
      view = { ...localInspection(m), local: true };
    } else if (m.name === 'inspection.submit@1' && view && e.status !== 'rejected' && view.status === 'draft') {
      view = {
        ...view,
        status: 'submitted',
        submitted_at_device: m.args.submitted_at_device,
        signature_sha256: m.args.signature_sha256,
        waiting: true,
      };
    }
  }
  return view;
}

function localInspection(m) {
  const a = m.args;
  return {
    id: m.entity_id,
    project: a.project_id,
    site: a.site_id ?? null,
    building: a.building_id ?? null,
    work_item: a.work_item_id ?? null,
    template: a.template_id ?? null,
    template_code: a.template_code ?? '',
    supervision_point: a.supervision_point ?? '',
    occurrence_id: a.occurrence_id ?? null,
    status: 'draft',
    started_at_device: a.started_at_device,
    started_at: null,
    submitted_at: null,
    note: a.note ?? '',
    grade: '',
    total: null,
    version: null,
  };
}

/** Answers by item code: the server's rows with this user's answer.set entries laid over them in
 * order. Each view carries `photos` (server-linked and locally added) and `pending`. */
export function answersView(serverAnswers, entries, linkedPhotos = {}) {
  const byCode = {};
  for (const row of serverAnswers) {
    byCode[row.item_code] = {
      ...answerFields(row),
      item_code: row.item_code,
      id: row.id,
      version: row.version,
      result: row.result || '',
      serious: !!row.serious,
      photos: [...(linkedPhotos[row.id] || [])],
      pending: false,
      server: row,
    };
  }
  for (const e of entries) {
    const m = e.mutation;
    if (m.name !== 'answer.set@1') continue;
    const code = m.args.item_code;
    const current = byCode[code];
    if (!stillPending(e, current && current.server)) continue;
    const base = current || { ...answerFields(null), item_code: code, id: null, version: null, photos: [], server: null };
    const photos = [...base.photos];
    for (const sha of m.args.photos || []) if (!photos.includes(sha)) photos.push(sha);
    for (const sha of e.refusedPhotos || []) if (!photos.includes(sha)) photos.push(sha);
    const merged = { ...base, ...m.args.set, photos, pending: true, at: m.device_ts };
    // as the server stores a new answer: no note is an empty one, no flag is false
    if (merged.note == null) merged.note = '';
    if (merged.flagged == null) merged.flagged = false;
    byCode[code] = merged;
  }
  return byCode;
}

// The fields that together make an item's finding; the note and the flag stand on their own.
const FINDING = ['value', 'deduction', 'measured', 'unit', 'checked', 'passed', 'text'];

/** What a new answer.set sends and the base it was made on. The finding goes whole (a count is
 * its points checked and passed together, so every mutation is an answer the server can check on
 * its own); note and flag only when they changed, so the server's three-way merge keeps another
 * tablet's note while this one changes the finding. */
export function answerChange(shown, wanted) {
  const set = {};
  const base = {};
  const before = (k) => (shown ? shown[k] ?? null : null);
  const same = (k) => JSON.stringify(before(k)) === JSON.stringify(wanted[k] ?? null);
  const finding = FINDING.filter((k) => k in wanted);
  if (finding.some((k) => !same(k))) {
    for (const k of finding) {
      set[k] = wanted[k] ?? null;
      base[k] = before(k);
    }
  }
  for (const k of ['note', 'flagged']) {
    if (k in wanted && !same(k)) {
      set[k] = wanted[k] ?? null;
      base[k] = before(k);
    }
  }
  return { set, base };
}

/** The sync conflicts still waiting for someone, newest first: one a supervisor or inspector has
 * resolved on the server (resolved_at set, the value chosen in `resolution`, as ODK Central marks
 * them) is done, and the record itself already carries the value that stands. */
export function openConflicts(rows) {
  return rows
    .filter((c) => !c.resolved_at)
    .sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
}
