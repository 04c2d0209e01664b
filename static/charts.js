// Renders every [data-figure] element from the JSON block #figure-<name> (CSP: no inline JS).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) return;
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    const source = document.getElementById("figure-" + el.dataset.figure);
    if (!source) return;
    const fig = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false, responsive: true });
  });
});
