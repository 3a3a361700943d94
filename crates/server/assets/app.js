// Vedette dashboard: theme toggle, live updates from /ui/events (Server-Sent Events), the
// monitor charts (uPlot) and copy buttons. Loaded in <head> so the theme applies before the
// first paint; everything else waits for the document.
"use strict";
(function () {
  const root = document.documentElement;
  const saved = localStorage.getItem("vedette-theme");
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;

  function toggleTheme() {
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("vedette-theme", root.dataset.theme);
  }

  // The CSRF token of the session, sent by htmx as a header on every request it makes.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = document.body.dataset.csrf || "";
  });

  // Opens the live stream after event `after` (from the newest when null) and hands each event to `onEvent`; the browser
  // reconnects by itself, resuming after the last event id.
  function live(after, onEvent) {
    const status = document.getElementById("live");
    const query = after === null ? "" : "?after=" + encodeURIComponent(after);
    const source = new EventSource("/ui/events" + query);
    source.onopen = function () {
      if (status) { status.textContent = "live"; status.classList.add("on"); }
    };
    source.onerror = function () {
      if (status) { status.textContent = "reconnecting…"; status.classList.remove("on"); }
    };
    const types = ["monitor.down", "monitor.up", "monitor.degraded", "incident.opened",
      "incident.resolved", "certificate.expiring", "deployment.started", "deployment.finished",
      "verification.passed", "verification.failed"];
    types.forEach(function (t) {
      source.addEventListener(t, function (m) {
        try { onEvent(t, JSON.parse(m.data), m.lastEventId); } catch { /* a malformed event is skipped */ }
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
    return source;
  }

  function setState(el, state) {
    el.classList.remove(el.dataset.state);
    el.classList.add(state);
    el.dataset.state = state;
    el.textContent = state;
  }

  function bump(state, delta) {
    const count = document.querySelector('#counts .count[data-state="' + state + '"] .n');
    if (count) count.textContent = String(Math.max(0, Number(count.textContent) + delta));
  }

  function overview(page) {
    live(page.dataset.after, function (type, event) {
      const data = event.data || {};
      if (!data.to || !event.monitor_id) return;
      const row = document.querySelector('tr[data-id="' + CSS.escape(event.monitor_id) + '"]');
      if (!row) return;
      const badge = row.querySelector(".state");
      const from = badge.dataset.state;
      if (from === data.to) return;
      bump(from, -1);
      bump(data.to, 1);
      setState(badge, data.to);
      row.classList.remove("changed");
      void row.offsetWidth;
      row.classList.add("changed");
    });
  }

  function eventsPage(table) {
    const body = table.querySelector("tbody");
    live(table.dataset.after, function (type, event, seq) {
      const data = event.data || {};
      const row = document.createElement("tr");
      const what = data.from && data.to ? data.from + " → " + data.to : (data.message || "");
      [seq, event.occurred_at, type, event.monitor_id || "", what].forEach(function (text, i) {
        const cell = document.createElement("td");
        if (i === 0) cell.className = "num";
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.insertBefore(row, body.firstChild);
      while (body.children.length > 500) body.removeChild(body.lastChild);
    });
  }

  function cssVar(name) {
    return getComputedStyle(root).getPropertyValue(name).trim();
  }

  function chartOptions(title, width, range, series) {
    return {
      title: title, width: width, height: 240,
      scales: { x: { time: true, range: range } },
      axes: [{ stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") } },
        { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") }, size: 70, values: function (u, v) { return v.map(function (x) { return x + " ms"; }); } }],
      series: [{}].concat(series),
    };
  }

  // A uPlot hook shading the buckets starting at `starts` (each `step` seconds long) in the
  // maintenance colour, under the lines.
  function maintenanceBands(starts, step) {
    return [function (u) {
      const ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = cssVar("--maintenance-bg");
      starts.forEach(function (s) {
        const x0 = u.valToPos(s, "x", true);
        const x1 = u.valToPos(s + step, "x", true);
        ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      });
      ctx.restore();
    }];
  }

  function monitorPage(page) {
    const box = document.getElementById("chart-percentiles");
    const phases = document.getElementById("chart-phases");
    let plots = [];
    function draw(range) {
      fetch(box.dataset.src + "?range=" + range, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (typeof uPlot === "undefined") return;
          plots.forEach(function (p) { p.destroy(); });
          const width = Math.max(280, box.clientWidth);
          const title = d.maintenance.length ? "Latency percentiles (maintenance shaded)" : "Latency percentiles";
          const latency = chartOptions(title, width, [d.from, d.to], [
            { label: "p50", stroke: cssVar("--up"), width: 2 },
            { label: "p95", stroke: cssVar("--degraded"), width: 2 },
            { label: "p99", stroke: cssVar("--down"), width: 2 },
          ]);
          latency.hooks = { drawClear: maintenanceBands(d.maintenance, d.step) };
          plots = [
            new uPlot(latency, [d.t, d.p50, d.p95, d.p99], box),
            new uPlot(chartOptions("Phases", width, [d.from, d.to], [
              { label: "DNS", stroke: "#8250df", width: 1.5 },
              { label: "connect", stroke: "#0969da", width: 1.5 },
              { label: "TLS", stroke: "#bf3989", width: 1.5 },
              { label: "first byte", stroke: cssVar("--degraded"), width: 1.5 },
              { label: "total", stroke: cssVar("--fg"), width: 2 },
            ]), [d.phase_t, d.dns, d.connect, d.tls, d.first_byte, d.total], phases),
          ];
        })
        .catch(function () { box.textContent = "The chart could not be loaded."; });
    }
    document.querySelectorAll(".ranges button").forEach(function (b) {
      b.addEventListener("click", function () {
        document.querySelectorAll(".ranges button").forEach(function (o) { o.setAttribute("aria-pressed", "false"); });
        b.setAttribute("aria-pressed", "true");
        draw(b.dataset.range);
      });
    });
    window.addEventListener("load", function () { draw("24h"); });
    const badge = document.getElementById("monitor-state");
    live(null, function (type, event) {
      if (event.monitor_id === page.dataset.id && event.data && event.data.to) setState(badge, event.data.to);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.getElementById("theme-toggle");
    if (toggle) toggle.addEventListener("click", toggleTheme);
    document.querySelectorAll("button.copy").forEach(function (b) {
      b.addEventListener("click", function () {
        const text = document.getElementById(b.dataset.copy).textContent;
        navigator.clipboard.writeText(text).then(function () { b.textContent = "Copied"; }, function () { b.textContent = "Select and copy the text"; });
      });
    });
    const page = document.getElementById("overview");
    if (page) overview(page);
    const events = document.getElementById("events");
    if (events) eventsPage(events);
    const monitor = document.getElementById("monitor");
    if (monitor) monitorPage(monitor);
  });
})();
