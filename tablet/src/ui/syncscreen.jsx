// 同步与冲突: what the server overwrote (both values, who and when) or refused (the reason in
// Chinese), each with a way to redo it; photos waiting or refused; the tablet's storage.
import { useEffect } from 'preact/hooks';
import { Empty, MUTATION_LABELS, bytes, dt, num, refusalText, useApp, useLive, useStatus } from './common.jsx';
import { openConflicts } from '../lib/view.js';
import { Photo } from './photo.jsx';

const FIELD_LABELS = {
  value: '结论',
  deduction: '扣分',
  measured: '实测值',
  unit: '单位',
  checked: '抽查处数',
  passed: '合格处数',
  text: '文字',
  note: '备注',
  flagged: '标记',
  name: '名称',
  households: '户数',
  floors: '层数',
  status: '状态',
};
const VALUE_LABELS = { pass: '合格', fail: '不合格', na: '不适用', yes: '是', no: '否' };

function shown(json) {
  let v;
  try {
    v = JSON.parse(json);
  } catch {
    v = json;
  }
  if (v == null || v === '') return '（空）';
  if (Array.isArray(v)) return v.join('、');
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${FIELD_LABELS[k] || k}：${x}`).join('；');
  return VALUE_LABELS[v] || String(v);
}

export function SyncScreen() {
  const { store, tablet } = useApp();
  const status = useStatus();
  const user = tablet.user;
  useEffect(() => {
    tablet.storage();
  }, []);
  const data = useLive(async () => {
    const conflicts = [];
    for (const c of openConflicts(await store.rows(user, 'sync_conflict'))) {
      if (await store.meta(user, `conflict_done:${c.id}`)) continue;
      const answer = c.table_name === 'inspection_answer' ? await store.row(user, 'inspection_answer', c.record_id) : null;
      const members = (await store.meta(user, `members:${c.project}`)) || [];
      const who = members.find((m) => m.user_id === c.lost_by);
      conflicts.push({ ...c, answer, who: who ? who.display_name : c.lost_by === user ? '我' : '另一位用户' });
      if (conflicts.length >= 100) break;
    }
    const rejected = (await store.outbox(user, 'rejected')).filter((e) => !e.redone).sort((a, b) => b.seq - a.seq);
    const photos = (await store.photos(user)).filter((p) => p.status !== 'stored');
    return { conflicts, rejected, photos };
  }, [user]);
  if (!data) return null;
  return (
    <div>
      <h1>同步与冲突</h1>
      <section class="card" data-testid="conflicts">
        <h2>被覆盖的值（{data.conflicts.length}）</h2>
        {data.conflicts.length ? (
          <ul class="rows">
            {data.conflicts.map((c) => (
              <li class="row" key={c.id} data-testid="conflict">
                <div class="row-body">
                  <span class="row-title">
                    {c.answer ? `检查项 ${c.answer.item_code}` : c.table_name} · {FIELD_LABELS[c.field] || c.field || '记录'}
                  </span>
                  <span class="row-meta">
                    现在的值：<strong data-testid="kept">{shown(c.kept_value)}</strong>（{c.who}，{dt(c.updated_at)}
                    {c.lost_device ? `，设备 ${c.lost_device}` : ''}）
                  </span>
                  <span class="row-meta">
                    被覆盖的值：<strong data-testid="lost">{shown(c.lost_value)}</strong>
                    {c.reason === 'entity_deleted' ? '（记录已在服务器上删除）' : ''}
                  </span>
                </div>
                <div class="row-actions">
                  {c.reason === 'overwritten' && (
                    <button class="small" onClick={() => tablet.restoreOverwritten(c, c.answer)}>
                      恢复被覆盖的值
                    </button>
                  )}
                  <button class="small" onClick={() => store.setMeta(user, `conflict_done:${c.id}`, true).then(() => store.changed('meta'))}>
                    知道了
                  </button>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">没有被覆盖的值。</p>
        )}
      </section>
      <section class="card" data-testid="refusals">
        <h2>服务器拒绝的改动（{data.rejected.length}）</h2>
        {data.rejected.length ? (
          <ul class="rows">
            {data.rejected.map((e) => (
              <li class="row" key={e.seq} data-testid="refusal">
                <div class="row-body">
                  <span class="row-title">{MUTATION_LABELS[e.mutation.name] || e.mutation.name}</span>
                  <span class="row-meta">
                    {refusalText(e.result)} · {dt(e.mutation.device_ts)}
                    {e.mutation.args && e.mutation.args.item_code ? ` · 检查项 ${e.mutation.args.item_code}` : ''}
                  </span>
                </div>
                <div class="row-actions">
                  <button class="small" onClick={() => tablet.redoRejected(e)}>
                    重做
                  </button>
                  <button
                    class="small"
                    onClick={() =>
                      store.updateOutboxEntry(user, e.seq, () => ({ redone: true })).then(() => store.changed('outbox'))
                    }
                  >
                    放弃
                  </button>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">没有被拒绝的改动。</p>
        )}
      </section>
      <section class="card" data-testid="photo-queue">
        <h2>照片</h2>
        <p>
          待上传 {num(status.photosPending)} 张 · 被拒 {num(status.photosRefused)} 张
        </p>
        <div class="photos-row">
          {data.photos.map((p) => (
            <div key={p.sha256}>
              <Photo sha={p.sha256} />
              <small class="muted">
                {p.item && p.item !== '__signature' ? `检查项 ${p.item}` : p.item === '__signature' ? '签名' : ''}
                {p.status === 'pending' && p.error ? ` · ${p.error}` : ''}
              </small>
            </div>
          ))}
        </div>
        {!data.photos.length && <Empty>所有照片都已上传。</Empty>}
      </section>
      <section class="card" data-testid="storage">
        <h2>本机存储</h2>
        {status.storage ? (
          <>
            <p>
              已用 {bytes(status.storage.usage)} / 可用 {bytes(status.storage.quota)}
              {status.storage.persisted ? ' · 已设为持久存储（浏览器不会自动清除）' : ' · 未设为持久存储'}
            </p>
            {!status.storage.persisted && (
              <button class="small" onClick={() => tablet.askPersistence()}>
                申请持久存储
              </button>
            )}
          </>
        ) : (
          <p class="muted">此浏览器不提供存储用量。</p>
        )}
        <p class="muted">
          设备编号 {tablet.deviceId} · 应用版本 {globalThis.__APP_VERSION__ || '开发版'}
        </p>
      </section>
    </div>
  );
}
