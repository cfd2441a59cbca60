// HTTP to the siteinspect API as the reference client (inspection/sync/client.py) speaks it: the
// bearer token of the user, one refresh on a 401 (shared by requests that fail together, since a
// refresh token works once), retries with full jitter on transport errors and 429/502/503/504.

export const RETRYABLE = new Set([429, 502, 503, 504]);

export class Offline extends Error {
  constructor(message = '网络不可用') {
    super(message);
    this.name = 'Offline';
  }
}

export class AuthLost extends Error {
  constructor(message = '登录已失效，请重新登录') {
    super(message);
    this.name = 'AuthLost';
  }
}

export class HttpError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.problem = problem || {};
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Api {
  /**
   * session: { user, deviceId, tokens(): {access, refresh}, saveTokens(t), lost() }
   * now(): the device's clock as an ISO string with its offset.
   */
  constructor({ base = '', fetchImpl = globalThis.fetch.bind(globalThis), session, retries = 4, backoffMs = 400 }) {
    this.base = base;
    this.fetch = fetchImpl;
    this.session = session;
    this.retries = retries;
    this.backoffMs = backoffMs;
    this.refreshing = null;
  }

  async refresh() {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        const { refresh } = await this.session.tokens();
        if (!refresh) return false;
        let r;
        try {
          r = await this.fetch(this.base + '/api/v1/auth/refresh', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ refresh_token: refresh, device_id: this.session.deviceId }),
          });
        } catch {
          throw new Offline();
        }
        if (r.status !== 200) {
          if (RETRYABLE.has(r.status)) throw new HttpError(r.status, null);
          return false;
        }
        const body = await r.json();
        await this.session.saveTokens({ access: body.access_token, refresh: body.refresh_token });
        return true;
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** A request with the user's token. Returns the Response for any status but 401 and the
   * retryable ones; throws Offline when the network stays down, AuthLost when the refresh token
   * is refused. */
  async request(method, path, { json, body, headers = {}, auth = true, retries = this.retries } = {}) {
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      const h = { ...headers };
      if (json !== undefined) h['content-type'] = 'application/json';
      if (auth) {
        const { access } = await this.session.tokens();
        if (access) h.authorization = `Bearer ${access}`;
      }
      let r;
      try {
        r = await this.fetch(path.startsWith('http') ? path : this.base + path, {
          method,
          headers: h,
          body: json !== undefined ? JSON.stringify(json) : body,
        });
      } catch (err) {
        if (attempt >= retries) throw new Offline();
        await sleep(Math.random() * this.backoffMs * 2 ** attempt);
        continue;
      }
      if (r.status === 401 && auth && !refreshed) {
        refreshed = true;
        if (await this.refresh()) continue;
        await this.session.lost();
        throw new AuthLost();
      }
      if (r.status === 401 && auth) {
        await this.session.lost();
        throw new AuthLost();
      }
      if (RETRYABLE.has(r.status) && attempt < retries) {
        const after = Number(r.headers.get('retry-after'));
        const wait = after > 0 ? Math.min(after * 1000, 10_000) : Math.random() * this.backoffMs * 2 ** attempt;
        await sleep(wait);
        continue;
      }
      return r;
    }
  }

  async json(method, path, json, options = {}) {
    const r = await this.request(method, path, { ...options, json });
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) throw new HttpError(r.status, body);
    return body;
  }
}

/** The device's clock now, as ISO 8601 with its offset (the server measures the skew from it). */
export function deviceNow(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
