// The app's frame: sign-in, the status bar that is always there, the banners, the navigation and
// the hash routes of every screen.
import { useEffect, useState } from 'preact/hooks';
import { AppContext, ago, bytes, num, useApp, useStatus } from './common.jsx';
import { Home, ProjectScreen, SiteScreen, WorkItemScreen } from './home.jsx';
import { InspectionScreen, StartScreen } from './inspect.jsx';
import { OrderScreen, OrdersScreen } from './orders.jsx';
import { BatchScreen, MaterialsScreen } from './materials.jsx';
import { SyncScreen } from './syncscreen.jsx';
import { SignIn } from './signin.jsx';

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const [path, query = ''] = hash.slice(1).split('?');
  return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(query), hash };
}

function StatusBar() {
  const { tablet } = useApp();
  const s = useStatus();
  const progress = s.progress;
  return (
    <div class="statusbar" role="status" aria-live="polite" data-testid="statusbar">
      <span class={`net ${s.online ? 'on' : 'off'}`} data-testid="net">
        {s.online ? '在线' : '离线'}
      </span>
      <span data-testid="last-synced">上次同步：{ago(s.lastSynced)}</span>
      <span data-testid="pending">待上传改动 {num(s.pending)}</span>
      <span data-testid="photos-pending">待上传照片 {num(s.photosPending)}</span>
      {s.photosRefused > 0 && (
        <a href="#/sync" class="bad-text" data-testid="photos-refused">
          被拒照片 {num(s.photosRefused)}
        </a>
      )}
      {s.syncing && (
        <span data-testid="progress">
          {progress && progress.total
            ? `已同步 ${num(Math.min(progress.received, progress.total))} / ${num(progress.total)} 条`
            : progress
              ? `已同步 ${num(progress.received)} 条`
              : '正在同步…'}
        </span>
      )}
      {s.error && !s.syncing && <span class="warn-text">{s.error}</span>}
      <button class="small" disabled={s.syncing} onClick={() => tablet.syncNow()} data-testid="sync-now">
        立即同步
      </button>
    </div>
  );
}

function Banners() {
  const { tablet, updater } = useApp();
  const s = useStatus();
  return (
    <>
      {s.authLost && (
        <div class="banner bad" data-testid="auth-lost">
          登录已失效，请重新登录后继续同步。本机未同步的 {num(s.pending)} 项改动和 {num(s.photosPending)} 张照片已保留。
          <button class="small" onClick={() => tablet.switchUser().then(() => (location.hash = '#/login?again=1'))}>
            重新登录
          </button>
        </div>
      )}
      {s.upgrade && (
        <div class="banner warn" data-testid="upgrade">
          请更新应用：此版本已不能从服务器接收数据（改动仍会上传）。
          <button class="small" onClick={() => updater.check()}>
            检查更新
          </button>
        </div>
      )}
      {s.updateReady && (
        <div class="banner info" data-testid="update-ready">
          新版本已下载，将在关闭当前检查后自动更新。
        </div>
      )}
      {s.storage && s.storage.nearFull && (
        <div class="banner warn" data-testid="storage-warning">
          平板存储空间将满（已用 {bytes(s.storage.usage)} / {bytes(s.storage.quota)}），请尽快同步并清理其他应用。
        </div>
      )}
    </>
  );
}

function Nav({ parts }) {
  const { tablet } = useApp();
  const s = useStatus();
  const here = parts[0] || '';
  const item = (to, label, match) => (
    <a href={`#/${to}`} aria-current={here === match ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <header class="top">
      <a class="brand" href="#/">
        现场检查
      </a>
      <nav class="nav">
        {item('', '首页', '')}
        {item('orders', '整改单', 'orders')}
        {item('materials', '材料', 'materials')}
        {item('sync', s.rejected ? `同步与冲突 (${s.rejected})` : '同步与冲突', 'sync')}
      </nav>
      <span class="who">
        {tablet.profile && tablet.profile.display_name}
        <button class="small link" onClick={() => tablet.switchUser().then(() => (location.hash = '#/login'))}>
          切换用户
        </button>
        <button
          class="small link"
          data-testid="sign-out"
          onClick={() => tablet.signOut().then(() => (location.hash = '#/login'))}
        >
          退出
        </button>
      </span>
    </header>
  );
}

function Screen({ route }) {
  const [first, second] = route.parts;
  switch (first) {
    case undefined:
      return <Home />;
    case 'project':
      return <ProjectScreen id={second} />;
    case 'site':
      return <SiteScreen id={second} />;
    case 'work-item':
      return <WorkItemScreen id={second} />;
    case 'start':
      return <StartScreen query={route.query} />;
    case 'inspection':
      return <InspectionScreen id={second} />;
    case 'orders':
      return <OrdersScreen />;
    case 'order':
      return <OrderScreen id={second} />;
    case 'materials':
      return <MaterialsScreen />;
    case 'batch':
      return <BatchScreen id={second} />;
    case 'sync':
      return <SyncScreen />;
    default:
      return <p class="empty">没有这个页面</p>;
  }
}

export function App({ tablet, store, updater }) {
  const route = useRoute();
  const [user, setUser] = useState(tablet.user);
  useEffect(() => tablet.subscribe(() => setUser(tablet.user)), []);
  useEffect(() => {
    if (tablet.user) tablet.start();
    return () => tablet.stop();
  }, [user]);
  useEffect(() => {
    // an update waits while an inspection is open (its answers are on screen)
    updater.setBusy(route.parts[0] === 'inspection');
  }, [route.hash]);
  const context = { tablet, store, updater };
  if (!user || route.parts[0] === 'login') {
    return (
      <AppContext.Provider value={context}>
        <SignIn again={route.query.get('again') === '1'} onDone={() => setUser(tablet.user)} />
      </AppContext.Provider>
    );
  }
  return (
    <AppContext.Provider value={context}>
      <Nav parts={route.parts} />
      <StatusBar />
      <Banners />
      <main class="main" key={route.hash}>
        <Screen route={route} />
      </main>
    </AppContext.Provider>
  );
}
