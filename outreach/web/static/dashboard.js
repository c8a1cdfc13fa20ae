// Draws every <canvas data-chart> from the JSON config the server put next to it.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.id + "-data");
    if (!source) { return; }
    var config = JSON.parse(source.textContent);
    config.options = config.options || {};
    config.options.responsive = true;
    canvas.chart = new Chart(canvas, config);
    canvas.dataset.rendered = "1";
  });
})();
