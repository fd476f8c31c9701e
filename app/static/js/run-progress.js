// A running run's page polls its progress every 2 s and reloads when the run's status changes.
(function () {
  const box = document.getElementById('runProgress');
  if (!box) { return; }
  const show = (v) => (v === null || v === undefined) ? '—' : v;
  async function poll() {
    try {
      const r = await fetch(box.dataset.url, {headers: {'Accept': 'application/json'}});
      const s = await r.json();
      if (s.status !== box.dataset.status) { window.location.reload(); return; }
      const field = (name) => box.querySelector('[data-field=' + name + ']') || {};
      field('elapsed').textContent = Math.round(s.progress.elapsed_s || 0);
      field('objective').textContent = show(s.progress.objective);
      field('bound').textContent = show(s.progress.bound);
    } catch (e) { /* try again */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
