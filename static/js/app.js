// mediashare: small behaviours htmx does not cover.
(function () {
  "use strict";
  // Show upload progress on the form's <progress> while htmx sends it.
  document.addEventListener("htmx:xhr:progress", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    var bar = form && form.querySelector("progress");
    if (!bar || !ev.detail.lengthComputable) return;
    bar.classList.add("active");
    bar.max = ev.detail.total;
    bar.value = ev.detail.loaded;
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    var bar = ev.target.querySelector && ev.target.querySelector("progress");
    if (bar) { bar.classList.remove("active"); bar.value = 0; }
  });
})();

// The live gallery: the SSE extension re-creates its EventSource after a
// failed reconnect, which would forget the last event id. Carry it in the
// URL so the server replays exactly what this page missed.
(function () {
  "use strict";
  var lastId = "";
  document.addEventListener("htmx:sseBeforeMessage", function (ev) {
    if (ev.detail && ev.detail.lastEventId) lastId = ev.detail.lastEventId;
  });
  if (window.htmx) {
    htmx.createEventSource = function (url) {
      if (lastId) {
        url = url.replace(/([?&])last=[^&]*&?/, "$1").replace(/[?&]$/, "");
        url += (url.indexOf("?") < 0 ? "?" : "&") + "last=" + encodeURIComponent(lastId);
      }
      return new EventSource(url, { withCredentials: true });
    };
  }
  // The server could not replay what this page missed: start over.
  document.addEventListener("htmx:sseMessage", function (ev) {
    if (ev.detail && ev.detail.type === "reload") window.location.reload();
  });
  // A card may arrive twice (the upload's own answer and the live stream,
  // or a replay): insert it only where the page does not have it yet.
  document.addEventListener("htmx:oobBeforeSwap", function (ev) {
    var d = ev.detail;
    if (!d || !d.target || d.target.id !== "cards" || !d.fragment) return;
    var card = d.fragment.querySelector ? d.fragment.querySelector("[data-testid=card]") : null;
    if (card && document.getElementById(card.id)) d.shouldSwap = false;
  });
})();

// Drag and drop: images dropped anywhere on the page go into the upload
// form, which is then sent as if its button were pressed.
(function () {
  "use strict";
  var depth = 0;
  function hasFiles(ev) {
    return ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types || [], "Files") >= 0;
  }
  document.addEventListener("dragenter", function (ev) {
    if (!hasFiles(ev)) return;
    depth++;
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", function () {
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove("dragging");
  });
  document.addEventListener("dragover", function (ev) {
    if (hasFiles(ev)) ev.preventDefault();
  });
  document.addEventListener("drop", function (ev) {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth = 0;
    document.body.classList.remove("dragging");
    var form = document.querySelector("[data-testid=upload-form]");
    var input = form && form.querySelector("input[type=file]");
    if (!input) return;
    input.files = ev.dataTransfer.files;
    // Title (for a single file) and comment are required: ask first.
    var title = form.querySelector("input[name=title]");
    var comment = form.querySelector("textarea[name=comment]");
    if (input.files.length === 1 && title && !title.value.trim()) { title.focus(); return; }
    if (comment && !comment.value.trim()) { comment.focus(); return; }
    form.requestSubmit();
  });
})();
