// The overview's charts: Chart.js (served from node_modules by the console) over /api/overview.
// Chart.js draws on canvas, so model names and other log strings never become markup here.
const Chart = globalThis.Chart;
const document = globalThis.document;
const VERDICT_COLORS = {
  accepted: '#2e7d32',
  max_iter_exhausted: '#ef8f00',
  infra_error: '#c62828',
  other: '#78909c',
};
const PALETTE = [
  '#1565c0',
  '#6a1b9a',
  '#00838f',
  '#ad1457',
  '#558b2f',
  '#4e342e',
  '#283593',
  '#f9a825',
  '#78909c',
];

function bucketLabel(iso, seconds) {
  const text = iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
  if (seconds >= 86400) return text.slice(0, 10);
  return seconds >= 60 ? text.slice(5, 16) : text.slice(11, 19);
}

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  new Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
}

async function main() {
  const response = await fetch('/api/overview', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`/api/overview answered ${response.status}`);
  const data = await response.json();
  const labels = data.buckets.map((b) => bucketLabel(b, data.bucketSeconds));
  // Per-model and per-verdict data come as arrays of records: nothing here is looked up by a
  // name from the log.
  const modelNames = data.models.map((m) => m.model);
  draw('chart-verdicts-time', {
    type: 'bar',
    data: {
      labels,
      datasets: data.verdictsOverTime.map(({ verdict, sessions }) => ({
        label: verdict,
        data: sessions,
        backgroundColor: VERDICT_COLORS[verdict],
      })),
    },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, title: { display: true, text: 'sessions' } },
      },
    },
  });
  draw('chart-phantom-time', {
    type: 'line',
    data: {
      labels,
      datasets: data.models.map((m, i) => ({
        label: m.model,
        data: m.phantomRateOverTime.map((r) => (r === null ? null : Math.round(r * 1000) / 10)),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        spanGaps: true,
      })),
    },
    options: {
      scales: { y: { min: 0, max: 100, title: { display: true, text: '% of fill sessions' } } },
    },
  });
  draw('chart-verdicts-model', {
    type: 'bar',
    data: {
      labels: modelNames,
      datasets: [...data.verdictsOverTime.map((v) => v.verdict), 'other'].map((v) => ({
        label: v,
        data: data.models.map((m) => m.verdicts[v]),
        backgroundColor: VERDICT_COLORS[v],
      })),
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: { stacked: true, title: { display: true, text: 'sessions' } },
        y: { stacked: true },
      },
    },
  });
  draw('chart-attempts', {
    type: 'bar',
    data: {
      labels: data.attemptsPerSession.map((a) => (a.attempts === null ? '?' : String(a.attempts))),
      datasets: [
        {
          label: 'sessions',
          data: data.attemptsPerSession.map((a) => a.sessions),
          backgroundColor: '#1565c0',
        },
      ],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: 'attempts' } } },
    },
  });
  document.body.dataset.charts = 'ready';
}

main().catch((error) => {
  document.body.dataset.charts = 'error';
  const note = document.createElement('p');
  note.className = 'badge err';
  note.textContent = `charts unavailable: ${error.message}`;
  document.querySelector('.charts')?.prepend(note);
});
