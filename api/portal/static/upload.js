// Upload progress for forms with photos. Without script the same form posts as plain multipart;
// with it the form is sent by XMLHttpRequest so the bar can follow the bytes, then the page the
// server answers with (its redirect target or an error page) is shown.
(function () {
  "use strict";
  function kib(n) { return n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB"; }
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var files = form.querySelector("input[type=file]");
      if (!files || !files.files.length || !window.FormData) { return; }
      event.preventDefault();
      var box = form.querySelector(".progress");
      var bar = box && box.querySelector("progress");
      var text = box && box.querySelector(".progress-text");
      var button = form.querySelector("button[type=submit]");
      if (box) { box.hidden = false; }
      if (button) { button.disabled = true; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var pct = Math.round(100 * e.loaded / e.total);
        if (bar) { bar.value = pct; }
        if (text) { text.textContent = "上传中 " + pct + "%（" + kib(e.loaded) + " / " + kib(e.total) + "）"; }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL && xhr.responseURL.indexOf(form.action) !== 0) {
          // redirected after success: show the page it leads to
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        if (text) { text.textContent = "网络中断，上传未完成，请重试。"; }
        if (button) { button.disabled = false; }
      });
      if (text) { text.textContent = "准备上传…"; }
      xhr.send(new FormData(form));
    });
  });
})();
