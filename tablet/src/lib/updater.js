// Installs the service worker and applies a new version of the app only while no inspection is
// open: a version waiting is announced, and takes over (with a reload) once the inspector leaves
// the inspection.
export class Updater {
  constructor(tablet) {
    this.tablet = tablet;
    this.busy = false;
    this.registration = null;
  }

  async register() {
    if (!('serviceWorker' in navigator)) return;
    let controller = navigator.serviceWorker.controller;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      // the first install takes control without a reload; a new version reloads into itself
      if (controller && !this.reloading) {
        this.reloading = true;
        location.reload();
      }
      controller = navigator.serviceWorker.controller;
    });
    try {
      this.registration = await navigator.serviceWorker.register('./sw.js', { scope: './' });
    } catch (err) {
      console.warn('service worker', err);
      return;
    }
    const reg = this.registration;
    const watch = (worker) =>
      worker &&
      worker.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) this.waiting();
      });
    reg.addEventListener('updatefound', () => watch(reg.installing));
    if (reg.waiting && navigator.serviceWorker.controller) this.waiting();
    window.addEventListener('online', () => this.check());
    setInterval(() => this.check(), 30 * 60_000);
  }

  check() {
    if (this.registration) return this.registration.update().catch(() => {});
    return Promise.resolve();
  }

  waiting() {
    this.tablet.setStatus({ updateReady: true });
    this.apply();
  }

  setBusy(busy) {
    this.busy = busy;
    if (!busy) this.apply();
  }

  apply() {
    const reg = this.registration;
    if (this.busy || !reg || !reg.waiting) return;
    reg.waiting.postMessage('skip-waiting');
  }
}
