// EXIF written into the downscaled JPEG: capture time with its offset and the GPS position, read
// back by the same reader the tablet uses on camera files (the server reads it with Pillow:
// tests/tablet/test_photos.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildExif, exifTime, readExif, withExif } from '../src/lib/exif.js';

// the smallest JPEG frame markers around no image data: enough for segment handling
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]);

test('capture time, offset and position round-trip through an APP1 segment', () => {
  const app1 = buildExif({ capturedAt: '2026:11:24 09:31:05', offset: '+08:00', lat: 31.2304167, lng: -121.4737 });
  const jpeg = withExif(JPEG, app1);
  assert.deepEqual([...jpeg.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xe1]);
  const found = readExif(jpeg);
  assert.equal(found.capturedAt, '2026:11:24 09:31:05');
  assert.equal(found.offset, '+08:00');
  assert.ok(Math.abs(found.lat - 31.2304167) < 1e-6, found.lat);
  assert.ok(Math.abs(found.lng + 121.4737) < 1e-6, found.lng);
  // the old APP0 is gone, the image data follows unchanged
  assert.deepEqual([...jpeg.subarray(jpeg.length - 6)], [0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]);
});

test('no position: no GPS block; no EXIF at all reads as nothing', () => {
  const found = readExif(withExif(JPEG, buildExif({ capturedAt: '2026:01:02 03:04:05', offset: '+08:00' })));
  assert.equal(found.lat, null);
  assert.equal(readExif(JPEG), null);
  assert.equal(readExif(new Uint8Array([1, 2, 3])), null);
});

test('device time as EXIF wants it', () => {
  const { capturedAt, offset } = exifTime(new Date(2026, 10, 24, 9, 5, 7));
  assert.equal(capturedAt, '2026:11:24 09:05:07');
  assert.match(offset, /^[+-]\d\d:\d\d$/);
});
