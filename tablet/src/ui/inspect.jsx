// Starting an inspection and filling it in, item by item, offline: pass / fail / not applicable,
// JGJ 59 deductions, measured values with their unit and tolerance, counts, notes, photos from
// the camera, conditional items, a drawn signature, and the submit.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  ANSWER_LABELS,
  CLASS_LABELS,
  KIND_LABELS,
  isAnswered,
  looksFailed,
  parseTemplate,
  submitProblems,
  valuesOf,
  visibleItems,
} from '../lib/checklist.js';
import { canvasPhoto, currentPosition, preparePhoto } from '../lib/photos.js';
import { answersView, inspectionView } from '../lib/view.js';
import { Back, Empty, INSPECTION_STATES, ORDER_KINDS, ORDER_STATES, dt, go, useApp, useLive } from './common.jsx';
import { Photo } from './photo.jsx';

/** The latest version of every checklist template, by code. */
export async function latestTemplates(store, user) {
  const latest = {};
  for (const t of await store.rows(user, 'checklist_template')) {
    if (!latest[t.code] || latest[t.code].version_number < t.version_number) latest[t.code] = t;
  }
  return Object.values(latest).sort((a, b) => a.code.localeCompare(b.code));
}

export function StartScreen({ query }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const project = query.get('project');
  const [site, setSite] = useState(query.get('site') || '');
  const [workItem, setWorkItem] = useState(query.get('work_item') || '');
  const [building, setBuilding] = useState('');
  const point = query.get('point') || '';
  const occurrence = query.get('occurrence') || '';
  const [template, setTemplate] = useState('');
  const [busy, setBusy] = useState(false);
  const data = useLive(async () => {
    const templates = await latestTemplates(store, user);
    const sites = await store.rowsByRef(user, 'site', project);
    return { templates, sites, projectRow: await store.row(user, 'project', project) };
  }, [project]);
  const places = useLive(async () => {
    if (!site) return { items: [], buildings: [] };
    return {
      items: await store.rowsByRef(user, 'work_item', site),
      buildings: await store.rowsByRef(user, 'building', site),
    };
  }, [site]);
  useEffect(() => {
    if (data && !template && query.get('template')) {
      const t = data.templates.find((x) => x.code === query.get('template'));
      if (t) setTemplate(t.id);
    }
  }, [data]);
  if (!data) return null;
  if (!data.projectRow) return <Empty>本机没有这个项目。</Empty>;
  async function start() {
    setBusy(true);
    const id = await tablet.createInspection({
      project,
      template,
      site: site || null,
      building: building || null,
      workItem: workItem || null,
      supervisionPoint: point || null,
      occurrence: occurrence || null,
    });
    go(`/inspection/${id}`);
  }
  const groups = {};
  for (const t of data.templates) (groups[t.kind] = groups[t.kind] || []).push(t);
  return (
    <div>
      <Back to={`/project/${project}`}>{data.projectRow.name}</Back>
      <h1>新建检查</h1>
      <div class="card stack">
        <label>
          小区
          <select value={site} onChange={(e) => setSite(e.currentTarget.value)} disabled={!!occurrence && !!site}>
            <option value="">（不指定小区）</option>
            {data.sites.map((s) => (
              <option value={s.id} key={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        {places && places.items.length > 0 && (
          <label>
            改造内容（决定整改单发给哪个施工单位）
            <select value={workItem} onChange={(e) => setWorkItem(e.currentTarget.value)} disabled={!!point}>
              <option value="">（不指定）</option>
              {places.items.map((w) => (
                <option value={w.id} key={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {places && places.buildings.length > 0 && (
          <label>
            楼栋
            <select value={building} onChange={(e) => setBuilding(e.currentTarget.value)}>
              <option value="">（不指定）</option>
              {places.buildings.map((b) => (
                <option value={b.id} key={b.id}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {point && <p class="muted">监理控制点：{point}</p>}
      </div>
      <h2>选择检查表</h2>
      {Object.entries(groups).map(([kind, list]) => (
        <section class="card" key={kind}>
          <h3>{KIND_LABELS[kind] || kind}</h3>
          <div class="choices">
            {list.map((t) => (
              <label class={`choice ${template === t.id ? 'chosen' : ''}`} key={t.id}>
                <input
                  type="radio"
                  name="template"
                  value={t.id}
                  checked={template === t.id}
                  onChange={() => setTemplate(t.id)}
                />
                <span>{t.title}</span>
                <small>
                  {t.standard} · 第 {t.version_number} 版
                </small>
              </label>
            ))}
          </div>
        </section>
      ))}
      <div class="sticky-actions">
        <button class="primary" disabled={!template || busy} onClick={start}>
          开始检查
        </button>
      </div>
    </div>
  );
}

function fmtNumber(v) {
  return v == null ? '' : String(v);
}

function parseNumbers(text) {
  const parts = text
    .split(/[\s,，、;；]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const values = parts.map(Number);
  return values.some((v) => Number.isNaN(v)) ? null : values;
}

/** A text or number input that keeps what the inspector is typing: the stored answer (which
 * catches up a moment after each change) only replaces the value when the field is not in use. */
function Field({ value, onCommit, inputRef, ...props }) {
  const own = useRef(null);
  const ref = inputRef || own;
  useEffect(() => {
    const el = ref.current;
    if (el && document.activeElement !== el) el.value = value ?? '';
  }, [value]);
  return <input ref={ref} defaultValue={value ?? ''} onChange={(e) => onCommit(e.currentTarget.value)} {...props} />;
}

const CLEAR = { value: null, deduction: null, measured: null, unit: null, checked: null, passed: null };

function Choice({ current, value, label, onPick, testid }) {
  return (
    <button
      type="button"
      class={`choice-btn ${current === value ? 'on' : ''} ${value === 'fail' || value === 'no' ? 'neg' : ''}`}
      aria-pressed={current === value ? 'true' : 'false'}
      data-testid={testid}
      onClick={() => onPick(value)}
    >
      {label}
    </button>
  );
}

function Item({ item, answer, editable, onAnswer, onPhotos, refusedHere, needsPhoto }) {
  const a = answer || {};
  const cameraRef = useRef(null);
  const [measureError, setMeasureError] = useState('');
  const checkedRef = useRef(null);
  const passedRef = useRef(null);
  const na = a.value === 'na';
  const pick = (value) => onAnswer({ ...CLEAR, value });
  const answered = isAnswered(item, a);
  const failed = looksFailed(item, a);
  const lo = item.tolerance_min;
  const hi = item.tolerance_max;
  const bounds = lo != null && hi != null ? `${lo} ~ ${hi}` : lo != null ? `不小于 ${lo}` : `不大于 ${hi}`;
  const tolerance =
    item.answer === 'measured' ? `允许${item.measure === 'value' ? '范围' : '偏差'} ${bounds} ${item.unit}` : '';
  return (
    <li
      class={`item ${answered ? 'answered' : ''} ${failed ? 'failed' : ''}`}
      data-testid="item"
      data-code={item.code}
      id={`item-${item.code}`}
    >
      <div class="item-head">
        <span class="code">{item.code}</span>
        <span class="item-text">{item.text}</span>
        <span class="tags">
          {CLASS_LABELS[item.cls] || item.cls}
          {item.points ? ` · ${item.points} 分` : ''}
          {item.major_hazard ? ' · 重大隐患项' : ''}
          {item.photo_on_failure ? ' · 不合格须拍照' : ''}
        </span>
      </div>
      {item.answer === 'pass_fail' && (
        <div class="choices-row">
          {['pass', 'fail', 'na'].map((v) => (
            <Choice
              key={v}
              current={a.value}
              value={v}
              label={ANSWER_LABELS[v]}
              onPick={editable ? pick : () => {}}
              testid={`answer-${v}`}
            />
          ))}
        </div>
      )}
      {item.answer === 'yes_no' && (
        <div class="choices-row">
          {['yes', 'no'].map((v) => (
            <Choice key={v} current={a.value} value={v} label={ANSWER_LABELS[v]} onPick={editable ? pick : () => {}} />
          ))}
        </div>
      )}
      {item.answer === 'deduction' && (
        <div class="choices-row">
          <label class="inline">
            扣分（0–{item.points}）
            <Field
              type="number"
              inputmode="decimal"
              min="0"
              max={item.points}
              step="0.5"
              data-testid="deduction"
              disabled={!editable || na}
              value={na ? '' : fmtNumber(a.deduction)}
              onCommit={(text) => {
                const v = Number(text);
                if (text === '' || Number.isNaN(v)) return;
                onAnswer({ ...CLEAR, deduction: Math.min(item.points, Math.max(0, v)) });
              }}
            />
          </label>
          {(item.deductions || []).length > 0 && editable && (
            <div class="chips">
              {item.deductions.map((d, i) => (
                <button
                  key={i}
                  type="button"
                  class="chip"
                  onClick={() =>
                    onAnswer({ ...CLEAR, deduction: Math.min(item.points, (na ? 0 : a.deduction || 0) + d.points) })
                  }
                >
                  {d.text}（扣 {d.points}
                  {d.per ? `/${d.per}` : ''}）
                </button>
              ))}
            </div>
          )}
          <Choice current={a.value} value="na" label="不适用" onPick={editable ? pick : () => {}} />
        </div>
      )}
      {item.answer === 'measured' && (
        <div class="choices-row">
          <label class="inline grow">
            实测值（{item.unit}，多个值用顿号或空格分隔）
            <Field
              inputmode="decimal"
              data-testid="measured"
              disabled={!editable || na}
              value={na ? '' : (a.measured || []).join('、')}
              onCommit={(text) => {
                const values = parseNumbers(text);
                if (!values || !values.length) {
                  setMeasureError('请填写数字');
                  return;
                }
                setMeasureError('');
                onAnswer({ ...CLEAR, measured: values, unit: item.unit });
              }}
            />
          </label>
          <span class="muted">{tolerance}</span>
          <Choice current={a.value} value="na" label="不适用" onPick={editable ? pick : () => {}} />
          {measureError && <span class="bad-text">{measureError}</span>}
        </div>
      )}
      {item.answer === 'count' && (
        <div class="choices-row">
          {[
            ['checked', '抽查处数', checkedRef],
            ['passed', '合格处数', passedRef],
          ].map(([field, label, ref]) => (
            <label class="inline" key={field}>
              {label}
              <Field
                type="number"
                inputmode="numeric"
                min="0"
                step="1"
                inputRef={ref}
                data-testid={`count-${field}`}
                disabled={!editable || na}
                value={na ? '' : fmtNumber(a[field])}
                onCommit={() => {
                  // a count is both figures as typed on this screen; half of one is not an answer
                  const checked = parseInt(checkedRef.current.value, 10);
                  const passed = parseInt(passedRef.current.value, 10);
                  if (Number.isNaN(checked) || Number.isNaN(passed)) return;
                  onAnswer({ ...CLEAR, checked, passed });
                }}
              />
            </label>
          ))}
          <Choice current={a.value} value="na" label="不适用" onPick={editable ? pick : () => {}} />
        </div>
      )}
      {item.answer === 'text' && (
        <textarea
          rows="2"
          disabled={!editable}
          value={a.text || ''}
          onChange={(e) => onAnswer({ ...CLEAR, text: e.currentTarget.value })}
        />
      )}
      {answered && (
        <label class="note">
          备注
          <Field
            data-testid="note"
            disabled={!editable}
            value={a.note || ''}
            onCommit={(text) => onAnswer({ note: text })}
          />
        </label>
      )}
      <div class="photos-row">
        {(a.photos || []).map((sha) => (
          <Photo key={sha} sha={sha} onRetake={editable ? () => cameraRef.current && cameraRef.current.click() : null} />
        ))}
        {refusedHere
          .filter((p) => !(a.photos || []).includes(p.sha256))
          .map((p) => (
            <Photo key={p.sha256} sha={p.sha256} onRetake={editable ? () => cameraRef.current.click() : null} />
          ))}
        {editable && answered && (
          <label class={`camera button ${needsPhoto ? 'needed' : ''}`}>
            拍照{needsPhoto ? '（必需）' : ''}
            <input
              ref={cameraRef}
              type="file"
              accept="image/*"
              capture="environment"
              multiple
              data-testid="camera"
              onChange={(e) => {
                const files = [...e.currentTarget.files];
                e.currentTarget.value = '';
                if (files.length) onPhotos(files);
              }}
            />
          </label>
        )}
      </div>
      {a.pending && <span class="pending-mark">待上传</span>}
      {a.result && !a.pending && (
        <span class={`verdict ${a.result}`}>服务器判定：{ANSWER_LABELS[a.result] || a.result}</span>
      )}
    </li>
  );
}

function Signature({ onChange }) {
  const ref = useRef(null);
  const drawing = useRef(false);
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    const canvas = ref.current;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = canvas.clientWidth * ratio;
    canvas.height = canvas.clientHeight * ratio;
    const ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    ctx.lineWidth = 2.5;
    ctx.lineCap = 'round';
    ctx.strokeStyle = '#111';
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }, []);
  const point = (e) => {
    const r = ref.current.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  return (
    <div class="signature">
      <canvas
        ref={ref}
        data-testid="signature"
        aria-label="签名区"
        onPointerDown={(e) => {
          drawing.current = true;
          ref.current.setPointerCapture(e.pointerId);
          const ctx = ref.current.getContext('2d');
          ctx.beginPath();
          ctx.moveTo(...point(e));
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          const ctx = ref.current.getContext('2d');
          ctx.lineTo(...point(e));
          ctx.stroke();
          if (!drawn) {
            setDrawn(true);
            onChange(ref.current);
          }
        }}
        onPointerUp={() => {
          drawing.current = false;
        }}
      />
      <button
        type="button"
        class="small"
        onClick={() => {
          const canvas = ref.current;
          const ctx = canvas.getContext('2d');
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          setDrawn(false);
          onChange(null);
        }}
      >
        清除签名
      </button>
    </div>
  );
}

async function loadInspection(store, user, id) {
  const entries = await store.outboxFor(user, id);
  const server = await store.row(user, 'inspection', id);
  const inspection = inspectionView(server, entries);
  if (!inspection) return { inspection: null };
  const templateRow = await store.row(user, 'checklist_template', inspection.template);
  const serverAnswers = await store.rowsByRef(user, 'inspection_answer', id);
  const linked = {};
  for (const a of serverAnswers) {
    linked[a.id] = (await store.rowsByRef(user, 'evidence_link', a.id)).map((l) => l.sha256);
  }
  const answers = answersView(serverAnswers, entries, linked);
  const photos = await store.photosOf(user, id);
  const answerIds = serverAnswers.map((a) => a.id);
  const orders = answerIds.length
    ? (await store.rowsByRef(user, 'rectification_order', inspection.project)).filter(
        (o) => o.source_table === 'inspection_answer' && answerIds.includes(o.source_id),
      )
    : [];
  const place = {
    site: inspection.site ? await store.row(user, 'site', inspection.site) : null,
    workItem: inspection.work_item ? await store.row(user, 'work_item', inspection.work_item) : null,
    building: inspection.building ? await store.row(user, 'building', inspection.building) : null,
  };
  const rejected = entries.filter((e) => e.status === 'rejected' && !e.redone);
  return { inspection, templateRow, answers, photos, orders, place, rejected };
}

export function InspectionScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const data = useLive(() => loadInspection(store, user, id), [id]);
  const template = useMemo(() => (data && data.templateRow ? parseTemplate(data.templateRow) : null), [data && data.templateRow]);
  const [signature, setSignature] = useState(null);
  const [submitting, setSubmitting] = useState(false);
  const [message, setMessage] = useState('');
  useEffect(() => {
    // where the inspector stands, for the record and for photos without GPS of their own
    currentPosition().then((p) => p && (tablet.lastPosition = p));
  }, []);
  if (!data) return <p class="muted">正在打开检查…</p>;
  if (!data.inspection) return <Empty>本机没有这次检查。</Empty>;
  if (!template) return <Empty>本机没有这次检查所用的检查表，请联网同步。</Empty>;
  const { inspection, answers } = data;
  const editable = inspection.status === 'draft';
  const shown = visibleItems(template, valuesOf(answers));
  const photoStatus = Object.fromEntries(data.photos.map((p) => [p.sha256, p]));
  const usable = (sha) => !photoStatus[sha] || photoStatus[sha].status !== 'refused';
  const problems = submitProblems(template, answers, { signature: editable ? signature : true, usable });

  async function answer(code, wanted) {
    await tablet.setAnswer(id, code, wanted);
  }
  async function addPhotos(code, files) {
    const gps = tablet.lastPosition;
    const shas = [];
    for (const file of files) {
      const photo = await preparePhoto(file, { gps });
      await tablet.keepPhoto(photo, { project: inspection.project, owner: id, item: code });
      shas.push(photo.sha256);
    }
    await tablet.setAnswer(id, code, {}, shas);
  }
  async function submit() {
    setSubmitting(true);
    try {
      const photo = await canvasPhoto(signature, `签名-${id}.png`);
      await tablet.submitInspection(inspection, photo);
      setMessage('已提交。联网后自动上传，服务器评分后显示在这里。');
    } finally {
      setSubmitting(false);
    }
  }
  const place = [data.place.site && data.place.site.name, data.place.building && data.place.building.name, data.place.workItem && data.place.workItem.name]
    .filter(Boolean)
    .join(' · ');
  const score = inspection.score ? JSON.parse(inspection.score) : null;
  return (
    <div class="inspection" data-testid="inspection">
      <Back to="/">首页</Back>
      <h1>{template.title}</h1>
      <p class="muted">
        {place || '未指定位置'} · {INSPECTION_STATES[inspection.status] || inspection.status}
        {inspection.waiting ? '（待上传）' : ''} · 开始于 {dt(inspection.started_at_device || inspection.started_at)}
        {inspection.supervision_point ? ` · 控制点 ${inspection.supervision_point}` : ''}
      </p>
      {data.rejected.length > 0 && (
        <div class="banner bad">
          服务器拒绝了本次检查的 {data.rejected.length} 项改动，详见 <a href="#/sync">同步与冲突</a>。
        </div>
      )}
      {inspection.status === 'submitted' && !inspection.waiting && (
        <section class="card result" data-testid="server-result">
          <h2>服务器评定</h2>
          <p>
            {inspection.total != null && <span>得分 {Number(inspection.total).toFixed(1)}　</span>}
            等级：<strong data-testid="grade">{inspection.grade || '—'}</strong>
          </p>
          <p class="muted">
            检查时间 {dt(inspection.started_at_device || inspection.started_at)} 至{' '}
            {dt(inspection.submitted_at_device || inspection.submitted_at)}
          </p>
          {score && score.details && score.details.orders_not_opened && (
            <p class="muted">未指定改造内容，以下不合格项未生成整改单：{score.details.orders_not_opened.join('、')}</p>
          )}
          {data.orders.length > 0 && (
            <>
              <h3>本次检查生成的整改单</h3>
              <ul class="rows" data-testid="orders-opened">
                {data.orders.map((o) => (
                  <li class="row" key={o.id}>
                    <a class="row-link" href={`#/order/${o.id}`}>
                      <span class="row-title">{o.description}</span>
                      <span class="row-meta">
                        {ORDER_KINDS[o.kind] || o.kind} · {ORDER_STATES[o.status]}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}
      {template.sections.map((section) => {
        const items = template.items.filter((i) => i.section === section.code && shown.has(i.code));
        if (!items.length) return null;
        return (
          <section class="card" key={section.code}>
            <h2>{section.title}</h2>
            <ul class="items">
              {items.map((item) => {
                const a = answers[item.code];
                const refusedHere = data.photos.filter((p) => p.item === item.code && p.status === 'refused');
                const needsPhoto =
                  item.photo_on_failure && looksFailed(item, a) && !((a && a.photos) || []).some(usable);
                return (
                  <Item
                    key={item.code}
                    item={item}
                    answer={a}
                    editable={editable}
                    refusedHere={refusedHere}
                    needsPhoto={needsPhoto}
                    onAnswer={(wanted) => answer(item.code, wanted)}
                    onPhotos={(files) => addPhotos(item.code, files)}
                  />
                );
              })}
            </ul>
          </section>
        );
      })}
      {editable && (
        <section class="card submit" data-testid="submit-area">
          <h2>签名并提交</h2>
          <Signature onChange={setSignature} />
          {problems.length > 0 && (
            <ul class="problems" data-testid="problems">
              {problems.slice(0, 12).map((p, i) => (
                <li key={i}>
                  {p.item ? <a href={`#/inspection/${id}`} onClick={(e) => {
                    e.preventDefault();
                    document.getElementById(`item-${p.item}`)?.scrollIntoView({ block: 'center' });
                  }}>{p.text}</a> : p.text}
                </li>
              ))}
              {problems.length > 12 && <li>…另有 {problems.length - 12} 项</li>}
            </ul>
          )}
          <button class="primary" disabled={problems.length > 0 || submitting} onClick={submit}>
            提交检查
          </button>
        </section>
      )}
      {message && (
        <p class="banner info" role="status">
          {message}
        </p>
      )}
    </div>
  );
}
