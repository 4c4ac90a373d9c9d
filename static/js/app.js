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
