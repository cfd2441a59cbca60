// Checklist templates on the tablet: which items show (the template's `when` conditions), how an
// item is answered, and what must be done before a submit. Mirrors
// inspection/checklists/templates.py (visible_items) and service.py (the submit checks).

export function parseTemplate(row) {
  const content = typeof row.content === 'string' ? JSON.parse(row.content) : row.content;
  const byCode = {};
  for (const item of content.items) byCode[item.code] = item;
  return { ...content, id: row.id, version_number: row.version_number, byCode };
}

function matches(cond, values) {
  return !cond || values[cond.item] === cond.equals;
}

/** Codes of the items shown, given the answers so far (item code → pass/fail/na/yes/no). */
export function visibleItems(template, values) {
  const sections = new Set(template.sections.filter((s) => matches(s.when, values)).map((s) => s.code));
  return new Set(template.items.filter((i) => sections.has(i.section) && matches(i.when, values)).map((i) => i.code));
}

export function valuesOf(answers) {
  const out = {};
  for (const [code, a] of Object.entries(answers)) if (a && a.value) out[code] = a.value;
  return out;
}

export function isAnswered(item, a) {
  if (!a) return false;
  if (a.value === 'na') return true;
  switch (item.answer) {
    case 'pass_fail':
      return a.value === 'pass' || a.value === 'fail';
    case 'yes_no':
      return a.value === 'yes' || a.value === 'no';
    case 'deduction':
      return typeof a.deduction === 'number';
    case 'measured':
      return Array.isArray(a.measured) && a.measured.length > 0 && !!a.unit;
    case 'count':
      return Number.isInteger(a.checked) && Number.isInteger(a.passed);
    case 'text':
      return !!(a.text && a.text.trim());
    default:
      return false;
  }
}

/** Does a measured value lie within the item's tolerance? (deviation or value, as the template says) */
export function withinTolerance(item, value) {
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  const lo = item.tolerance_min;
  const hi = item.tolerance_max;
  return (lo == null || value >= lo) && (hi == null || value <= hi);
}

/** The tablet's own idea of an item failing, to ask for a photo before the server scores it:
 * a pass/fail "fail", a deduction above zero, a measured value outside tolerance, a count with a
 * point not passed. The server's verdict is the record. */
export function looksFailed(item, a) {
  if (!a || a.value === 'na') return false;
  switch (item.answer) {
    case 'pass_fail':
      return a.value === 'fail';
    case 'deduction':
      return typeof a.deduction === 'number' && a.deduction > 0;
    case 'measured':
      return Array.isArray(a.measured) && a.measured.some((v) => withinTolerance(item, v) === false);
    case 'count':
      return Number.isInteger(a.checked) && Number.isInteger(a.passed) && a.passed < a.checked;
    default:
      return false;
  }
}

/** What stops a submit, in Chinese, item by item: unanswered items shown, failures that need a
 * photo without a usable one, and the signature. `usable(sha)` says whether a photo still counts
 * (a photo the server refused does not). */
export function submitProblems(template, answers, { signature, usable = () => true } = {}) {
  const shown = visibleItems(template, valuesOf(answers));
  const problems = [];
  for (const item of template.items) {
    if (!shown.has(item.code)) continue;
    const a = answers[item.code];
    if (item.answer !== 'text' && !isAnswered(item, a)) {
      problems.push({ item: item.code, text: `${item.code} 尚未作答` });
      continue;
    }
    if (item.photo_on_failure && looksFailed(item, a) && !(a.photos || []).some(usable)) {
      problems.push({ item: item.code, text: `${item.code} 不合格，须附照片` });
    }
  }
  if (!signature) problems.push({ item: '', text: '请检查人签名' });
  return problems;
}

export const ANSWER_LABELS = {
  pass: '合格',
  fail: '不合格',
  na: '不适用',
  yes: '是',
  no: '否',
};

export const KIND_LABELS = { safety: '安全检查（JGJ 59）', quality: '质量验收（GB 50300）', passfail: '专项检查' };
export const CLASS_LABELS = { guarantee: '保证项目', general: '一般项目', main: '主控项目', check: '检查项', info: '记录' };
