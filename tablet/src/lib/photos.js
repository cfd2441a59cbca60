// Photos from the camera, made ready to keep and send: downscaled on the tablet (long edge 2560
// px, JPEG), with the capture time and GPS written back into EXIF, named by their SHA-256.
import { buildExif, exifTime, readExif, withExif } from './exif.js';

export const LONG_EDGE = 2560;
const QUALITY = 0.85;

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function sniff(bytes) {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  if (String.fromCharCode(...bytes.subarray(4, 8)) === 'ftyp') {
    return brand.startsWith('avi') ? 'image/avif' : 'image/heic';
  }
  return '';
}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return null; // e.g. HEIC where the browser has no decoder
  }
}

async function encodeJpeg(bitmap, longEdge) {
  const scale = Math.min(1, longEdge / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: 'image/jpeg', quality: QUALITY });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
}

/** A camera file as the tablet keeps it: {blob, sha256, content_type, size, name, captured_at}.
 * `gps` ({lat, lng}) is the tablet's position when the photo was taken, used when the camera wrote
 * none. A file the browser cannot decode (HEIC on most Android browsers) is kept as it is: the
 * server decides whether it takes it, and says so if not. */
export async function preparePhoto(file, { gps = null, longEdge = LONG_EDGE } = {}) {
  const original = new Uint8Array(await file.arrayBuffer());
  const bitmap = await decode(file);
  if (!bitmap) {
    return {
      blob: new Blob([original], { type: file.type || sniff(original) || 'application/octet-stream' }),
      sha256: await sha256Hex(original),
      content_type: file.type || sniff(original) || 'application/octet-stream',
      size: original.length,
      name: file.name || '',
      captured_at: file.lastModified ? new Date(file.lastModified).toISOString() : null,
    };
  }
  const found = readExif(original) || {};
  const taken = file.lastModified ? new Date(file.lastModified) : new Date();
  const time = found.capturedAt ? { capturedAt: found.capturedAt, offset: found.offset } : exifTime(taken);
  const lat = found.lat ?? (gps ? gps.lat : null);
  const lng = found.lng ?? (gps ? gps.lng : null);
  const encoded = new Uint8Array(await (await encodeJpeg(bitmap, longEdge)).arrayBuffer());
  bitmap.close?.();
  const bytes = withExif(encoded, buildExif({ ...time, lat, lng }));
  return {
    blob: new Blob([bytes], { type: 'image/jpeg' }),
    sha256: await sha256Hex(bytes),
    content_type: 'image/jpeg',
    size: bytes.length,
    name: (file.name || 'photo').replace(/\.[^.]+$/, '') + '.jpg',
    captured_at: taken.toISOString(),
  };
}

/** A drawn signature (a canvas) as a PNG kept like a photo. */
export async function canvasPhoto(canvas, name = 'signature.png') {
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return {
    blob: new Blob([bytes], { type: 'image/png' }),
    sha256: await sha256Hex(bytes),
    content_type: 'image/png',
    size: bytes.length,
    name,
    captured_at: new Date().toISOString(),
  };
}

/** The tablet's position now, if the inspector allowed it; never waits long. */
export function currentPosition(timeoutMs = 4000) {
  if (!('geolocation' in navigator)) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
    );
  });
}

/** A 640 px JPEG of a photo, kept on the tablet once the server holds the original. */
export async function thumbnail(blob) {
  const bitmap = await createImageBitmap(blob);
  const small = await encodeJpeg(bitmap, 640);
  bitmap.close?.();
  return small;
}
