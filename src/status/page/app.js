// tcp-echo's status page. Plain browser JavaScript (no build step): the server embeds and serves
// this file as it is. Data: GET /status once, GET /events (one summary a second), and pages of
// GET /connections for the rows in view, so 10,000 connections cost the page a few dozen rows.
"use strict";
(() => {
  const ROW_H = 24;
  /** Rows fetched above and below the visible ones, so a short scroll shows data at once. */
  const OVERSCAN = 10;
  /** No byte on the feed for this long (the server sends one event a second): reconnect. */
  const STALL_MS = 5000;
  const CLOSES_KEPT = 500;
  const TOKEN_KEY = "tcp-echo-token";
  const REASONS = ["peer-closed", "idle-timeout", "reset", "error", "shutdown", "limit", "denied", "proxy-error", "proxy-timeout", "toxic", "api"];
  const TOXIC_TYPES = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"];
  const COLUMNS = [
    ["id", "id", "id"],
    ["peer", "peer", "peer"],
    ["proxied", "proxied client", null],
    ["listener", "listener", "listener"],
    ["age", "age", "age"],
    ["in", "bytes in", "bytes_in"],
    ["out", "bytes out", "bytes_out"],
    ["idle", "idle left", "idle"],
    ["rtt", "RTT", "rtt"],
    ["state", "TCP state", "phase"],
    ["toxics", "toxics", null],
    ["actions", "", null],
  ];

  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...kids) => {
    const e = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) if (v !== undefined && v !== null) k === "dataset" ? Object.assign(e.dataset, v) : (e[k] = v);
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };

  const state = {
    readOnly: true,
    online: false,
    token: sessionStorage.getItem(TOKEN_KEY),
    sort: "id",
    order: "asc",
    filter: "",
    total: 0,
    listeners: new Map(),
    lastListenersJson: "",
    closes: [],
  };
  /** The page's own cost per update, read by the tests and shown nowhere else. */
  const perf = (window.__tcpEchoStatus = { updates: [], rowRenders: [], events: 0 });

  // ---- formatting -------------------------------------------------------------------------
  const fmtBytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1073741824).toFixed(2)} GiB`);
  const fmtRate = (n) => `${fmtBytes(Math.round(n))}/s`;
  const fmtMs = (ms) => (ms === null || ms === undefined ? "" : ms < 1000 ? `${Math.round(ms)} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : ms < 3600000 ? `${Math.floor(ms / 60000)}m${String(Math.floor((ms % 60000) / 1000)).padStart(2, "0")}s` : `${(ms / 3600000).toFixed(1)} h`);
  const fmtNum = (n) => n.toLocaleString("en-US");
  const fmtTime = (t) => new Date(t).toLocaleTimeString("en-GB", { hour12: false });

  // ---- API ----------------------------------------------------------------------------------
  function headers(extra) {
    const h = Object.assign({}, extra);
    if (state.token) h.authorization = `Bearer ${state.token}`;
    return h;
  }

  /** A call to the server's API; throws with the API's own error text. */
  async function api(method, path, body) {
    const res = await fetch(path, { method, headers: headers(body === undefined ? {} : { "content-type": "application/json" }), body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    if (res.status === 401) askToken();
    if (!res.ok) {
      let msg = `${res.status}`;
      try {
        msg = (await res.json()).error || msg;
      } catch {}
      throw new Error(msg);
    }
    return res;
  }

  function askToken() {
    $("token-form").hidden = false;
    setBanner("This API needs its token (--api-token): enter it above. It stays in this tab only (sessionStorage).");
  }

  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim() || null;
    if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
    else sessionStorage.removeItem(TOKEN_KEY);
    $("token-form").hidden = true;
    setBanner(null);
    restartFeed();
  });

  function setBanner(text) {
    const b = $("banner");
    b.hidden = !text;
    b.textContent = text || "";
  }

  function setOnline(on, why) {
    const s = $("conn-state");
    if (on) {
      s.textContent = "live";
      s.className = "badge state-live";
      if (!state.online) setBanner(null);
    } else {
      s.textContent = "offline";
      s.className = "badge state-offline";
      if (state.online || !$("banner").textContent) setBanner(`Server unreachable since ${fmtTime(Date.now())}${why ? ` (${why})` : ""}: reconnecting every second.`);
    }
    state.online = on;
  }

  // ---- the feed: GET /events read through fetch -----------------------------------------------
  // EventSource cannot send an Authorization header, and the API's token rule covers /events; a
  // fetch stream can. It reconnects as EventSource would (after the server's retry time), and
  // after a reconnect everything is fetched again: a restarted server has new ids and counters.
  let feedAbort = null;
  let retryMs = 1000;

  function restartFeed() {
    if (feedAbort) feedAbort.abort();
  }

  async function runFeed() {
    for (;;) {
      const ac = new AbortController();
      feedAbort = ac;
      let stall = null;
      const arm = () => {
        clearTimeout(stall);
        stall = setTimeout(() => ac.abort(), STALL_MS);
      };
      let why = "";
      try {
        arm();
        const res = await fetch("/events", { headers: headers({ accept: "text/event-stream" }), cache: "no-store", signal: ac.signal });
        if (res.status === 401) {
          askToken();
          why = "token needed";
        } else if (!res.ok || !res.body) why = `HTTP ${res.status}`;
        else {
          await loadStatus();
          setOnline(true);
          const reader = res.body.getReader();
          const dec = new TextDecoder();
          let buf = "";
          let event = "message";
          let data = [];
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            arm();
            buf += dec.decode(value, { stream: true });
            let nl;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl).replace(/\r$/, "");
              buf = buf.slice(nl + 1);
              if (line === "") {
                if (data.length) onEvent(event, data.join("\n"));
                event = "message";
                data = [];
              } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
              else if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("retry:")) retryMs = Math.max(250, Number(line.slice(6)) || 1000);
            }
          }
          why = "the server ended the stream";
        }
      } catch (e) {
        why = ac.signal.aborted ? "no data for 5 s" : "connection failed";
      }
      clearTimeout(stall);
      if (!feedAbort || feedAbort === ac) setOnline(false, why);
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }

  async function loadStatus() {
    const s = await (await api("GET", "/status")).json();
    state.readOnly = s.read_only;
    $("version").textContent = `v${s.version}${s.workers ? ` · ${s.workers} workers` : ""}`;
    const mode = $("mode");
    mode.textContent = s.read_only ? "read-only (--metrics)" : "control (--api)";
    document.body.classList.toggle("read-only", s.read_only);
    state.lastListenersJson = "";
    renderListeners(s.listeners);
    renderCounters(s.totals, null);
    renderHead();
    scheduleRows();
  }

  function onEvent(type, text) {
    if (type !== "status") return;
    const t0 = performance.now();
    const ev = JSON.parse(text);
    perf.events++;
    const last = ev.history.length ? ev.history[ev.history.length - 1] : null;
    renderCounters(ev.totals, last);
    if (ev.init) chartsReset(ev.history);
    else if (last) chartsPush(last);
    renderListeners(ev.listeners);
    renderCloses(ev.closes, ev.init, ev.closes_total);
    const ms = performance.now() - t0;
    perf.updates.push(ms);
    if (perf.updates.length > 1000) perf.updates.shift();
    performance.measure("status-update", { start: t0, duration: ms });
    // The rows in view are fetched again each second: ages, bytes and RTTs move.
    scheduleRows();
  }

  // ---- counters -----------------------------------------------------------------------------
  function renderCounters(t, s) {
    const items = [
      ["open", fmtNum(t.open)],
      ["accepted", fmtNum(t.accepted)],
      ["conn/s", s ? fmtNum(s.conn_s) : "–"],
      ["bytes in", fmtBytes(t.bytes_in)],
      ["bytes out", fmtBytes(t.bytes_out)],
      ["in/s", s ? fmtRate(s.in_bps) : "–"],
      ["out/s", s ? fmtRate(s.out_bps) : "–"],
    ];
    for (const r of REASONS) if (t.closed[r]) items.push([`closed: ${r}`, fmtNum(t.closed[r])]);
    const dl = $("counters");
    while (dl.children.length > items.length) dl.lastChild.remove();
    items.forEach(([k, v], i) => {
      let d = dl.children[i];
      if (!d) dl.append((d = el("div", null, el("dt"), el("dd"))));
      if (d.firstChild.textContent !== k) d.firstChild.textContent = k;
      if (d.lastChild.textContent !== v) d.lastChild.textContent = v;
      d.dataset.counter = k;
    });
  }

  // ---- charts (uPlot) -------------------------------------------------------------------------
  const COLORS = { conn: "#1a5fb4", open: "#26a269", in: "#c64600", out: "#813d9c" };
  const REASON_COLORS = ["#26a269", "#e5a50a", "#c01c28", "#a51d2d", "#865e3c", "#813d9c", "#613583", "#1c71d8", "#3584e4", "#e66100", "#5e5c64"];
  const charts = { conns: null, bytes: null, closes: null, data: null };

  function chartWidth(id) {
    return Math.max(300, $(id).parentElement.clientWidth - 4);
  }

  function makeCharts() {
    if (typeof uPlot !== "function") return;
    const axes = (fmt) => [{}, { values: (u, vals) => vals.map(fmt), size: 84 }];
    const base = (id) => ({ width: chartWidth(id), height: 170, legend: { live: true }, cursor: { drag: { x: false, y: false } }, scales: { x: { time: true } } });
    charts.conns = new uPlot(
      Object.assign(base("chart-conns"), {
        series: [{}, { label: "conn/s", stroke: COLORS.conn, width: 1.5 }, { label: "open", stroke: COLORS.open, width: 1.5, scale: "open" }],
        axes: [{}, { size: 60 }, { scale: "open", side: 1, grid: { show: false }, size: 60 }],
      }),
      [[], [], []],
      $("chart-conns"),
    );
    charts.bytes = new uPlot(
      Object.assign(base("chart-bytes"), { series: [{}, { label: "in/s", stroke: COLORS.in, width: 1.5 }, { label: "out/s", stroke: COLORS.out, width: 1.5 }], axes: axes((v) => (v == null ? "" : fmtBytes(v))) }),
      [[], [], []],
      $("chart-bytes"),
    );
    charts.closes = new uPlot(
      Object.assign(base("chart-closes"), { series: [{}, ...REASONS.map((r, i) => ({ label: r, stroke: REASON_COLORS[i], width: 1.5, show: false }))] }),
      [[], ...REASONS.map(() => [])],
      $("chart-closes"),
    );
    window.addEventListener("resize", () => {
      for (const [k, id] of [["conns", "chart-conns"], ["bytes", "chart-bytes"], ["closes", "chart-closes"]]) charts[k].setSize({ width: chartWidth(id), height: 170 });
    });
  }

  function chartsReset(history) {
    charts.data = { x: [], conn: [], open: [], in: [], out: [], closes: REASONS.map(() => []) };
    for (const s of history) addSample(s);
    chartsDraw();
  }

  function addSample(s) {
    const d = charts.data;
    d.x.push(s.t / 1000);
    d.conn.push(s.conn_s);
    d.open.push(s.open);
    d.in.push(s.in_bps);
    d.out.push(s.out_bps);
    REASONS.forEach((r, i) => d.closes[i].push(s.closes[r] || 0));
    // Five minutes at one sample a second, as the server keeps.
    if (d.x.length > 300) {
      d.x.shift();
      d.conn.shift();
      d.open.shift();
      d.in.shift();
      d.out.shift();
      for (const c of d.closes) c.shift();
    }
  }

  function chartsPush(s) {
    if (!charts.data) chartsReset([]);
    addSample(s);
    chartsDraw();
  }

  function chartsDraw() {
    if (!charts.conns || !charts.data) return;
    const d = charts.data;
    charts.conns.setData([d.x, d.conn, d.open]);
    charts.bytes.setData([d.x, d.in, d.out]);
    charts.closes.setData([d.x, ...d.closes]);
    // A reason appears in the legend once it has happened in the window.
    REASONS.forEach((r, i) => {
      const seen = d.closes[i].some((n) => n > 0);
      if (charts.closes.series[i + 1].show !== seen) charts.closes.setSeries(i + 1, { show: seen });
    });
  }

  // ---- listeners and toxics -------------------------------------------------------------------
  function parseAttributes(text) {
    const out = {};
    for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
      const m = /^([a-z_]+)\s*=\s*(-?[0-9.]+)$/.exec(part);
      if (!m) throw new Error(`attributes: "${part}" is not name=number`);
      out[m[1]] = Number(m[2]);
    }
    return out;
  }

  const attrText = (a) =>
    Object.entries(a || {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");

  function listenerCard(name) {
    const card = el("div", { className: "listener", dataset: { listener: name } });
    card.append(el("div", { className: "title" }), el("div", { className: "details" }));
    const msg = el("span", { className: "msg" });
    const form = el(
      "form",
      { className: "toxic" },
      el("strong", null, "Toxic "),
      el("select", { name: "type" }, ...TOXIC_TYPES.map((t) => el("option", { value: t }, t))),
      el("select", { name: "stream" }, el("option", { value: "downstream" }, "downstream"), el("option", { value: "upstream" }, "upstream")),
      el("input", { name: "name", placeholder: "name (optional)" }),
      el("label", null, "toxicity ", el("input", { name: "toxicity", value: "1", inputMode: "decimal" })),
      el("input", { name: "attributes", placeholder: "latency=100,jitter=10" }),
      el("button", { type: "submit", name: "submit" }, "Add"),
      el("button", { type: "button", name: "cancel", hidden: true }, "Cancel"),
      msg,
    );
    form.dataset.editing = "";
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      msg.textContent = "";
      const f = form.elements;
      try {
        const attributes = parseAttributes(f.attributes.value);
        const toxicity = Number(f.toxicity.value);
        const editing = form.dataset.editing;
        if (editing) await api("POST", `/proxies/${encodeURIComponent(name)}/toxics/${encodeURIComponent(editing)}`, { toxicity, attributes });
        else {
          const body = { type: f.type.value, stream: f.stream.value, toxicity, attributes };
          if (f.name.value.trim()) body.name = f.name.value.trim();
          await api("POST", `/proxies/${encodeURIComponent(name)}/toxics`, body);
        }
        resetForm(form);
        await refreshListeners();
      } catch (e) {
        msg.textContent = e.message;
      }
    });
    form.elements.cancel.addEventListener("click", () => resetForm(form));
    card.append(form);
    card.addEventListener("click", async (ev) => {
      const b = ev.target.closest("button[data-action]");
      if (!b) return;
      msg.textContent = "";
      const l = state.listeners.get(name);
      try {
        switch (b.dataset.action) {
          case "enable":
            await api("POST", `/proxies/${encodeURIComponent(name)}`, { enabled: !l.enabled });
            break;
          case "accept":
            await api("POST", `/proxies/${encodeURIComponent(name)}`, { accepting: !l.accepting });
            break;
          case "remove-toxic":
            await api("DELETE", `/proxies/${encodeURIComponent(name)}/toxics/${encodeURIComponent(b.dataset.toxic)}`);
            break;
          case "edit-toxic": {
            const t = l.toxics.find((x) => x.name === b.dataset.toxic);
            if (!t) return;
            const f = form.elements;
            form.dataset.editing = t.name;
            f.type.value = t.type;
            f.stream.value = t.stream;
            f.name.value = t.name;
            f.type.disabled = f.stream.disabled = f.name.disabled = true;
            f.toxicity.value = String(t.toxicity);
            f.attributes.value = attrText(t.attributes);
            f.submit.textContent = "Update";
            f.cancel.hidden = false;
            return;
          }
        }
        await refreshListeners();
      } catch (e) {
        msg.textContent = e.message;
      }
    });
    return card;
  }

  function resetForm(form) {
    const f = form.elements;
    form.dataset.editing = "";
    f.type.disabled = f.stream.disabled = f.name.disabled = false;
    f.name.value = "";
    f.attributes.value = "";
    f.toxicity.value = "1";
    f.submit.textContent = "Add";
    f.cancel.hidden = true;
  }

  async function refreshListeners() {
    const s = await (await api("GET", "/status")).json();
    renderListeners(s.listeners);
  }

  /** Per listener card, what its title and details were last built from. */
  const cardBuilt = new WeakMap();

  function renderListeners(list) {
    const json = JSON.stringify(list);
    if (json === state.lastListenersJson) return;
    state.lastListenersJson = json;
    const box = $("listener-list");
    const seen = new Set();
    for (const l of list) {
      seen.add(l.name);
      state.listeners.set(l.name, l);
      let card = box.querySelector(`[data-listener="${CSS.escape(l.name)}"]`);
      if (!card) box.append((card = listenerCard(l.name)));
      card.querySelector("form.toxic").hidden = state.readOnly;
      // The open count changes with every connection; rebuilding the card for it would replace its
      // buttons under the pointer each second (a click whose press and release land on two
      // different buttons is lost, and the browser tests saw "Node is detached" under load). So
      // only the count is updated in place, and the rest is rebuilt when what it shows changed.
      const built = cardBuilt.get(card) || {};
      cardBuilt.set(card, built);
      const title = card.querySelector(".title");
      const titleKey = JSON.stringify([l.listen, l.enabled, l.accepting, state.readOnly]);
      if (built.title !== titleKey) {
        built.title = titleKey;
        title.replaceChildren(
          el("span", { className: "name" }, l.name),
          el("span", { className: "listen" }, l.listen),
          el("span", { className: l.enabled ? "on" : "off" }, l.enabled ? "enabled" : "disabled"),
          el("span", { className: l.accepting ? "on" : "off" }, l.accepting ? "accepting" : "accept paused"),
          el("span", { className: "open" }),
          state.readOnly ? null : el("button", { dataset: { action: "enable" } }, l.enabled ? "Disable" : "Enable"),
          state.readOnly ? null : el("button", { dataset: { action: "accept" } }, l.accepting ? "Pause accept" : "Resume accept"),
        );
      }
      setText(title.querySelector(".open"), `${fmtNum(l.open)} open`);
      const detailsKey = JSON.stringify([l.options, l.toxics, state.readOnly]);
      if (built.details === detailsKey) continue;
      built.details = detailsKey;
      const options = el(
        "table",
        { className: "options" },
        el("thead", null, el("tr", null, el("th", null, "option"), el("th", null, "asked"), el("th", null, "kernel holds"), el("th", null, ""))),
        el(
          "tbody",
          null,
          ...l.options.map((o) =>
            el("tr", { dataset: { option: o.option } }, el("td", null, o.option), el("td", null, show(o.asked)), el("td", { className: "effective" }, o.unreadable ? `unreadable: ${o.unreadable}` : show(o.effective)), el("td", { className: "note" }, o.note || "")),
          ),
        ),
      );
      const toxics = l.toxics.length
        ? el(
            "table",
            { className: "toxics" },
            el("thead", null, el("tr", null, el("th", null, "toxic"), el("th", null, "type"), el("th", null, "stream"), el("th", null, "toxicity"), el("th", null, "attributes"), el("th", null, ""))),
            el(
              "tbody",
              null,
              ...l.toxics.map((t) =>
                el(
                  "tr",
                  { dataset: { toxic: t.name } },
                  el("td", null, t.name),
                  el("td", null, t.type),
                  el("td", null, t.stream),
                  el("td", null, String(t.toxicity)),
                  el("td", null, attrText(t.attributes)),
                  el("td", null, state.readOnly ? null : el("button", { dataset: { action: "edit-toxic", toxic: t.name } }, "Edit"), state.readOnly ? null : el("button", { dataset: { action: "remove-toxic", toxic: t.name } }, "Remove")),
                ),
              ),
            ),
          )
        : el("p", { className: "note" }, "no toxics");
      card.querySelector(".details").replaceChildren(el("div", null, el("h3", null, "Options (as the kernel holds them)"), options), el("div", null, el("h3", null, "Toxics"), toxics));
    }
    for (const card of [...box.children]) if (!seen.has(card.dataset.listener)) (card.remove(), state.listeners.delete(card.dataset.listener));
  }

  const show = (v) => (v === null || v === undefined ? "default" : typeof v === "boolean" ? (v ? "on" : "off") : String(v));

  // ---- the connections table: only the rows in view exist -------------------------------------
  const viewport = $("viewport");
  const rowsBox = $("rows");
  const pool = [];
  let rowsWanted = false;
  let rowsInFlight = false;

  function renderHead() {
    $("thead").replaceChildren(
      ...COLUMNS.map(([key, label, sortKey]) => {
        if (key === "actions" && state.readOnly) return el("span");
        if (!sortKey) return el("span", null, label);
        const b = el("button", { type: "button", className: state.sort === sortKey ? `sorted ${state.order}` : "", dataset: { sort: sortKey } }, label);
        return el("span", null, b);
      }),
    );
  }

  $("thead").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-sort]");
    if (!b) return;
    if (state.sort === b.dataset.sort) state.order = state.order === "asc" ? "desc" : "asc";
    else (state.sort = b.dataset.sort), (state.order = "asc");
    renderHead();
    scheduleRows();
  });

  let filterTimer = null;
  $("filter").addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      state.filter = $("filter").value.trim();
      viewport.scrollTop = 0;
      scheduleRows();
    }, 150);
  });

  let scrollQueued = false;
  viewport.addEventListener("scroll", () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      scheduleRows();
    });
  });

  rowsBox.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-how]");
    if (!b) return;
    const id = b.closest(".row").dataset.id;
    b.disabled = true;
    try {
      await api("DELETE", `/connections/${encodeURIComponent(id)}?how=${b.dataset.how}`);
    } catch (e) {
      setBanner(`${b.dataset.how.toUpperCase()} ${id}: ${e.message}`);
    }
    scheduleRows();
  });

  /** One fetch at a time; a change while one is out fetches again when it returns. */
  function scheduleRows() {
    rowsWanted = true;
    if (!rowsInFlight) void loadRows();
  }

  async function loadRows() {
    while (rowsWanted) {
      rowsWanted = false;
      rowsInFlight = true;
      const visible = Math.ceil(viewport.clientHeight / ROW_H) + 1;
      const offset = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
      const q = new URLSearchParams({ sort: state.sort, order: state.order, offset: String(offset), limit: String(visible + 2 * OVERSCAN) });
      if (state.filter) q.set("filter", state.filter);
      try {
        const res = await api("GET", `/connections?${q}`);
        const text = await res.text();
        const t0 = performance.now();
        renderRows(JSON.parse(text), offset, Number(res.headers.get("x-total-count") || 0));
        const ms = performance.now() - t0;
        perf.rowRenders.push(ms);
        if (perf.rowRenders.length > 1000) perf.rowRenders.shift();
        performance.measure("status-rows", { start: t0, duration: ms });
      } catch {
        // Offline: the feed says so and fetches again when it is back.
      }
      rowsInFlight = false;
    }
  }

  function makeRow() {
    const r = el("div", { className: "row" });
    for (const [key] of COLUMNS) r.append(el("span", { className: `c-${key}` }));
    const actions = r.lastChild;
    actions.append(el("button", { type: "button", className: "fin", title: "echo what it sent, then FIN", dataset: { how: "fin" } }, "FIN"), el("button", { type: "button", className: "rst", title: "reset now (RST)", dataset: { how: "rst" } }, "RST"));
    return r;
  }

  const setText = (span, text) => {
    if (span.textContent !== text) span.textContent = text;
  };

  function renderRows(rows, offset, total) {
    state.total = total;
    $("spacer").style.height = `${total * ROW_H}px`;
    $("conn-count").textContent = `(${fmtNum(total)}${state.filter ? " matching" : ""})`;
    rowsBox.style.transform = `translateY(${offset * ROW_H}px)`;
    while (pool.length < rows.length) rowsBox.append(pool[pool.length] = makeRow());
    for (let i = 0; i < pool.length; i++) {
      const r = pool[i];
      const c = rows[i];
      if (!c) {
        if (!r.hidden) r.hidden = true;
        continue;
      }
      r.hidden = false;
      r.dataset.id = c.id;
      r.dataset.peer = c.peer;
      const s = r.children;
      setText(s[0], c.id);
      setText(s[1], c.peer);
      setText(s[2], c.proxied_source || "");
      setText(s[3], c.listener);
      setText(s[4], fmtMs(c.age_ms));
      setText(s[5], fmtBytes(c.bytes_in));
      setText(s[6], fmtBytes(c.bytes_out));
      setText(s[7], c.timeout_in_ms === null ? "–" : fmtMs(c.timeout_in_ms));
      setText(s[8], c.tcp ? `${(c.tcp.rtt_us / 1000).toFixed(2)} ms` : "");
      setText(s[9], c.tcp ? c.tcp.state : c.phase);
      setText(s[10], c.toxics.join(", "));
      s[11].hidden = state.readOnly;
    }
  }

  // ---- recent closes ------------------------------------------------------------------------
  function closeItem(c) {
    return el(
      "li",
      { dataset: { id: c.id, reason: c.reason } },
      `${fmtTime(c.at)} ${c.id} ${c.peer} `,
      el("span", { className: `reason reason-${c.reason}` }, c.toxic ? `${c.reason} (${c.toxic})` : c.reason),
      ` in ${fmtBytes(c.bytes_in)} out ${fmtBytes(c.bytes_out)} after ${fmtMs(c.duration_ms)}${c.error ? ` (${c.error})` : ""}`,
    );
  }

  function renderCloses(list, init, total) {
    const ol = $("close-list");
    if (init) ol.replaceChildren();
    // Newest first.
    const frag = document.createDocumentFragment();
    for (let i = list.length - 1; i >= 0; i--) frag.append(closeItem(list[i]));
    ol.prepend(frag);
    while (ol.children.length > CLOSES_KEPT) ol.lastChild.remove();
    $("close-count").textContent = total ? `(last ${fmtNum(ol.children.length)} of ${fmtNum(total)} seen)` : "";
  }

  // ---- start --------------------------------------------------------------------------------
  makeCharts();
  renderHead();
  void runFeed();
})();
