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

  function chosenInputs(form) {
    return Array.prototype.filter.call(form.querySelectorAll('input[type="file"]'), function (input) {
      return input.files && input.files.length > 0;
    });
  }

  function samePage(url) {
    var a = new URL(url, window.location.href);
    return a.pathname === window.location.pathname;
  }

  function upload(form, event) {
    var inputs = chosenInputs(form);
    if (inputs.length === 0) {
      return; // nothing to send with progress: the browser posts the form as it is
    }
    event.preventDefault();
    var boxes = [];
    inputs.forEach(function (input) {
      var scope = input.closest(".document-item") || form;
      var box = scope.querySelector("[data-upload-progress-box]");
      if (box && boxes.indexOf(box) < 0) {
        boxes.push(box);
      }
    });
    var buttons = form.querySelectorAll('button[type="submit"]');
    var data = event.submitter ? new FormData(form, event.submitter) : new FormData(form);
    var xhr = new XMLHttpRequest();

    function setStatus(text) {
      boxes.forEach(function (box) {
        var status = box.querySelector("[data-upload-status]");
        if (status) {
          status.textContent = text;
        }
      });
    }
    function setDisabled(disabled) {
      Array.prototype.forEach.call(buttons, function (button) {
        button.disabled = disabled;
      });
    }

    boxes.forEach(function (box) {
      box.hidden = false;
    });
    setStatus(form.getAttribute("data-uploading") || "");
    setDisabled(true);

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) {
        return;
      }
      boxes.forEach(function (box) {
        var progress = box.querySelector("progress");
        if (progress) {
          progress.max = e.total;
          progress.value = e.loaded;
        }
      });
      setStatus(Math.round((100 * e.loaded) / e.total) + "%");
    });
    xhr.addEventListener("load", function () {
      // Moved on to another step: show it under its own address (the request already followed the
      // redirect, and loading it again would lose the messages the server showed once).
      if (xhr.status >= 200 && xhr.status < 400 && xhr.responseURL && !samePage(xhr.responseURL)) {
        window.history.pushState(null, "", xhr.responseURL);
        if (replaceMain(xhr.responseText)) {
          window.scrollTo(0, 0);
          return;
        }
        window.location.assign(xhr.responseURL);
        return;
      }
      if (xhr.status >= 200 && xhr.status < 500 && replaceMain(xhr.responseText)) {
        return;
      }
      // Something unexpected (a server error page): show it as the browser would have.
      window.location.assign(xhr.responseURL || window.location.href);
    });
    xhr.addEventListener("error", function () {
      setStatus(form.getAttribute("data-failed") || "");
      setDisabled(false);
    });
    // getAttribute: a control named "action" (the step's buttons) shadows form.action.
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.send(data);
  }

  function enhance(root) {
    var forms = root.querySelectorAll("form[data-upload-progress]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        upload(form, event);
      });
    });
  }

  // After a step shown by the script, Back and Forward load the address they reach.
  window.addEventListener("popstate", function () {
    window.location.reload();
  });

  enhance(document);
})();
