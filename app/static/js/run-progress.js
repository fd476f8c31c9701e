// A working run's page polls its progress every 2 s (share done, time left) and reloads once
// the run's status changes.
(function () {
  const box = document.getElementById('runProgress');
  if (!box) { return; }
  const field = (name) => box.querySelector('[data-field=' + name + ']');
  const set = (name, value) => { const el = field(name); if (el) { el.textContent = value; } };
  async function poll() {
    try {
      const r = await fetch(box.dataset.url, {headers: {'Accept': 'application/json'}});
      if (r.ok) {
        const s = await r.json();
        if (s.status !== box.dataset.status) { window.location.reload(); return; }
        const p = s.progress || {};
        set('percent', p.percent || 0);
        set('left', (p.left_s === null || p.left_s === undefined) ? '—' : p.left_s);
        set('elapsed', p.elapsed_s || 0);
        const bar = field('bar');
        if (bar) {
          bar.setAttribute('aria-valuenow', p.percent || 0);
          bar.firstElementChild.style.width = (p.percent || 0) + '%';
        }
      }
    } catch (e) { /* try again */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
