/// The report's one stylesheet and its one script, inline in every page (no network, no CDN).
enum ReportStyle {
    static let css = """
        :root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --line: #d0d7de; --muted: #57606a; --bg: #f6f8fa; }
        * { box-sizing: border-box; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
        nav.top { background: #24292f; padding: 10px 24px; display: flex; gap: 18px; align-items: baseline; }
        nav.top a { color: #fff; text-decoration: none; font-weight: 600; }
        nav.top .generated { margin-left: auto; color: #aab; font-size: 12px; }
        main { padding: 16px 24px 48px; max-width: 1400px; }
        h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 24px 0 8px; }
        table { border-collapse: collapse; width: 100%; margin: 8px 0; }
        th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
        th { background: var(--bg); font-weight: 600; position: sticky; top: 0; }
        tr:hover td { background: #fbfcfd; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid; }
        .badge.ok { color: var(--ok); border-color: var(--ok); } .badge.bad { color: var(--bad); border-color: var(--bad); }
        .badge.warn { color: var(--warn); border-color: var(--warn); } .badge.neutral { color: var(--muted); border-color: var(--line); }
        .muted { color: var(--muted); } .num { text-align: right; font-variant-numeric: tabular-nums; }
        .filters { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; align-items: center; }
        .filters input, .filters select { padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
        .filters input { min-width: 260px; }
        pre { background: var(--bg); border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 480px; font-size: 12px; }
        .graph { border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto; background: #fff; }
        .graph svg { max-width: 100%; height: auto; }
        .cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 16px; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 140px; }
        .card .value { font-size: 20px; font-weight: 600; } .card .label { color: var(--muted); font-size: 12px; }
        code { background: var(--bg); padding: 1px 4px; border-radius: 4px; }
        details { margin: 6px 0; } summary { cursor: pointer; }
        .chart text { font-size: 11px; fill: var(--muted); }
        """

    /// Filters the workflow table by the search box and the three selects (customer pages).
    static let filterScript = """
        (function () {
          var search = document.getElementById('search');
          var selects = ['action', 'priority', 'status'].map(function (id) { return document.getElementById('filter-' + id); });
          var rows = Array.prototype.slice.call(document.querySelectorAll('#workflows tbody tr'));
          var counter = document.getElementById('shown');
          function apply() {
            var text = search.value.trim().toLowerCase();
            var shown = 0;
            rows.forEach(function (row) {
              var ok = !text || row.getAttribute('data-search').indexOf(text) >= 0;
              ok = ok && (!selects[0].value || row.getAttribute('data-actions').split('|').indexOf(selects[0].value) >= 0);
              ok = ok && (!selects[1].value || row.getAttribute('data-priorities').split('|').indexOf(selects[1].value) >= 0);
              ok = ok && (!selects[2].value || row.getAttribute('data-status') === selects[2].value);
              row.style.display = ok ? '' : 'none';
              if (ok) { shown += 1; }
            });
            counter.textContent = String(shown);
          }
          // A link may preset the filters: customers/acme.html#action=Email&status=Active&q=invoice
          location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
            var parts = pair.split('=');
            var value = decodeURIComponent(parts.slice(1).join('=') || '');
            if (parts[0] === 'q') { search.value = value; }
            if (parts[0] === 'action') { selects[0].value = value; }
            if (parts[0] === 'priority') { selects[1].value = value; }
            if (parts[0] === 'status') { selects[2].value = value; }
          });
          search.addEventListener('input', apply);
          selects.forEach(function (select) { select.addEventListener('change', apply); });
          apply();
        })();
        """
}
