// 整改单: issue the drafts my inspections opened (deadline from a date picker), review a
// contractor's answer with before and after photos side by side, accept or send back with a
// reason and a new deadline. Offline too: each is a named command in the outbox.
import { useState } from 'preact/hooks';
import { stillPending } from '../lib/view.js';
import { Back, Empty, ORDER_KINDS, ORDER_STATES, addDays, day, dt, refusalText, useApp, useLive } from './common.jsx';
import { Photo } from './photo.jsx';

const REVIEWS = { accepted: '通过', rejected: '退回' };
const MOVES = { 'order.issue@1': 'issued', 'order.accept@1': 'closed', 'order.reject@1': 'rejected' };

/** An order with this user's commands not yet reflected by the server laid over its state. */
export function orderView(row, entries) {
  let view = { ...row, waiting: false, refused: null };
  for (const e of entries) {
    const target = MOVES[e.mutation.name];
    if (!target) continue;
    if (e.status === 'rejected') {
      if (!e.redone) view.refused = e;
      continue;
    }
    if (stillPending(e, row)) view = { ...view, status: target, waiting: true };
  }
  return view;
}

async function myOrders(store, user) {
  const rows = await store.rows(user, 'rectification_order');
  const mine = rows.filter((o) => o.issuer === user || (o.status === 'draft' && o.created_by === user));
  const out = [];
  for (const o of mine) out.push(orderView(o, await store.outboxFor(user, o.id)));
  return out;
}

function OrderRow({ o, orgs }) {
  return (
    <li class={`row ${o.status === 'responded' ? 'is-todo' : ''}`} data-testid="order-row">
      <a class="row-link" href={`#/order/${o.id}`}>
        <span class="row-title">{o.description}</span>
        <span class="row-meta">
          {ORDER_KINDS[o.kind] || o.kind} · {ORDER_STATES[o.status]}
          {o.waiting ? '（待上传）' : ''} · {(orgs[o.contractor] || {}).name || ''}
          {o.deadline ? ` · 期限 ${dt(o.deadline)}` : ''}
        </span>
      </a>
    </li>
  );
}

export function OrdersScreen() {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(async () => {
    const orders = await myOrders(store, user);
    const orgs = Object.fromEntries((await store.rows(user, 'organisation')).map((o) => [o.id, o]));
    return { orders, orgs };
  }, [user]);
  if (!data) return null;
  const groups = [
    ['待复查的整改回复', (o) => o.status === 'responded'],
    ['待下发的整改单草稿', (o) => o.status === 'draft'],
    ['已下发、等待施工单位整改', (o) => o.status === 'issued' || o.status === 'rejected'],
    ['已闭合', (o) => o.status === 'closed'],
  ];
  return (
    <div>
      <h1>我的整改单</h1>
      {groups.map(([title, keep]) => {
        const list = data.orders.filter(keep);
        return (
          <section class="card" key={title}>
            <h2>
              {title}（{list.length}）
            </h2>
            {list.length ? (
              <ul class="rows">
                {list.slice(0, 100).map((o) => (
                  <OrderRow o={o} orgs={data.orgs} key={o.id} />
                ))}
              </ul>
            ) : (
              <p class="muted">无</p>
            )}
          </section>
        );
      })}
    </div>
  );
}

function PhotoColumn({ title, shas }) {
  return (
    <div class="photo-column">
      <h3>{title}</h3>
      {shas.length ? (
        <div class="photos-row">
          {shas.map((sha) => (
            <Photo key={sha} sha={sha} label={title} />
          ))}
        </div>
      ) : (
        <p class="muted">无照片</p>
      )}
    </div>
  );
}

export function OrderScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const [deadline, setDeadline] = useState(addDays(day(), 7));
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [done, setDone] = useState('');
  const data = useLive(async () => {
    const row = await store.row(user, 'rectification_order', id);
    if (!row) return { order: null };
    const order = orderView(row, await store.outboxFor(user, id));
    const before = (await store.rowsByRef(user, 'evidence_link', id)).map((l) => l.sha256);
    const responses = (await store.rowsByRef(user, 'order_response', id)).sort((a, b) => a.round - b.round);
    const after = {};
    for (const r of responses) after[r.id] = (await store.rowsByRef(user, 'evidence_link', r.id)).map((l) => l.sha256);
    const org = await store.row(user, 'organisation', row.contractor);
    const site = row.site ? await store.row(user, 'site', row.site) : null;
    const item = row.work_item ? await store.row(user, 'work_item', row.work_item) : null;
    return { order, before, responses, after, org, site, item };
  }, [id]);
  if (!data) return null;
  if (!data.order) return <Empty>本机没有这张整改单。</Empty>;
  const { order } = data;
  const latest = data.responses[data.responses.length - 1];
  const mine = order.issuer === user || order.created_by === user;
  async function act(what) {
    if (what === 'issue') await tablet.issueOrder(order, deadline, reason);
    if (what === 'accept') await tablet.acceptOrder(order, note);
    if (what === 'reject') await tablet.rejectOrder(order, reason, deadline);
    setDone({ issue: '整改单已下发', accept: '已复查通过，整改单闭合', reject: '已退回整改' }[what] + '（联网后自动上传）');
  }
  return (
    <div class="order" data-testid="order">
      <Back to="/orders">整改单</Back>
      <h1>{ORDER_KINDS[order.kind] || order.kind}</h1>
      <p class="badges">
        <span class={`state state-${order.status}`} data-testid="order-state">
          {ORDER_STATES[order.status]}
        </span>
        {order.waiting && <span class="state">待上传</span>}
        {order.severity === 'major' && <span class="state overdue">重大</span>}
      </p>
      {order.refused && (
        <p class="banner bad">服务器拒绝了上次的操作：{refusalText(order.refused.result)}。可在“同步与冲突”中重做。</p>
      )}
      <dl class="facts">
        <dt>问题</dt>
        <dd class="description">{order.description}</dd>
        <dt>施工单位</dt>
        <dd>{data.org ? data.org.name : '—'}</dd>
        <dt>位置</dt>
        <dd>{[data.site && data.site.name, data.item && data.item.name].filter(Boolean).join(' · ') || '—'}</dd>
        <dt>整改期限</dt>
        <dd>{order.deadline ? dt(order.deadline) : '下发时按规定确定'}</dd>
      </dl>
      <section class="card side-by-side" data-testid="photos-compare">
        <PhotoColumn title="整改前" shas={data.before} />
        <PhotoColumn title="整改后" shas={latest ? data.after[latest.id] || [] : []} />
      </section>
      {data.responses.map((r) => (
        <section class="card" key={r.id} data-testid="response">
          <h3>
            第 {r.round} 次回复 · {dt(r.responded_at)}
            {r.device_responded_at ? `（现场 ${dt(r.device_responded_at)}）` : ''}
          </h3>
          <p class="description">{r.text}</p>
          {REVIEWS[r.review] && (
            <p class="muted">
              复查：{REVIEWS[r.review]} {r.review_note}
            </p>
          )}
        </section>
      ))}
      {mine && !order.waiting && order.status === 'draft' && (
        <section class="card stack" data-testid="issue-form">
          <h2>下发整改单</h2>
          <label>
            整改期限
            <input type="date" value={deadline} min={day()} onInput={(e) => setDeadline(e.currentTarget.value)} />
          </label>
          <label>
            期限说明（可选）
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button class="primary" onClick={() => act('issue')} disabled={!deadline}>
            下发
          </button>
        </section>
      )}
      {mine && !order.waiting && order.status === 'responded' && (
        <section class="card stack" data-testid="review-form">
          <h2>复查</h2>
          <label>
            复查意见（可选）
            <input value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <button class="primary" onClick={() => act('accept')}>
            复查通过，闭合
          </button>
          <hr />
          <label>
            退回理由
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <label>
            新的整改期限
            <input type="date" value={deadline} min={day()} onInput={(e) => setDeadline(e.currentTarget.value)} />
          </label>
          <button class="danger" onClick={() => act('reject')} disabled={!reason.trim() || !deadline}>
            退回整改
          </button>
        </section>
      )}
      {done && (
        <p class="banner info" role="status">
          {done}
        </p>
      )}
    </div>
  );
}
