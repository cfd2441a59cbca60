// A photo on screen, from wherever the tablet has it: the original taken here, a thumbnail kept
// from the server, or (online) fetched from the server once and kept.
import { useEffect, useState } from 'preact/hooks';
import { useApp } from './common.jsx';

const urls = new Map(); // sha256 → object URL, shared by every screen while the app is open

async function blobOf(store, tablet, sha) {
  const mine = await store.photo(tablet.user, sha);
  if (mine && mine.blob) return { blob: mine.blob, photo: mine };
  const kept = await store.thumb(tablet.user, sha);
  if (kept) return { blob: kept.blob, photo: null };
  if (!tablet.isOnline() || !tablet.api) return { blob: null, photo: null };
  try {
    const r = await tablet.api.request('GET', `/api/v1/evidence/${sha}?size=320`, { retries: 0 });
    if (!r.ok) return { blob: null, photo: null };
    const blob = await r.blob();
    await store.putThumb(tablet.user, sha, blob);
    return { blob, photo: null };
  } catch {
    return { blob: null, photo: null };
  }
}

export function Photo({ sha, label = '照片', onRetake }) {
  const { store, tablet } = useApp();
  const [state, setState] = useState({ url: urls.get(sha) || null, photo: null });
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const { blob, photo } = await blobOf(store, tablet, sha);
      if (!alive) return;
      let url = urls.get(sha);
      if (!url && blob) {
        url = URL.createObjectURL(blob);
        urls.set(sha, url);
      }
      setState({ url: url || null, photo });
    };
    load();
    const off = store.subscribe((what) => what === 'photos' && load());
    return () => {
      alive = false;
      off();
    };
  }, [sha]);
  const photo = state.photo;
  const refused = photo && photo.status === 'refused';
  return (
    <figure class={`photo ${refused ? 'refused' : ''}`} data-testid="photo" data-sha={sha}>
      {state.url ? <img src={state.url} alt={label} /> : <div class="placeholder">{label}（未下载）</div>}
      <figcaption>
        {refused ? (
          <span class="bad-text" data-testid="photo-refused">
            {photo.error}
            {onRetake && (
              <button class="small" type="button" onClick={onRetake}>
                重拍
              </button>
            )}
          </span>
        ) : photo && photo.status === 'pending' ? (
          <span class="muted">待上传</span>
        ) : null}
      </figcaption>
    </figure>
  );
}
