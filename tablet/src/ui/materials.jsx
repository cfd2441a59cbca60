// 材料 at witness points: log a batch that arrived (进场), record a witnessed sample (见证取样)
// with its label code, scanned with the camera where the browser has BarcodeDetector, else typed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { stillPending } from '../lib/view.js';
import { Back, BATCH_STATES, Empty, day, dt, go, useApp, useLive } from './common.jsx';
import { deviceNow } from '../lib/api.js';

async function batchesWithLocal(store, user) {
  const rows = await store.rows(user, 'material_batch');
  const byId = Object.fromEntries(rows.map((b) => [b.id, { ...b, waiting: false }]));
  for (const e of await store.outbox(user)) {
    const m = e.mutation;
    if (m.name !== 'batch.create@1' || e.status === 'rejected') continue;
    if (!stillPending(e, byId[m.entity_id])) continue;
    byId[m.entity_id] = {
      id: m.entity_id,
      project: m.args.project_id,
      material: m.args.material,
      quantity: m.args.quantity,
      unit: m.args.unit,
      arrival_date: m.args.arrival_date,
      batch_number: m.args.batch_number || '',
      status: 'awaiting_sampling',
      waiting: true,
    };
  }
  return Object.values(byId).sort((a, b) => String(b.arrival_date).localeCompare(String(a.arrival_date)));
}

export function MaterialsScreen() {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const [project, setProject] = useState('');
  const [adding, setAdding] = useState(false);
  const data = useLive(async () => {
    const projects = await store.rows(user, 'project');
    const materials = ((await store.meta(user, 'materials')) || { materials: [] }).materials;
    return { projects, materials, batches: await batchesWithLocal(store, user) };
  }, [user]);
  useEffect(() => {
    if (data && !project && data.projects.length) setProject(data.projects[0].id);
  }, [data]);
  if (!data) return null;
  const names = Object.fromEntries(data.materials.map((m) => [m.code, m.name]));
  const batches = data.batches.filter((b) => b.project === project);
  return (
    <div>
      <h1>材料进场与见证取样</h1>
      <label class="inline">
        项目
        <select value={project} onChange={(e) => setProject(e.currentTarget.value)}>
          {data.projects.map((p) => (
            <option value={p.id} key={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <div class="buttons">
        <button class="primary" onClick={() => setAdding(!adding)}>
          {adding ? '取消' : '登记进场材料'}
        </button>
      </div>
      {adding && <BatchForm project={project} materials={data.materials} onDone={() => setAdding(false)} />}
      <section class="card">
        <h2>进场批次（{batches.length}）</h2>
        {batches.length ? (
          <ul class="rows">
            {batches.slice(0, 200).map((b) => (
              <li class="row" key={b.id} data-testid="batch-row">
                <a class="row-link" href={`#/batch/${b.id}`}>
                  <span class="row-title">
                    {names[b.material] || b.material} {b.batch_number ? `· 批号 ${b.batch_number}` : ''}
                  </span>
                  <span class="row-meta">
                    {b.quantity} {b.unit} · {b.arrival_date} 进场 · {BATCH_STATES[b.status] || b.status}
                    {b.waiting ? '（待上传）' : ''}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <Empty>本项目还没有登记材料。</Empty>
        )}
      </section>
    </div>
  );
}

function BatchForm({ project, materials, onDone }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const [material, setMaterial] = useState('');
  const [quantity, setQuantity] = useState('');
  const [arrival, setArrival] = useState(day());
  const [batchNumber, setBatchNumber] = useState('');
  const [manufacturer, setManufacturer] = useState('');
  const [workItem, setWorkItem] = useState('');
  const [error, setError] = useState('');
  const items = useLive(async () => {
    const all = await store.rows(user, 'work_item');
    return all.filter((w) => w.project === project).sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
  }, [project]);
  const rule = materials.find((m) => m.code === material);
  async function save(event) {
    event.preventDefault();
    if (!/^\d+(\.\d+)?$/.test(quantity.trim()) || Number(quantity) <= 0) {
      setError('数量须为正数');
      return;
    }
    const fields = {
      project_id: project,
      material,
      quantity: quantity.trim(),
      unit: rule.unit,
      arrival_date: arrival,
    };
    if (batchNumber) fields.batch_number = batchNumber;
    if (manufacturer) fields.manufacturer = manufacturer;
    if (workItem) fields.work_item_id = workItem;
    const id = await tablet.createBatch(fields);
    onDone();
    go(`/batch/${id}`);
  }
  return (
    <form class="card stack" onSubmit={save} data-testid="batch-form">
      <label>
        材料
        <select value={material} onChange={(e) => setMaterial(e.currentTarget.value)} required>
          <option value="">请选择</option>
          {materials.map((m) => (
            <option value={m.code} key={m.code}>
              {m.name}
              {m.grade ? `（${m.grade}）` : ''}
            </option>
          ))}
        </select>
      </label>
      <label>
        数量{rule ? `（${rule.unit}）` : ''}
        <input inputmode="decimal" value={quantity} onInput={(e) => setQuantity(e.currentTarget.value)} required />
      </label>
      <label>
        进场日期
        <input type="date" value={arrival} max={day()} onInput={(e) => setArrival(e.currentTarget.value)} required />
      </label>
      <label>
        用于（改造内容，决定施工单位）
        <select value={workItem} onChange={(e) => setWorkItem(e.currentTarget.value)}>
          <option value="">（不指定）</option>
          {(items || []).map((w) => (
            <option value={w.id} key={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        批号
        <input value={batchNumber} onInput={(e) => setBatchNumber(e.currentTarget.value)} />
      </label>
      <label>
        生产厂家
        <input value={manufacturer} onInput={(e) => setManufacturer(e.currentTarget.value)} />
      </label>
      {error && <p class="bad-text">{error}</p>}
      <button class="primary" type="submit" disabled={!material}>
        保存
      </button>
    </form>
  );
}

/** Reads a label's QR code or barcode with the camera, where the browser can. */
function Scanner({ onCode, onClose }) {
  const video = useRef(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stream = null;
    let stop = false;
    (async () => {
      try {
        const detector = new window.BarcodeDetector();
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        video.current.srcObject = stream;
        await video.current.play();
        while (!stop) {
          const found = await detector.detect(video.current).catch(() => []);
          if (found.length) {
            onCode(found[0].rawValue);
            break;
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      } catch {
        setError('无法使用摄像头扫码，请手工输入标签编号');
      }
    })();
    return () => {
      stop = true;
      if (stream) stream.getTracks().forEach((t) => t.stop());
    };
  }, []);
  return (
    <div class="scanner">
      <video ref={video} playsinline muted />
      {error && <p class="bad-text">{error}</p>}
      <button type="button" onClick={onClose}>
        关闭
      </button>
    </div>
  );
}

export function BatchScreen({ id }) {
  const { store, tablet } = useApp();
  const user = tablet.user;
  const [label, setLabel] = useState('');
  const [sets, setSets] = useState(1);
  const [lab, setLab] = useState('');
  const [witness, setWitness] = useState(user);
  const [scanning, setScanning] = useState(false);
  const [saved, setSaved] = useState('');
  const data = useLive(async () => {
    const batches = await batchesWithLocal(store, user);
    const batch = batches.find((b) => b.id === id);
    if (!batch) return { batch: null };
    const samples = (await store.rowsByRef(user, 'sample', id)).map((s) => ({ ...s, waiting: false }));
    for (const e of await store.outbox(user)) {
      const m = e.mutation;
      if (m.name === 'sample.record@1' && m.args.batch_id === id && e.status !== 'rejected' && stillPending(e, null)) {
        if (!samples.some((s) => s.id === m.entity_id)) {
          samples.push({ id: m.entity_id, label_code: m.args.label_code || '（服务器编号）', sets: m.args.sets, taken_at: m.args.taken_at, verdict: '', waiting: true });
        }
      }
    }
    const labs = (await store.rows(user, 'organisation')).filter((o) => o.kind === 'lab');
    const members = (await store.meta(user, `members:${batch.project}`)) || [];
    const witnesses = members.filter((m) => m.role === 'supervisor' || m.role === 'owner' || m.role === 'inspector');
    const materials = ((await store.meta(user, 'materials')) || { materials: [] }).materials;
    return { batch, samples, labs, witnesses, material: materials.find((m) => m.code === batch.material) };
  }, [id]);
  useEffect(() => {
    if (data && data.labs && !lab && data.labs.length) setLab(data.labs[0].id);
  }, [data]);
  if (!data) return null;
  if (!data.batch) return <Empty>本机没有这个批次。</Empty>;
  const { batch } = data;
  async function record(event) {
    event.preventDefault();
    const fields = { sets: Number(sets), lab_id: lab, taken_at: deviceNow() };
    if (label.trim()) fields.label_code = label.trim();
    if (witness) fields.witness_id = witness;
    await tablet.recordSample(id, fields);
    setLabel('');
    setSaved('已记录见证取样（联网后自动上传）');
  }
  const witnessNames = new Map(data.witnesses.map((m) => [m.user_id, `${m.display_name}（${m.organisation_name || ''}）`]));
  if (!witnessNames.has(user) && tablet.profile) witnessNames.set(user, `${tablet.profile.display_name}（本人）`);
  return (
    <div>
      <Back to="/materials">材料</Back>
      <h1>{data.material ? data.material.name : batch.material}</h1>
      <p class="muted">
        {batch.quantity} {batch.unit} · {batch.arrival_date} 进场 · {BATCH_STATES[batch.status] || batch.status}
        {batch.waiting ? '（待上传）' : ''}
        {batch.required_sets ? ` · 应取样 ${batch.required_sets} 组` : ''}
      </p>
      <section class="card">
        <h2>取样记录</h2>
        {data.samples.length ? (
          <ul class="rows">
            {data.samples.map((s) => (
              <li class="row" key={s.id} data-testid="sample-row">
                <div class="row-body">
                  <span class="row-title">标签 {s.label_code}</span>
                  <span class="row-meta">
                    {s.sets} 组 · {dt(s.taken_at)} {s.verdict ? `· ${s.verdict === 'pass' ? '合格' : s.verdict === 'fail' ? '不合格' : s.verdict}` : ''}
                    {s.waiting ? '（待上传）' : ''}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">还没有取样。</p>
        )}
      </section>
      <form class="card stack" onSubmit={record} data-testid="sample-form">
        <h2>见证取样</h2>
        <label>
          标签编号（留空由服务器编号）
          <span class="with-button">
            <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} pattern="[A-Za-z0-9_.\-/]+" />
            {'BarcodeDetector' in window && (
              <button type="button" onClick={() => setScanning(true)}>
                扫码
              </button>
            )}
          </span>
        </label>
        {scanning && (
          <Scanner
            onCode={(code) => {
              setLabel(code);
              setScanning(false);
            }}
            onClose={() => setScanning(false)}
          />
        )}
        <label>
          组数
          <input type="number" min="1" max="100" value={sets} onInput={(e) => setSets(e.currentTarget.value)} />
        </label>
        <label>
          检测机构
          <select value={lab} onChange={(e) => setLab(e.currentTarget.value)} required>
            {data.labs.map((l) => (
              <option value={l.id} key={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          见证人
          <select value={witness} onChange={(e) => setWitness(e.currentTarget.value)}>
            {[...witnessNames].map(([uid, name]) => (
              <option value={uid} key={uid}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <button class="primary" type="submit" disabled={!lab}>
          记录取样
        </button>
        {saved && <p role="status">{saved}</p>}
      </form>
    </div>
  );
}
