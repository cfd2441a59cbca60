// The little EXIF the evidence service reads (inspection/evidence/images.py): capture time with
// its offset and the GPS position. Read from the camera's JPEG, written into the downscaled copy
// (a canvas drops all metadata). Pure functions over bytes, unit-tested in Node.

const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const ORIENTATION = 0x0112;
const DATETIME_ORIGINAL = 0x9003;
const OFFSET_TIME_ORIGINAL = 0x9011;
const TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

/** The TIFF block of a JPEG's APP1 Exif segment, or null. */
function tiffOf(jpeg) {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1];
    const length = (jpeg[i + 2] << 8) | jpeg[i + 3];
    if (marker === 0xda || marker === 0xd9) break; // image data: no metadata after this
    if (marker === 0xe1 && length >= 8) {
      const head = String.fromCharCode(...jpeg.subarray(i + 4, i + 10));
      if (head === 'Exif\0\0') return jpeg.subarray(i + 10, i + 2 + length);
    }
    i += 2 + length;
  }
  return null;
}

function reader(tiff) {
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const little = tiff[0] === 0x49;
  const u16 = (o) => view.getUint16(o, little);
  const u32 = (o) => view.getUint32(o, little);
  function ifd(offset) {
    const out = new Map();
    if (offset + 2 > tiff.length) return out;
    const count = u16(offset);
    for (let n = 0; n < count; n += 1) {
      const at = offset + 2 + n * 12;
      if (at + 12 > tiff.length) break;
      const tag = u16(at);
      const type = u16(at + 2);
      const items = u32(at + 4);
      const size = (TYPE_SIZE[type] || 1) * items;
      const where = size <= 4 ? at + 8 : u32(at + 8);
      if (where + size > tiff.length) continue;
      out.set(tag, { type, items, where });
    }
    return out;
  }
  function ascii(entry) {
    if (!entry || entry.type !== 2) return null;
    return String.fromCharCode(...tiff.subarray(entry.where, entry.where + entry.items)).replace(/\0+$/, '');
  }
  function rationals(entry) {
    if (!entry || entry.type !== 5) return null;
    const out = [];
    for (let k = 0; k < entry.items; k += 1) {
      const den = u32(entry.where + k * 8 + 4);
      out.push(den ? u32(entry.where + k * 8) / den : NaN);
    }
    return out;
  }
  function long(entry) {
    return entry && entry.type === 4 ? u32(entry.where) : null;
  }
  return { ifd, ascii, rationals, long, u32 };
}

function degrees(dms, ref) {
  if (!dms || dms.length !== 3 || !ref || dms.some((v) => Number.isNaN(v))) return null;
  const value = dms[0] + dms[1] / 60 + dms[2] / 3600;
  return ['S', 'W'].includes(ref.toUpperCase()[0]) ? -value : value;
}

/** {capturedAt: 'YYYY:MM:DD HH:MM:SS', offset: '+08:00' | null, lat, lng} from a JPEG, or null. */
export function readExif(jpeg) {
  const tiff = tiffOf(jpeg);
  if (!tiff || tiff.length < 8) return null;
  try {
    const r = reader(tiff);
    const root = r.ifd(r.u32(4));
    const sub = root.has(EXIF_IFD) ? r.ifd(r.long(root.get(EXIF_IFD))) : new Map();
    const gps = root.has(GPS_IFD) ? r.ifd(r.long(root.get(GPS_IFD))) : new Map();
    const lat = degrees(r.rationals(gps.get(2)), r.ascii(gps.get(1)));
    const lng = degrees(r.rationals(gps.get(4)), r.ascii(gps.get(3)));
    return {
      capturedAt: r.ascii(sub.get(DATETIME_ORIGINAL)),
      offset: r.ascii(sub.get(OFFSET_TIME_ORIGINAL)),
      lat: lat != null && lng != null && !(lat === 0 && lng === 0) ? lat : null,
      lng: lat != null && lng != null && !(lat === 0 && lng === 0) ? lng : null,
    };
  } catch {
    return null; // an unreadable EXIF block is not a bad photo
  }
}

/** 'YYYY:MM:DD HH:MM:SS' and '+08:00' of a Date on this device's clock. */
export function exifTime(date) {
  const pad = (n) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const abs = Math.abs(offset);
  return {
    capturedAt:
      `${date.getFullYear()}:${pad(date.getMonth() + 1)}:${pad(date.getDate())} ` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`,
    offset: `${offset >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`,
  };
}

function dms(value) {
  const abs = Math.abs(value);
  const d = Math.floor(abs);
  const m = Math.floor((abs - d) * 60);
  const s = Math.round(((abs - d) * 60 - m) * 60 * 10000);
  return [
    [d, 1],
    [m, 1],
    [s, 10000],
  ];
}

/** An APP1 Exif segment (marker included) with orientation 1 (the pixels are upright already),
 * the capture time and offset, and the GPS position when known. Little-endian TIFF. */
export function buildExif({ capturedAt, offset, lat, lng }) {
  const ifd0 = [[ORIENTATION, 3, 1, 1]];
  const exif = [];
  if (capturedAt) exif.push([DATETIME_ORIGINAL, 2, capturedAt]);
  if (offset) exif.push([OFFSET_TIME_ORIGINAL, 2, offset]);
  const gps = [];
  if (lat != null && lng != null) {
    gps.push([0, 1, [2, 3, 0, 0]]);
    gps.push([1, 2, lat >= 0 ? 'N' : 'S']);
    gps.push([2, 5, dms(lat)]);
    gps.push([3, 2, lng >= 0 ? 'E' : 'W']);
    gps.push([4, 5, dms(lng)]);
  }
  if (exif.length) ifd0.push([EXIF_IFD, 4, 1, 0]);
  if (gps.length) ifd0.push([GPS_IFD, 4, 1, 0]);

  // layout: header(8) | IFD0 | Exif IFD | GPS IFD | values
  const ifdSize = (entries) => 2 + entries.length * 12 + 4;
  const offsets = { ifd0: 8 };
  offsets.exif = offsets.ifd0 + ifdSize(ifd0);
  offsets.gps = offsets.exif + (exif.length ? ifdSize(exif) : 0);
  let dataAt = offsets.gps + (gps.length ? ifdSize(gps) : 0);
  const data = [];
  const bytes = [];
  const put16 = (v) => bytes.push(v & 0xff, (v >> 8) & 0xff);
  const put32 = (v) => bytes.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
  function encode(type, value) {
    if (type === 2) return [...String(value)].map((c) => c.charCodeAt(0)).concat([0]);
    if (type === 1) return value;
    if (type === 5) {
      const out = [];
      for (const [num, den] of value) {
        for (const v of [num, den]) out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
      }
      return out;
    }
    return [];
  }
  function writeIfd(entries) {
    entries.sort((a, b) => a[0] - b[0]);
    put16(entries.length);
    for (const [tag, type, value, pointer] of entries) {
      put16(tag);
      put16(type);
      if (type === 3) {
        put32(1);
        put16(value);
        put16(0);
      } else if (type === 4) {
        put32(1);
        put32(tag === EXIF_IFD ? offsets.exif : tag === GPS_IFD ? offsets.gps : pointer);
      } else {
        const encoded = encode(type, value);
        const count = type === 5 ? value.length : encoded.length;
        put32(count);
        if (encoded.length <= 4) {
          for (let k = 0; k < 4; k += 1) bytes.push(encoded[k] || 0);
        } else {
          put32(dataAt);
          data.push(...encoded);
          if (encoded.length % 2) data.push(0);
          dataAt += encoded.length + (encoded.length % 2);
        }
      }
    }
    put32(0); // no next IFD
  }
  bytes.push(0x49, 0x49, 0x2a, 0x00);
  put32(8);
  writeIfd(ifd0);
  if (exif.length) writeIfd(exif);
  if (gps.length) writeIfd(gps);
  const tiff = bytes.concat(data);
  const length = 2 + 6 + tiff.length;
  return new Uint8Array([0xff, 0xe1, (length >> 8) & 0xff, length & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
}

/** The JPEG with its own APP0/APP1 segments replaced by `app1`. */
export function withExif(jpeg, app1) {
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff && (jpeg[i + 1] === 0xe0 || jpeg[i + 1] === 0xe1)) {
    i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
  }
  const out = new Uint8Array(2 + app1.length + (jpeg.length - i));
  out.set([0xff, 0xd8], 0);
  out.set(app1, 2);
  out.set(jpeg.subarray(i), 2 + app1.length);
  return out;
}
