// The tablet app's service worker: keeps the app shell (this build's files) so the app opens with
// no network, and lets a new version take over only when the page says so (no inspection open).
// Requests outside the app's scope (the API, photos) always go to the network.
/* global __VERSION__, __PRECACHE__ */
const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const CACHE = `tablet-${VERSION}`;
const SCOPE = new URL(self.registration.scope).pathname;

self.addEventListener('install', (event) => {
  // cache: 'reload' so the HTTP cache never hands us last version's index.html
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('tablet-') && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  if (request.mode === 'navigate') {
    // every page of the app is the one shell; the route is in the hash
    event.respondWith(
      caches.open(CACHE).then(async (cache) => (await cache.match(SCOPE)) || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(request, { ignoreSearch: true })) || fetch(request)),
  );
});
