// Renders every [data-figure] element from the JSON block #figure-<name> (CSP: no inline JS).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) return;
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    const source = document.getElementById("figure-" + el.dataset.figure);
    if (!source) return;
    const fig = JSON.parse(source.textContent);
    // Self-hosted: no "Share chart" button offering to upload the data to Plotly's cloud.
    window.Plotly.newPlot(el, fig.data, fig.layout, {
      displaylogo: false,
      responsive: true,
      showSendToCloud: false,
      showEditInChartStudio: false,
      modeBarButtonsToRemove: ["sendChartToCloud", "sendDataToCloud"],
    });
  });
});
