/*
 * Upload progress for the dossier documents forms (progressive enhancement).
 *
 * Without this script each upload form is a plain multipart POST answered by a redirect or by the
 * page with its errors. With it, the same POST is sent with XMLHttpRequest so that the <progress>
 * element can follow the bytes sent; the page the server answers with (after its redirect, or with
 * the errors) then replaces the <main> of this one. Texts come from data attributes, so that they
 * are translated in the templates.
 */
(function () {
  "use strict";

  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser || !document.querySelector) {
    return;
  }

  function focusResult(main) {
    var target = main.querySelector("#error-summary") || main.querySelector(".messages");
    if (target) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var incoming = doc.querySelector("main");
    var current = document.querySelector("main");
    if (!incoming || !current) {
      return false;
    }
    current.replaceWith(incoming);
    if (doc.title) {
      document.title = doc.title;
    }
    enhance(incoming);
    focusResult(incoming);
    return true;
  }

  function upload(form, event) {
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files || input.files.length === 0) {
      return; // let the server answer: it says which file is missing
    }
    event.preventDefault();
    var box = form.querySelector("[data-upload-progress-box]");
    var progress = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector('button[type="submit"]');
    var xhr = new XMLHttpRequest();

    if (box) {
      box.hidden = false;
    }
    if (status) {
      status.textContent = form.getAttribute("data-uploading") || "";
    }
    if (button) {
      button.disabled = true;
    }

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable || !progress) {
        return;
      }
      progress.max = e.total;
      progress.value = e.loaded;
      if (status) {
        status.textContent = Math.round((100 * e.loaded) / e.total) + "%";
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 500 && replaceMain(xhr.responseText)) {
        return;
      }
      // Something unexpected (a server error page): show it as the browser would have.
      window.location.assign(xhr.responseURL || window.location.href);
    });
    xhr.addEventListener("error", function () {
      if (status) {
        status.textContent = form.getAttribute("data-failed") || "";
      }
      if (button) {
        button.disabled = false;
      }
    });
    xhr.open("POST", form.action);
    xhr.send(new FormData(form));
  }

  function enhance(root) {
    var forms = root.querySelectorAll("form[data-upload-progress]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        upload(form, event);
      });
    });
  }

  enhance(document);
})();
