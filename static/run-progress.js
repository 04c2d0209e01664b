// Live progress for a sync run: polls the JSON status until the run is final.
(function () {
  const box = document.getElementById("run");
  if (!box || box.dataset.final === "true") return;
  const url = box.dataset.statusUrl;
  const set = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  async function tick() {
    let data;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status);
      data = await response.json();
    } catch (err) {
      setTimeout(tick, 3000);
      return;
    }
    const bar = document.querySelector("#run-progress .progress-bar");
    if (bar) bar.style.width = data.progress + "%";
    document.getElementById("run-progress").setAttribute("aria-valuenow", data.progress);
    set("run-percent", data.progress);
    set("run-status", data.status);
    document.getElementById("run-status").className = "run run-" + data.status;
    ["inserted", "updated", "unchanged", "restated", "rejected", "requests", "pages"].forEach(
      (k) => set("run-" + k, data[k]));
    set("run-error", data.error || "");
    if (data.final) {
      box.dataset.final = "true";
      // An import page shows the finished import's row report.
      if (box.dataset.finalUrl) window.location.assign(box.dataset.finalUrl);
      return;
    }
    setTimeout(tick, 1000);
  }
  setTimeout(tick, 500);
})();
