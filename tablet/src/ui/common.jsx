// Shared pieces of the screens: the app context, live queries on the local store, Beijing time,
// labels in Chinese.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';

export const AppContext = createContext(null);
export const useApp = () => useContext(AppContext);

/** Run `query()` now and again whenever the local data changes; returns its latest result. */
export function useLive(query, deps = []) {
  const { store } = useApp();
  const [value, setValue] = useState(undefined);
  const generation = useRef(0);
  useEffect(() => {
    let alive = true;
    const run = () => {
      const mine = ++generation.current;
      Promise.resolve(query()).then(
        (v) => alive && mine === generation.current && setValue(v),
        (err) => console.error(err),
      );
    };
    run();
    const off = store.subscribe(run);
    return () => {
      alive = false;
      off();
    };
  }, deps);
  return value;
}

export function useStatus() {
  const { tablet } = useApp();
  const [status, setStatus] = useState(tablet.status);
  useEffect(() => tablet.subscribe(setStatus), []);
  return status;
}

const TZ = 'Asia/Shanghai';
const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});
const dayOnly = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });

/** 2026-11-24 09:30 (Beijing time). */
export function dt(value) {
  if (!value) return '—';
  const parts = Object.fromEntries(dateTime.formatToParts(new Date(value)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** YYYY-MM-DD in Beijing. */
export function day(value = new Date()) {
  return dayOnly.format(new Date(value));
}

export function addDays(dayString, n) {
  const d = new Date(`${dayString}T12:00:00+08:00`);
  d.setUTCDate(d.getUTCDate() + n);
  return day(d);
}

export function ago(value) {
  if (!value) return '从未';
  const minutes = Math.round((Date.now() - new Date(value).getTime()) / 60000);
  if (minutes < 1) return '刚刚';
  if (minutes < 60) return `${minutes} 分钟前`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} 小时前`;
  return dt(value);
}

export const num = (n) => (n == null ? '—' : Number(n).toLocaleString('zh-CN'));

export function bytes(n) {
  if (n == null) return '—';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export const ORDER_STATES = {
  draft: '草稿',
  issued: '已下发',
  responded: '已回复待复查',
  rejected: '已退回',
  closed: '已闭合',
  cancelled: '已撤销',
};
export const ORDER_KINDS = {
  safety: '安全隐患整改',
  quality: '质量问题整改',
  stop_work: '停工通知',
  warranty: '保修整改',
  material: '材料整改',
};
export const INSPECTION_STATES = { draft: '草稿', submitted: '已提交', superseded: '已被修订' };
export const POINT_KINDS = { hold: '停止点', witness: '见证点', side_station: '旁站' };
export const POINT_STATES = { pending: '未开始', started: '进行中', passed: '已通过', failed: '未通过' };
export const BATCH_STATES = {
  awaiting_sampling: '待取样',
  sampling: '取样检测中',
  accepted: '合格',
  rejected: '不合格',
  disposed: '已退场',
};
export const MUTATION_LABELS = {
  'inspection.create@1': '新建检查',
  'answer.set@1': '检查项作答',
  'inspection.submit@1': '提交检查',
  'order.issue@1': '下发整改单',
  'order.accept@1': '复查通过',
  'order.reject@1': '退回整改',
  'order.cancel@1': '撤销整改单',
  'batch.create@1': '材料进场登记',
  'sample.record@1': '见证取样',
  'site.update@1': '修改小区',
  'building.update@1': '修改楼栋',
  'work_item.update@1': '修改改造内容',
};
// Why the server refused a change, by its problem type, in words for the inspector.
export const REFUSALS = {
  validation: '内容不符合要求',
  'not-found': '记录不存在或无权查看',
  forbidden: '没有权限',
  'invalid-transition': '记录状态已变化，不能再这样改',
  'version-conflict': '记录已被他人修改',
  conflict: '与服务器上的记录冲突',
  'mutation-order': '同步顺序错误',
};

export function refusalText(result) {
  if (!result) return '';
  const base = REFUSALS[result.code] || '服务器拒绝了此改动';
  if (result.current_state) return `${base}（服务器上的状态：${ORDER_STATES[result.current_state] || INSPECTION_STATES[result.current_state] || result.current_state}）`;
  return base;
}

export function go(path) {
  location.hash = path;
}

export function Empty({ children }) {
  return <p class="empty">{children}</p>;
}

export function Back({ to, children = '返回' }) {
  return (
    <a class="back" href={`#${to}`}>
      ‹ {children}
    </a>
  );
}
