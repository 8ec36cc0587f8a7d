// Draws the overview charts from the JSON embedded in the page (no network, no CDN).
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, sans-serif";
  const brand = "#b4235a", grey = "rgba(180,35,90,0.15)";

  function line(id, labels, values, label, low, high, few) {
    const el = document.getElementById(id);
    if (!el || !labels.length) return;
    // a point on few answers, or in the month still in progress, is hollow: read it with care
    const fill = few ? few.map(f => f ? "#fff" : brand) : brand;
    const sets = [{label: label, data: values, borderColor: brand, backgroundColor: brand, pointBackgroundColor: fill,
                   pointRadius: few ? few.map(f => f ? 4 : 3) : 3, tension: 0.2}];
    if (low && high) {
      sets.push({label: "95% interval", data: high, borderColor: "transparent", backgroundColor: grey, fill: "+1", pointRadius: 0});
      sets.push({label: "", data: low, borderColor: "transparent", backgroundColor: grey, fill: false, pointRadius: 0});
    }
    new Chart(el, {type: "line", data: {labels: labels, datasets: sets},
      options: {plugins: {legend: {display: false}}, responsive: true, maintainAspectRatio: false}});
  }

  function bars(id, labels, values, label) {
    const el = document.getElementById(id);
    if (!el || !labels.length) return;
    new Chart(el, {type: "bar", data: {labels: labels, datasets: [{label: label, data: values, backgroundColor: brand}]},
      options: {plugins: {legend: {display: false}}, responsive: true, maintainAspectRatio: false}});
  }

  const repeat = document.getElementById("chart-repeat");
  if (repeat && data.repeat.labels.length) {  // a cohort whose window has not passed has no point (null), not 0
    new Chart(repeat, {type: "line", data: {labels: data.repeat.labels, datasets: [
        {label: "within 90 days", data: data.repeat.within_90, borderColor: brand, backgroundColor: brand, tension: 0.2},
        {label: "within 365 days", data: data.repeat.within_365, borderColor: "#555", backgroundColor: "#555", tension: 0.2}]},
      options: {plugins: {legend: {display: true}}, responsive: true, maintainAspectRatio: false}});
  }
  for (const kind of ["nps", "csat", "ces"]) {
    const s = data.scores[kind];
    if (s) line("chart-" + kind, s.labels, s.values, kind.toUpperCase(), s.low, s.high, s.few);
  }
  bars("chart-stages", data.stages.labels, data.stages.values, "customers");
  bars("chart-health", data.health.labels, data.health.values, "customers");
  if (data.clv) bars("chart-clv", data.clv.labels, data.clv.values, "customers");
  document.body.dataset.chartsDrawn = "yes";
})();
