// Draws the overview charts from the JSON embedded in the page (no network, no CDN).
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, sans-serif";
  const brand = "#b4235a", grey = "rgba(180,35,90,0.15)";

  function line(id, labels, values, label, low, high) {
    const el = document.getElementById(id);
    if (!el || !labels.length) return;
    const sets = [{label: label, data: values, borderColor: brand, backgroundColor: brand, tension: 0.2}];
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

  line("chart-repeat", data.repeat.labels, data.repeat.values, "repeat-customer rate");
  for (const kind of ["nps", "csat", "ces"]) {
    const s = data.scores[kind];
    if (s) line("chart-" + kind, s.labels, s.values, kind.toUpperCase(), s.low, s.high);
  }
  bars("chart-stages", data.stages.labels, data.stages.values, "customers");
  bars("chart-health", data.health.labels, data.health.values, "customers");
  if (data.clv) bars("chart-clv", data.clv.labels, data.clv.values, "customers");
  document.body.dataset.chartsDrawn = "yes";
})();
