// Shared set-up for the unit tests: an in-memory IndexedDB per test (fake-indexeddb), and a
// scripted server speaking the sync protocol's shapes for the sync engine's tests.
import 'fake-indexeddb/auto';
import { openStore } from '../src/lib/store.js';

let count = 0;

export async function freshStore() {
  count += 1;
  return openStore(`test-${process.pid}-${count}`);
}

export function jsonResponse(status, body, headers = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A fetch that answers each request with the first handler whose (method, path) matches,
 * recording every request. Handlers: [[method, pathPrefix, (request, body) => Response]]. */
export function scriptedFetch(handlers) {
  const calls = [];
  const fetchImpl = async (url, init = {}) => {
    const path = new URL(url, 'http://tablet.test').pathname;
    let body = init.body;
    if (typeof body === 'string') body = JSON.parse(body);
    calls.push({ method: init.method || 'GET', path, body, headers: init.headers || {} });
    for (const [method, prefix, handle] of handlers) {
      if (method === (init.method || 'GET') && path.startsWith(prefix)) return handle({ path, body, init }, calls);
    }
    throw new TypeError('network error: no handler');
  };
  return { fetchImpl, calls };
}

export function session(user = 'u1', { access = 'a1', refresh = 'r1' } = {}) {
  const state = { access, refresh, lost: false };
  return {
    state,
    deviceId: 'tablet-test',
    tokens: async () => ({ access: state.access, refresh: state.refresh }),
    saveTokens: async (t) => Object.assign(state, t),
    lost: async () => {
      state.lost = true;
    },
  };
}
