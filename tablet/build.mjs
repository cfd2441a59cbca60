// Builds the tablet app into dist/ (served by the server at /tablet/): one JavaScript and one CSS
// file named by their content hash, index.html naming them, the service worker with the list of
// files to keep offline and the build's version, the web app manifest and icons.
// Runs on Node 18 and later (Debian 12 ships 18): esbuild only, no other tooling.
//   node build.mjs            build
//   node build.mjs --check    build, then fail if JS + CSS exceed the gzipped budget
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, 'dist');
const BASE = '/tablet/';
const BUDGET_GZIP = 300 * 1024;
const TITLE = '现场检查';

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const app = await esbuild.build({
  entryPoints: [join(here, 'src/main.jsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'safari15.4', 'firefox102'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(dist, 'assets'),
  entryNames: 'app-[hash]',
  metafile: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});
const outputs = Object.keys(app.metafile.outputs).map((p) => relative(dist, join(process.cwd(), p)));
const js = outputs.find((p) => p.endsWith('.js'));
const css = outputs.find((p) => p.endsWith('.css'));

cpSync(join(here, 'public'), dist, { recursive: true });

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// The version names everything this build serves: a change anywhere makes a new service worker.
const shellHtml = (version) => `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#163f70">
<meta name="app-version" content="${version}">
<meta name="apple-mobile-web-app-capable" content="yes">
<meta name="apple-mobile-web-app-title" content="${TITLE}">
<title>${TITLE}</title>
<link rel="manifest" href="manifest.webmanifest">
<link rel="icon" href="icons/icon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="icons/icon-192.png">
<link rel="stylesheet" href="${css}">
<script type="module" src="${js}"></script>
</head>
<body><div id="app"><p class="boot">正在打开现场检查…</p></div>
<noscript>现场检查需要浏览器启用 JavaScript。</noscript></body>
</html>
`;

const manifest = {
  name: '现场检查 · siteinspect',
  short_name: TITLE,
  lang: 'zh-CN',
  start_url: BASE,
  scope: BASE,
  display: 'standalone',
  orientation: 'any',
  background_color: '#eef1f4',
  theme_color: '#163f70',
  description: '老旧小区改造质量安全检查：离线填写检查表、拍照、签名，联网后自动同步。',
  icons: [
    { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
  ],
};
writeFileSync(join(dist, 'manifest.webmanifest'), JSON.stringify(manifest, null, 2));

const hash = createHash('sha256');
for (const path of files(dist).sort()) {
  hash.update(relative(dist, path));
  hash.update(readFileSync(path));
}
hash.update(shellHtml(''));
const version = hash.digest('hex').slice(0, 16);
writeFileSync(join(dist, 'index.html'), shellHtml(version));
writeFileSync(join(dist, 'version.json'), JSON.stringify({ version }) + '\n');

const precache = [BASE, ...files(dist).map((p) => BASE + relative(dist, p).split('\\').join('/'))].filter(
  (url) => !url.endsWith('/index.html') && !url.endsWith('/version.json'),
);
await esbuild.build({
  entryPoints: [join(here, 'src/sw.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'safari15.4'],
  outfile: join(dist, 'sw.js'),
  define: { __VERSION__: JSON.stringify(version), __PRECACHE__: JSON.stringify(precache) },
  logLevel: 'warning',
});

// gzipped copies beside the scripts and styles: the server sends them to browsers that accept gzip
for (const path of files(dist).filter((p) => /\.(js|css|html|webmanifest|svg)$/.test(p))) {
  writeFileSync(path + '.gz', gzipSync(readFileSync(path), { level: 9 }));
}
const gz = (p) => readFileSync(join(dist, p + '.gz')).length;
const sizes = { js: gz(js), css: gz(css), sw: gz('sw.js') };
const total = sizes.js + sizes.css;
console.log(
  `tablet app ${version}: ${js} ${(sizes.js / 1024).toFixed(1)} KB, ${css} ${(sizes.css / 1024).toFixed(1)} KB ` +
    `gzipped (budget ${BUDGET_GZIP / 1024} KB for JS + CSS)`,
);
if (total > BUDGET_GZIP) {
  console.error(`over budget: ${(total / 1024).toFixed(1)} KB gzipped`);
  process.exit(1);
}
