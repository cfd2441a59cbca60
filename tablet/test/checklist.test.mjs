// Checklist rules on the tablet: conditional items (`when`), what counts as answered, what must
// be fixed before a submit. The same cases as the server's rules (templates.visible_items and the
// submit checks in inspection/checklists/service.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isAnswered, looksFailed, parseTemplate, submitProblems, visibleItems, withinTolerance } from '../src/lib/checklist.js';

const template = parseTemplate({
  id: 't1',
  version_number: 1,
  content: {
    code: 'x',
    kind: 'quality',
    title: '测试',
    sections: [
      { code: 'main', title: '主控项目', when: null },
      { code: 'platform', title: '卸料平台', when: { item: 'Q1', equals: 'yes' } },
    ],
    items: [
      { code: 'Q1', section: 'main', cls: 'info', answer: 'yes_no', text: '有卸料平台吗', when: null },
      { code: 'M1', section: 'main', cls: 'main', answer: 'pass_fail', text: '防水层', photo_on_failure: true, when: null },
      { code: 'M2', section: 'main', cls: 'main', answer: 'measured', unit: 'mm', tolerance_min: -10, tolerance_max: 10, text: '搭接宽度', when: null },
      { code: 'P1', section: 'platform', cls: 'main', answer: 'pass_fail', text: '平台限载', when: null },
      { code: 'N1', section: 'main', cls: 'general', answer: 'count', text: '抽查', when: { item: 'M1', equals: 'fail' } },
      { code: 'R', section: 'main', cls: 'info', answer: 'text', text: '备注', when: null },
    ],
  },
});

test('conditional sections and items show only for the answer they wait for', () => {
  assert.deepEqual([...visibleItems(template, {})].sort(), ['M1', 'M2', 'Q1', 'R']);
  assert.deepEqual([...visibleItems(template, { Q1: 'yes', M1: 'fail' })].sort(), ['M1', 'M2', 'N1', 'P1', 'Q1', 'R']);
});

test('answered, failed and tolerance by answer type', () => {
  const m2 = template.byCode.M2;
  assert.equal(isAnswered(m2, { measured: [1, 2], unit: 'mm' }), true);
  assert.equal(isAnswered(m2, { measured: [], unit: 'mm' }), false);
  assert.equal(isAnswered(m2, { value: 'na' }), true);
  assert.equal(withinTolerance(m2, 10), true);
  assert.equal(withinTolerance(m2, 10.5), false);
  assert.equal(looksFailed(m2, { measured: [1, -11], unit: 'mm' }), true);
  assert.equal(looksFailed(template.byCode.N1, { checked: 10, passed: 9 }), true);
});

test('before a submit: every item shown answered, a photo for a failure that needs one, a signature', () => {
  const answers = {
    Q1: { value: 'no' },
    M1: { value: 'fail', photos: ['refused-heic'] },
    M2: { measured: [2], unit: 'mm' },
  };
  const usable = (sha) => sha !== 'refused-heic';
  const problems = submitProblems(template, answers, { signature: null, usable }).map((p) => p.text);
  assert.deepEqual(problems, ['M1 不合格，须附照片', 'N1 尚未作答', '请检查人签名']);
  answers.M1.photos.push('good');
  answers.N1 = { checked: 5, passed: 5 };
  assert.deepEqual(submitProblems(template, answers, { signature: 'sig', usable }), []);
});

test('the shipped templates parse on the tablet (the server stores them as this JSON)', () => {
  // one template as the server sends it in checklist_template.content (canonical JSON)
  const content = JSON.parse(readFileSync(new URL('./fixtures/roof-template.json', import.meta.url), 'utf8'));
  const roof = parseTemplate({ id: 'r', version_number: 1, content: JSON.stringify(content) });
  assert.ok(roof.items.length >= 5);
  assert.ok(visibleItems(roof, {}).size >= 5);
});
