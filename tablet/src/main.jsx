// The tablet app's entry: open the local database, restore the signed-in user, install the
// service worker, show the screens.
import './styles.css';
import { render } from 'preact';
import { Tablet } from './lib/core.js';
import { thumbnail } from './lib/photos.js';
import { openStore } from './lib/store.js';
import { Updater } from './lib/updater.js';
import { App } from './ui/app.jsx';

async function main() {
  const root = document.getElementById('app');
  let store;
  try {
    store = await openStore();
  } catch (err) {
    root.innerHTML = '<p class="boot bad-text">无法打开本机存储（浏览器可能处于无痕模式或存储已满）。</p>';
    throw err;
  }
  const tablet = await new Tablet(store, { shrink: thumbnail }).init();
  const updater = new Updater(tablet);
  globalThis.__APP_VERSION__ = document.querySelector('meta[name="app-version"]')?.content || '';
  // for the browser tests and for support: the app's state, read-only use
  globalThis.siteinspect = { tablet, store, updater };
  root.textContent = '';
  render(<App tablet={tablet} store={store} updater={updater} />, root);
  updater.register();
}

main();
