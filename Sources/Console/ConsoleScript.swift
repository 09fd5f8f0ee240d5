/// The console's script: fetches the page's JSON, renders it with DOM calls (text, never HTML, so no
/// value from a server can run as script), and follows the live stream while the tab is visible.
enum ConsoleScript {
    static let js = #"""
    "use strict";
    (function () {
      const body = document.body;
      const page = body.dataset.page;
      const role = body.dataset.role;
      const main = document.getElementById("main");

      function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [key, value] of Object.entries(attrs || {})) {
          if (value === undefined || value === null || value === false) continue;
          if (key === "text") node.textContent = value; else node.setAttribute(key, value === true ? "" : value);
        }
        for (const child of children) if (child !== null && child !== undefined) node.append(child);
        return node;
      }
      const svgNS = "http://www.w3.org/2000/svg";
      function svg(tag, attrs) {
        const node = document.createElementNS(svgNS, tag);
        for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
        return node;
      }
      function age(iso) {
        if (!iso) return "-";
        const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
        if (seconds < 90) return seconds + " s ago";
        if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
        if (seconds < 172800) return Math.round(seconds / 3600) + " h ago";
        return Math.round(seconds / 86400) + " d ago";
      }
      function shown(value) { return value === null || value === undefined || value === "" ? "-" : String(value); }
      async function getJSON(url) {
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.status === 401) { location.href = "/login"; throw new Error("signed out"); }
        if (!response.ok) throw new Error((await response.text()).trim() || response.statusText);
        return response.json();
      }
      async function post(url, form) {
        const response = await fetch(url, { method: "POST", credentials: "same-origin", body: new URLSearchParams(form) });
        if (response.status === 401) { location.href = "/login"; throw new Error("signed out"); }
        if (!response.ok) throw new Error((await response.text()).trim() || response.statusText);
        return response.json();
      }
      function setStatus(text, isError) {
        let status = document.getElementById("status");
        if (!status) { status = el("p", { id: "status" }); main.append(status); }
        status.className = isError ? "error" : "muted";
        status.textContent = text;
      }
      function replaceContent(...nodes) {
        const title = main.querySelector("h1");
        main.replaceChildren(title, ...nodes);
      }
      function table(headers, rows) {
        const head = el("tr", {}, ...headers.map((h) => el("th", { text: h, scope: "col" })));
        return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
      }
      function card(label, value, tone) {
        return el("div", { class: "card" + (tone ? " " + tone : "") }, el("div", { class: "label", text: label }), el("div", { class: "value", text: shown(value) }));
      }
      function stateCell(state) { return el("td", { class: "state-" + state, text: state }); }

      // Live updates: one stream per tab, closed while the tab is hidden.
      const liveHandlers = {};
      let stream = null;
      function setLive(on) {
        const badge = document.getElementById("live");
        if (!badge) return;
        badge.textContent = on ? "● live" : "○ paused";
        badge.className = on ? "live on" : "live";
      }
      function openStream() {
        if (stream || document.hidden || Object.keys(liveHandlers).length === 0) return;
        stream = new EventSource("/api/events");
        stream.onopen = () => setLive(true);
        stream.onerror = () => setLive(false);
        for (const [name, handler] of Object.entries(liveHandlers)) {
          stream.addEventListener(name, (event) => { try { handler(JSON.parse(event.data)); } catch (e) { setStatus(String(e), true); } });
        }
      }
      function closeStream() { if (stream) { stream.close(); stream = null; } setLive(false); }
      document.addEventListener("visibilitychange", () => { if (document.hidden) closeStream(); else openStream(); });

      // Overview
      function renderOverview(data) {
        const cards = el("div", { class: "cards" },
          card("Connected", data.connected + " of " + data.enabled, data.connected === data.enabled ? "ok" : null),
          card("Missing", data.missing, data.missing > 0 ? "bad" : null),
          card("Connecting", data.connecting),
          card("Parked", data.parked, data.parked > 0 ? "bad" : null),
          card("Pending jobs", data.pending),
          card("Down or failed", data.failed, data.failed > 0 ? "bad" : null),
          card("Capacity", data.capacity ? data.capacity.slots + " slots, " + data.capacity.workers + " workers" : "-"),
          card("Shortfall", data.capacity ? data.capacity.shortfall : "-", data.capacity && data.capacity.shortfall > 0 ? "bad" : null),
          card("Last cycle", data.cycle ? data.cycle.milliseconds + " ms, " + age(data.cycle.at) : "none yet"));
        const legend = el("div", { class: "legend" },
          el("span", {}, el("span", { class: "swatch ok" }), "recovered"), el("span", {}, el("span", { class: "swatch bad" }), "failed (retrying or dead)"));
        replaceContent(cards, el("h2", { text: "Recoveries and failures, last hour" }), barChart(data.perMinute), legend,
          el("p", { class: "muted", text: "Updated " + age(data.takenAt) }));
      }
      function barChart(minutes) {
        const width = 600, height = 160, pad = 18;
        const chart = svg("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "results per minute" });
        const peak = Math.max(1, ...minutes.map((m) => m.recovered + m.failed));
        const slot = (width - 2 * pad) / Math.max(1, minutes.length);
        chart.append(svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
        minutes.forEach((m, i) => {
          const x = pad + i * slot, scale = (height - 2 * pad) / peak;
          const hr = m.recovered * scale, hf = m.failed * scale;
          if (hr > 0) chart.append(svg("rect", { class: "recovered", x: x + 1, y: height - pad - hr, width: Math.max(1, slot - 2), height: hr }));
          if (hf > 0) chart.append(svg("rect", { class: "failed", x: x + 1, y: height - pad - hr - hf, width: Math.max(1, slot - 2), height: hf }));
        });
        const top = svg("text", { x: 2, y: 12 }); top.textContent = String(peak); chart.append(top);
        const left = svg("text", { x: pad, y: height - 4 }); left.textContent = "60 min ago"; chart.append(left);
        const right = svg("text", { x: width - pad - 24, y: height - 4 }); right.textContent = "now"; chart.append(right);
        return chart;
      }

      // Endpoints
      function endpointsQuery() {
        const params = new URLSearchParams(location.search);
        return { q: params.get("q") || "", state: params.get("state") || "all", page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1) };
      }
      async function loadEndpoints() {
        const query = endpointsQuery();
        const data = await getJSON("/api/endpoints?" + new URLSearchParams({ q: query.q, state: query.state, page: String(query.page), per: "50" }));
        const search = el("input", { type: "search", id: "search", placeholder: "Search id, name, worker, error", value: query.q, "aria-label": "Search endpoints" });
        const state = el("select", { id: "state-filter", "aria-label": "State" }, el("option", { value: "all", text: "All states" }),
          ...data.states.map((s) => el("option", { value: s, text: s, selected: s === query.state })));
        const go = (changes) => {
          const next = Object.assign(endpointsQuery(), changes);
          history.replaceState(null, "", "/endpoints?" + new URLSearchParams({ q: next.q, state: next.state, page: String(next.page) }));
          loadEndpoints().catch((e) => setStatus(String(e.message || e), true));
        };
        let timer = null;
        search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => go({ q: search.value, page: 1 }), 300); });
        state.addEventListener("change", () => go({ state: state.value, page: 1 }));
        const pages = Math.max(1, Math.ceil(data.matching / data.perPage));
        const prev = el("button", { type: "button", text: "← Previous", disabled: data.page <= 1 });
        const next = el("button", { type: "button", text: "Next →", disabled: data.page >= pages });
        prev.addEventListener("click", () => go({ page: data.page - 1 }));
        next.addEventListener("click", () => go({ page: data.page + 1 }));
        const rows = data.rows.map((row, i) => {
          const last = data.lastResults[i];
          return el("tr", {},
            el("td", {}, el("a", { href: "/endpoints/" + encodeURIComponent(row.id), text: row.id })),
            el("td", { text: row.name }), el("td", { text: row.enabled ? "yes" : "no" }), stateCell(row.state),
            el("td", { text: shown(row.owner) }), el("td", { text: age(row.lastHeartbeat) }),
            el("td", { class: "wrap", text: shown(row.lastError || (last && last.error)) }),
            el("td", { text: last ? last.outcome + " (attempt " + last.attempt + ")" : "-" }));
        });
        const focused = document.activeElement && document.activeElement.id === "search";
        replaceContent(
          el("div", { class: "toolbar" }, search, state, el("span", { class: "muted", text: data.matching + " of " + data.total + " endpoints" })),
          table(["Id", "Name", "Enabled", "State", "Worker", "Heartbeat", "Last error", "Last result"], rows),
          el("div", { class: "toolbar" }, prev, el("span", { class: "muted", text: "Page " + data.page + " of " + pages }), next));
        if (focused) { search.focus(); search.setSelectionRange(search.value.length, search.value.length); }
      }

      async function loadEndpoint() {
        const id = decodeURIComponent(location.pathname.slice("/endpoints/".length));
        const data = await getJSON("/api/endpoints/" + encodeURIComponent(id));
        const s = data.status;
        main.querySelector("h1").textContent = "Endpoint " + s.name;
        const fields = el("dl", { class: "fields" });
        for (const [label, value] of [["Id", s.id], ["Name", s.name], ["Enabled", s.enabled ? "yes" : "no"], ["State", s.state],
          ["Worker", shown(s.owner)], ["Last heartbeat", s.lastHeartbeat ? s.lastHeartbeat + " (" + age(s.lastHeartbeat) + ")" : "-"],
          ["Last error", shown(s.lastError)], ["Parked until", shown(s.parkedUntil)], ["User", data.userId], ["Row updated", shown(data.updatedAt)]]) {
          fields.append(el("dt", { text: label }), el("dd", { text: value }));
        }
        const results = data.results.map((r) => el("tr", {}, el("td", { text: age(r.at) }), el("td", { text: r.outcome }),
          el("td", { text: String(r.attempt) }), el("td", { text: r.worker }), el("td", { text: r.durationMs + " ms" }), el("td", { class: "wrap", text: shown(r.error) })));
        const tools = data.tools.map((t) => el("tr", {}, el("td", { text: t.service }), el("td", { text: t.name }), el("td", { class: "wrap", text: shown(t.description) })));
        replaceContent(fields,
          el("h2", { text: "Recent results" }), results.length ? table(["When", "Outcome", "Attempt", "Worker", "Took", "Error"], results) : el("p", { class: "muted", text: "No result recorded." }),
          el("h2", { text: "Bound tools" }), tools.length ? table(["Service", "Tool", "Description"], tools) : el("p", { class: "muted", text: "No tool bound." }));
      }

      // Workers
      async function loadWorkers() {
        const data = await getJSON("/api/workers");
        const rows = data.rows.map((w) => el("tr", {}, el("td", { text: w.instanceId }), el("td", { text: w.host }), el("td", { text: String(w.pid) }),
          el("td", { text: w.live ? "yes" : "no", class: w.live ? "state-Connected" : "state-missing" }),
          el("td", { text: w.sessions + " / " + w.capacity }), el("td", { text: age(w.heartbeatAt) }), el("td", { text: age(w.startedAt) }),
          el("td", { text: shown(w.metricsPort) }), el("td", { text: shown(w.version) })));
        replaceContent(el("p", { class: "muted", text: data.summary }),
          table(["Instance", "Host", "PID", "Live", "Sessions / capacity", "Heartbeat", "Started", "Metrics port", "Version"], rows));
      }

      // Queues
      function renderQueues(data) {
        const rows = data.rows.map((q) => el("tr", {}, el("td", { text: q.name }), el("td", { text: q.role }),
          el("td", { text: q.exists ? shown(q.ready) : "not declared" }), el("td", { text: shown(q.unacked) }), el("td", { text: shown(q.consumers) }),
          el("td", { text: shown(q.deadLettered) })));
        const notes = data.managementProblem ? [el("p", { class: "notice", text: "Unacknowledged counts unknown: " + data.managementProblem })] : [];
        replaceContent(table(["Queue", "Role", "Ready", "Unacked", "Consumers", "Dead-lettered"], rows), ...notes,
          el("h2", { text: "Depth over time" }), lineChart(data.history), el("p", { class: "muted", text: "Updated " + age(data.takenAt) + "; history since the console started, at most an hour." }));
      }
      function lineChart(samples) {
        const width = 600, height = 160, pad = 18;
        const chart = svg("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "queue depth over time" });
        chart.append(svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
        const names = [...new Set(samples.flatMap((s) => Object.keys(s.depths)))].sort();
        const peak = Math.max(1, ...samples.flatMap((s) => Object.values(s.depths)));
        const colors = ["#0b62d6", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#1b7c83", "#bf3989", "#6e7781"];
        names.forEach((name, n) => {
          const points = samples.map((s, i) => {
            const x = pad + (samples.length < 2 ? 0 : i * (width - 2 * pad) / (samples.length - 1));
            const y = height - pad - (s.depths[name] || 0) * (height - 2 * pad) / peak;
            return x.toFixed(1) + "," + y.toFixed(1);
          });
          const line = svg("polyline", { points: points.join(" "), fill: "none", stroke: colors[n % colors.length], "stroke-width": "2" });
          const label = svg("title", {}); label.textContent = name; line.append(label);
          chart.append(line);
        });
        const top = svg("text", { x: 2, y: 12 }); top.textContent = String(peak); chart.append(top);
        return chart;
      }

      // Dead letters
      function deadQuery() {
        const params = new URLSearchParams(location.search);
        return { q: params.get("q") || "", reason: params.get("reason") || "all" };
      }
      async function loadDead(message) {
        const query = deadQuery();
        const data = await getJSON("/api/dead?" + new URLSearchParams(query));
        const admin = role === "admin";
        const search = el("input", { type: "search", id: "search", placeholder: "Search endpoint id or error", value: query.q, "aria-label": "Search dead letters" });
        const reason = el("select", { id: "reason-filter", "aria-label": "Reason" }, el("option", { value: "all", text: "All reasons" }),
          ...data.reasons.map((r) => el("option", { value: r, text: r, selected: r === query.reason })));
        const go = (changes) => {
          const next = Object.assign(deadQuery(), changes);
          history.replaceState(null, "", "/dead?" + new URLSearchParams(next));
          loadDead().catch((e) => setStatus(String(e.message || e), true));
        };
        let timer = null;
        search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => go({ q: search.value }), 300); });
        reason.addEventListener("change", () => go({ reason: reason.value }));
        const boxes = [];
        const rows = data.rows.map((d) => {
          const box = el("input", { type: "checkbox", "aria-label": "Select " + shown(d.serverId), disabled: !admin || !d.serverId, "data-server": d.serverId || "" });
          boxes.push(box);
          return el("tr", {}, el("td", {}, box),
            el("td", {}, d.serverId ? el("a", { href: "/endpoints/" + encodeURIComponent(d.serverId), text: d.serverId }) : el("span", { class: "muted", text: "malformed" })),
            el("td", { text: d.reason }), el("td", { text: shown(d.attempts) }), el("td", { class: "wrap", text: shown(d.lastError) }), el("td", { text: age(d.diedAt) }));
        });
        const filtered = query.q !== "" || query.reason !== "all";
        const act = async (action, form, question) => {
          if (!confirm(question)) return;
          try {
            const result = await post("/api/dead/" + action, form);
            const text = action === "retry"
              ? "Retried " + result.retried + " dead letters (" + result.endpoints + " endpoints queued); " + result.remaining + " left."
              : "Purged " + result.purged + " dead letters; " + result.remaining + " left.";
            await loadDead(text);
          } catch (e) { setStatus(String(e.message || e), true); }
        };
        const selected = () => boxes.filter((b) => b.checked).map((b) => b.dataset.server).filter((s) => s);
        const buttons = [];
        if (admin) {
          const retrySel = el("button", { type: "button", id: "retry-selected", text: "Retry selected" });
          const purgeSel = el("button", { type: "button", id: "purge-selected", class: "danger", text: "Purge selected" });
          const retryAll = el("button", { type: "button", id: "retry-matching", text: filtered ? "Retry all matching" : "Retry all" });
          const purgeAll = el("button", { type: "button", id: "purge-matching", class: "danger", text: filtered ? "Purge all matching" : "Purge all" });
          retrySel.addEventListener("click", () => { const ids = selected(); if (ids.length) act("retry", { servers: ids.join(",") }, "Retry the dead letters of " + ids.length + " endpoints?"); });
          purgeSel.addEventListener("click", () => { const ids = selected(); if (ids.length) act("purge", { servers: ids.join(",") }, "Drop the dead letters of " + ids.length + " endpoints for good?"); });
          retryAll.addEventListener("click", () => act("retry", { scope: "filter", q: query.q, reason: query.reason }, "Retry " + (filtered ? "every dead letter matching this filter" : "every dead letter") + "?"));
          purgeAll.addEventListener("click", () => act("purge", { scope: "filter", q: query.q, reason: query.reason }, "Drop " + (filtered ? "every dead letter matching this filter" : "every dead letter") + " for good?"));
          buttons.push(retrySel, purgeSel, retryAll, purgeAll);
        } else {
          buttons.push(el("span", { class: "muted", text: "Read-only sign-in: retry and purge need the admin token." }));
        }
        const notice = message ? [el("p", { class: "notice", role: "status", id: "action-result", text: message })] : [];
        replaceContent(...notice,
          el("div", { class: "toolbar" }, search, reason, el("span", { class: "muted", text: data.rows.length + " of " + data.total + " dead letters" })),
          el("div", { class: "toolbar" }, ...buttons),
          table(["", "Endpoint", "Reason", "Attempts", "Last error", "Died"], rows));
      }

      const loaders = { overview: async () => renderOverview(await getJSON("/api/overview")), endpoints: loadEndpoints, endpoint: loadEndpoint,
        workers: loadWorkers, queues: async () => renderQueues(await getJSON("/api/queues")), deadLetters: () => loadDead() };
      if (page === "overview") liveHandlers.overview = renderOverview;
      if (page === "queues") liveHandlers.queues = renderQueues;
      const load = loaders[page];
      if (load) load().then(openStream).catch((e) => setStatus(String(e.message || e), true));
    })();
    """#
}
