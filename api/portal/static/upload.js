// Photos on the portal's forms. Without script the form posts as plain multipart. With it:
// - a large photo (a phone's 12-50 megapixel picture of 5-30 MB) is scaled down in the browser to
//   MAX_SIDE px as a JPEG before it is sent, keeping the original's EXIF (capture time, position:
//   evidence) with its orientation reset, since the picture is drawn upright; a photo the browser
//   cannot decode (HEIC outside Safari) or a small one is sent as it is, and the server decides;
// - the form is sent by XMLHttpRequest so a bar follows the bytes; then the page the server
//   answers with (its redirect target, or the form again with the reason and the typed text).
(function () {
  "use strict";
  var MAX_SIDE = 2560;          // the server keeps a 1280 px derivative for pages and PDFs
  var SCALE_ABOVE = 3 * 1048576; // bytes; smaller photos go as they are
  var QUALITY = 0.88;

  function size(n) { return n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB"; }

  // The APP1 "Exif" segment of a JPEG, or null.
  function exifSegment(bytes) {
    if (bytes[0] !== 0xff || bytes[1] !== 0xd8) { return null; }
    var at = 2;
    while (at + 4 <= bytes.length && bytes[at] === 0xff) {
      var marker = bytes[at + 1];
      var length = (bytes[at + 2] << 8) | bytes[at + 3];
      if (marker === 0xda) { break; }  // start of scan: no EXIF before the picture
      if (marker === 0xe1 && bytes[at + 4] === 0x45 && bytes[at + 5] === 0x78 && bytes[at + 6] === 0x69 &&
          bytes[at + 7] === 0x66) {
        return bytes.slice(at, at + 2 + length);
      }
      at += 2 + length;
    }
    return null;
  }

  // Set the EXIF orientation (tag 0x0112 of IFD0) to 1 in place: the scaled picture is upright.
  function resetOrientation(segment) {
    var tiff = 10;  // FF E1, length (2), "Exif\0\0"
    var little = segment[tiff] === 0x49;
    function u16(at) { return little ? segment[at] | (segment[at + 1] << 8) : (segment[at] << 8) | segment[at + 1]; }
    function u32(at) { return little ? (u16(at) | (u16(at + 2) << 16)) >>> 0 : ((u16(at) << 16) | u16(at + 2)) >>> 0; }
    var ifd = tiff + u32(tiff + 4);
    if (ifd + 2 > segment.length) { return; }
    var count = u16(ifd);
    for (var i = 0; i < count; i++) {
      var entry = ifd + 2 + 12 * i;
      if (entry + 12 > segment.length) { return; }
      if (u16(entry) === 0x0112) {
        segment[entry + 8] = little ? 1 : 0;
        segment[entry + 9] = little ? 0 : 1;
        return;
      }
    }
  }

  function readBytes(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function scaled(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) { return Promise.resolve(file); }
    if (file.size <= SCALE_ABOVE) { return Promise.resolve(file); }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var ratio = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * ratio);
      canvas.height = Math.round(bitmap.height * ratio);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); });
    }).then(function (blob) {
      if (!blob || blob.size >= file.size) { return file; }
      return Promise.all([readBytes(file), readBytes(blob)]).then(function (parts) {
        var exif = file.type === "image/jpeg" ? exifSegment(parts[0]) : null;
        var body = parts[1];
        if (exif) {
          resetOrientation(exif);
          body = new Blob([body.slice(0, 2), exif, body.slice(2)], { type: "image/jpeg" });
        } else {
          body = new Blob([body], { type: "image/jpeg" });
        }
        var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
        return new File([body], name, { type: "image/jpeg", lastModified: file.lastModified });
      });
    }).catch(function () { return file; });  // cannot decode it here: the server will
  }

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files.length || !window.FormData || !window.Promise) { return; }
      event.preventDefault();
      var box = form.querySelector(".progress");
      var bar = box && box.querySelector("progress");
      var text = box && box.querySelector(".progress-text");
      var button = form.querySelector("button[type=submit]");
      function say(words) { if (text) { text.textContent = words; } }
      if (box) { box.hidden = false; }
      if (button) { button.disabled = true; }
      say("正在压缩照片…");
      Promise.all(Array.prototype.map.call(input.files, scaled)).then(function (files) {
        var most = Number(form.dataset.maxBytes || 0);
        var big = files.filter(function (f) { return most && f.size > most; });
        if (big.length) {  // refused before a byte is sent; what was typed stays on the page
          say("照片“" + big[0].name + "”有 " + size(big[0].size) + "，超过 " + size(most) +
              " 的上限，请换一张较小的照片。");
          if (button) { button.disabled = false; }
          return;
        }
        var data = new FormData(form);
        data.delete(input.name);
        files.forEach(function (f) { data.append(input.name, f, f.name); });
        form.dataset.sentBytes = String(files.reduce(function (n, f) { return n + f.size; }, 0));
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) { return; }
          var pct = Math.round(100 * e.loaded / e.total);
          if (bar) { bar.value = pct; }
          say("上传中 " + pct + "%（" + size(e.loaded) + " / " + size(e.total) + "）");
        });
        xhr.addEventListener("load", function () {
          if (xhr.status < 400 && xhr.responseURL && xhr.responseURL.indexOf(form.action) !== 0) {
            window.location.assign(xhr.responseURL);  // redirected after success
            return;
          }
          document.open();
          document.write(xhr.responseText);
          document.close();
        });
        xhr.addEventListener("error", function () {
          say("网络中断，上传未完成，请重试。");
          if (button) { button.disabled = false; }
        });
        say("准备上传…");
        xhr.send(data);
      });
    });
  });
})();
