// Sign-in: online against the server; offline for someone who signed in on this tablet before.
import { useEffect, useState } from 'preact/hooks';
import { num, useApp } from './common.jsx';

export function SignIn({ again, onDone }) {
  const { tablet, store } = useApp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [people, setPeople] = useState([]);
  useEffect(() => {
    (async () => {
      const profiles = await store.users();
      const out = [];
      for (const p of profiles) out.push({ ...p, pending: await store.countOutbox(p.id, 'pending') });
      setPeople(out);
    })();
  }, []);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await tablet.signIn(username, password);
      onDone();
      location.hash = '#/';
    } catch (err) {
      setError(err.message || '登录失败');
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="signin">
      <h1>现场检查 · 登录</h1>
      {again && <p class="banner warn">登录已失效，请重新登录。本机未同步的改动已保留，登录后会自动上传。</p>}
      <form class="card stack" onSubmit={submit}>
        <label>
          用户名
          <input
            name="username"
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          密码
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        {error && (
          <p class="bad-text" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? '正在登录…' : '登录'}
        </button>
        <p class="muted">首次使用须联网登录；之后离线也能打开和工作。</p>
      </form>
      {people.length > 0 && (
        <section class="card">
          <h2>在本平板上用过的人</h2>
          <ul class="rows">
            {people.map((p) => (
              <li class="row" key={p.id}>
                <button class="row-body link-like" onClick={() => setUsername(p.username)}>
                  <span class="row-title">{p.display_name}</span>
                  <span class="row-meta">
                    {p.username}
                    {p.organisation_name ? ` · ${p.organisation_name}` : ''}
                    {p.pending ? ` · 未同步改动 ${num(p.pending)} 项` : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
