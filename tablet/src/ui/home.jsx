// 首页 and the way down to the work: my projects → sites (小区) → buildings and work items, with
// each work item's supervision points; today's scheduled inspections; my drafts; orders waiting.
import { Back, Empty, INSPECTION_STATES, ORDER_STATES, POINT_KINDS, POINT_STATES, day, dt, useApp, useLive } from './common.jsx';
import { inspectionView } from '../lib/view.js';

/** Every inspection of this user's that is a draft here (made on this tablet or on the server). */
// a site's buildings listed on its screen; a district-wide site can have thousands
const SHOWN_BUILDINGS = 200;

export async function myDrafts(store, user) {
  const server = (await store.rows(user, 'inspection')).filter((i) => i.status === 'draft' && i.inspector === user);
  const local = (await store.outbox(user)).filter((e) => e.mutation.name === 'inspection.create@1');
  const ids = new Set([...server.map((i) => i.id), ...local.map((e) => e.entity)]);
  const out = [];
  for (const id of ids) {
    const view = inspectionView(await store.row(user, 'inspection', id), await store.outboxFor(user, id));
    if (view && view.status === 'draft') out.push(view);
  }
  return out;
}

export async function planFor(store, user, workType) {
  const plans = (await store.meta(user, 'plans')) || [];
  return plans.find((p) => p.work_type === workType) || null;
}

/** A work item's points in plan order with their state, and the hold points not yet passed. */
export async function pointsOf(store, user, item) {
  const plan = await planFor(store, user, item.work_type);
  if (!plan) return { plan: null, points: [], waiting: [] };
  const states = Object.fromEntries(
    (await store.rowsByRef(user, 'supervision_point_state', item.id)).map((s) => [s.point_code, s]),
  );
  const points = plan.points.map((p) => ({ ...p, state: states[p.code] ? states[p.code].state : 'pending' }));
  return { plan, points, waiting: points.filter((p) => p.kind === 'hold' && p.state !== 'passed') };
}

export function Home() {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(async () => {
    const today = day();
    const projects = await store.rows(user, 'project');
    const memberships = (await store.rows(user, 'membership')).filter((m) => m.user === user);
    const roles = new Set(memberships.map((m) => `${m.project}:${m.role}`));
    const occurrences = (await store.rows(user, 'inspection_occurrence'))
      .filter((o) => o.status === 'due' && o.due_on <= today)
      .filter((o) => o.inspector === user || (!o.inspector && (!o.role || roles.has(`${o.project}:${o.role}`))))
      .sort((a, b) => (a.due_on < b.due_on ? -1 : 1));
    const sites = Object.fromEntries((await store.rows(user, 'site')).map((s) => [s.id, s]));
    const orders = (await store.rows(user, 'rectification_order')).filter(
      (o) => o.issuer === user && o.status === 'responded',
    );
    const drafts = await myDrafts(store, user);
    // hold points (停止点) the work in progress has reached: the next step waits for my inspection
    const holds = [];
    for (const item of (await store.rows(user, 'work_item')).filter((w) => w.status === 'in_progress')) {
      const { points } = await pointsOf(store, user, item);
      const next = points.find((p) => p.state !== 'passed');
      if (next && next.kind === 'hold') holds.push({ item, point: next });
      if (holds.length >= 30) break;
    }
    const templates = Object.fromEntries((await store.rows(user, 'checklist_template')).map((t) => [t.id, t]));
    return { projects, occurrences, sites, orders, drafts, templates, holds };
  }, [user]);
  if (!data) return <p class="muted">正在读取…</p>;
  if (!data.projects.length) {
    return <Empty>还没有同步到任何项目。请联网后点“立即同步”。</Empty>;
  }
  return (
    <div class="home">
      <h1>你好，{tablet.profile && tablet.profile.display_name}</h1>
      <section class="card" data-testid="today">
        <h2>今日巡检计划</h2>
        {data.occurrences.length ? (
          <ul class="rows">
            {data.occurrences.map((o) => (
              <li class="row" key={o.id}>
                <a class="row-link" href={`#/start?project=${o.project}&site=${o.site || ''}&occurrence=${o.id}`}>
                  <span class="row-title">{(data.sites[o.site] || {}).name || '全部小区'}</span>
                  <span class="row-meta">
                    应于 {o.due_on} 完成{o.due_on < day() ? '（已过期）' : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">今天没有待做的巡检。</p>
        )}
      </section>
      <section class="card" data-testid="drafts">
        <h2>我的检查草稿</h2>
        {data.drafts.length ? (
          <ul class="rows">
            {data.drafts.map((i) => (
              <li class="row" key={i.id}>
                <a class="row-link" href={`#/inspection/${i.id}`}>
                  <span class="row-title">
                    {(data.templates[i.template] || {}).title || i.template_code || '检查'}
                  </span>
                  <span class="row-meta">
                    {INSPECTION_STATES[i.status]} · 开始于 {dt(i.started_at_device || i.started_at)}
                    {i.local ? ' · 尚未上传' : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">没有未提交的检查。</p>
        )}
      </section>
      <section class="card" data-testid="hold-points">
        <h2>待验收的停止点</h2>
        {data.holds.length ? (
          <ul class="rows">
            {data.holds.map(({ item, point }) => (
              <li class="row is-hold" key={`${item.id}:${point.code}`}>
                <a
                  class="row-link"
                  href={`#/start?project=${item.project}&site=${item.site}&work_item=${item.id}&point=${point.code}&template=${point.template_code}`}
                >
                  <span class="row-title">{point.title}</span>
                  <span class="row-meta">
                    {item.name} · {(data.sites[item.site] || {}).name || ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">施工中的改造内容没有等待验收的停止点。</p>
        )}
      </section>
      <section class="card" data-testid="to-review">
        <h2>待我复查的整改回复</h2>
        {data.orders.length ? (
          <ul class="rows">
            {data.orders.map((o) => (
              <li class="row" key={o.id}>
                <a class="row-link" href={`#/order/${o.id}`}>
                  <span class="row-title">{o.description}</span>
                  <span class="row-meta">{ORDER_STATES[o.status]}</span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">没有待复查的整改回复。</p>
        )}
      </section>
      <section class="card">
        <h2>我的项目</h2>
        <ul class="rows">
          {data.projects.map((p) => (
            <li class="row" key={p.id}>
              <a class="row-link" href={`#/project/${p.id}`}>
                <span class="row-title">{p.name}</span>
                <span class="row-meta">
                  {p.code} · {p.district}
                </span>
              </a>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

export function ProjectScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(async () => {
    const project = await store.row(user, 'project', id);
    const sites = (await store.rowsByRef(user, 'site', id)).sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    const inspections = (await store.rowsByRef(user, 'inspection', id)).sort((a, b) =>
      (b.started_at || '').localeCompare(a.started_at || ''),
    );
    return { project, sites, inspections: inspections.slice(0, 20) };
  }, [id]);
  if (!data) return null;
  if (!data.project) return <Empty>本机没有这个项目。</Empty>;
  return (
    <div>
      <Back to="/">首页</Back>
      <h1>{data.project.name}</h1>
      <div class="buttons">
        <a class="button primary" href={`#/start?project=${id}`}>
          新建检查
        </a>
      </div>
      <section class="card">
        <h2>小区</h2>
        <ul class="rows">
          {data.sites.map((s) => (
            <li class="row" key={s.id}>
              <a class="row-link" href={`#/site/${s.id}`}>
                <span class="row-title">{s.name}</span>
                <span class="row-meta">
                  {s.address} · {s.building_count ?? '—'} 栋 · {s.households ?? '—'} 户
                </span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section class="card">
        <h2>最近的检查</h2>
        <ul class="rows compact">
          {data.inspections.map((i) => (
            <li class="row" key={i.id}>
              <a class="row-link" href={`#/inspection/${i.id}`}>
                <span class="row-title">{i.template_code}</span>
                <span class="row-meta">
                  {INSPECTION_STATES[i.status]} {i.grade ? `· ${i.grade}` : ''} · {dt(i.submitted_at || i.started_at)}
                </span>
              </a>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

export function SiteScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(async () => {
    const site = await store.row(user, 'site', id);
    const buildings = (await store.rowsByRef(user, 'building', id)).sort((a, b) =>
      a.name.localeCompare(b.name, 'zh-CN', { numeric: true }),
    );
    const items = await store.rowsByRef(user, 'work_item', id);
    const orgs = Object.fromEntries((await store.rows(user, 'organisation')).map((o) => [o.id, o]));
    const withPoints = [];
    for (const item of items) withPoints.push({ ...item, ...(await pointsOf(store, user, item)) });
    return { site, buildings, items: withPoints, orgs };
  }, [id]);
  if (!data) return null;
  if (!data.site) return <Empty>本机没有这个小区。</Empty>;
  const names = Object.fromEntries(data.buildings.map((b) => [b.id, b.name]));
  return (
    <div>
      <Back to={`/project/${data.site.project}`}>项目</Back>
      <h1>{data.site.name}</h1>
      <div class="buttons">
        <a class="button primary" href={`#/start?project=${data.site.project}&site=${id}`}>
          在本小区新建检查
        </a>
      </div>
      <section class="card">
        <h2>改造内容</h2>
        <ul class="rows">
          {data.items.map((w) => (
            <li class="row" key={w.id} data-testid="work-item">
              <a class="row-link" href={`#/work-item/${w.id}`}>
                <span class="row-title">{w.name}</span>
                <span class="row-meta">
                  {w.building ? `${names[w.building] || ''} · ` : ''}
                  {(data.orgs[w.contractor] || {}).name || '未定施工单位'}
                  {w.waiting.length ? ` · 停止点待验收 ${w.waiting.length} 个` : ''}
                </span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section class="card">
        <h2>楼栋</h2>
        <p class="chips">
          {data.buildings.slice(0, SHOWN_BUILDINGS).map((b) => (
            <span class="chip" key={b.id}>
              {b.name}（{b.floors ?? '—'} 层）
            </span>
          ))}
        </p>
        {data.buildings.length > SHOWN_BUILDINGS && (
          <p class="muted">另有 {data.buildings.length - SHOWN_BUILDINGS} 栋未列出</p>
        )}
      </section>
    </div>
  );
}

export function WorkItemScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(async () => {
    const item = await store.row(user, 'work_item', id);
    if (!item) return { item: null };
    const site = await store.row(user, 'site', item.site);
    const org = item.contractor ? await store.row(user, 'organisation', item.contractor) : null;
    return { item, site, org, ...(await pointsOf(store, user, item)) };
  }, [id]);
  if (!data) return null;
  if (!data.item) return <Empty>本机没有这项改造内容。</Empty>;
  const { item } = data;
  const base = `#/start?project=${item.project}&site=${item.site}&work_item=${item.id}`;
  return (
    <div>
      <Back to={`/site/${item.site}`}>{data.site ? data.site.name : '小区'}</Back>
      <h1>{item.name}</h1>
      <p class="muted">施工单位：{data.org ? data.org.name : '未定'}</p>
      <div class="buttons">
        <a class="button" href={base}>
          对本项新建检查
        </a>
      </div>
      <section class="card">
        <h2>监理控制点{data.plan ? `（${data.plan.title}）` : ''}</h2>
        {data.points.length ? (
          <ul class="rows">
            {data.points.map((p) => (
              <li class={`row ${p.kind === 'hold' && p.state !== 'passed' ? 'is-hold' : ''}`} key={p.code}>
                <a class="row-link" href={`${base}&point=${p.code}&template=${p.template_code}`}>
                  <span class="row-title">
                    {POINT_KINDS[p.kind]}：{p.title}
                  </span>
                  <span class="row-meta">
                    {POINT_STATES[p.state] || p.state}
                    {p.photos_required ? ' · 须拍照' : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">此类改造内容没有监理控制点计划。</p>
        )}
      </section>
    </div>
  );
}
