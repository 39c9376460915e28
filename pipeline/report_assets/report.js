"use strict";
// callrisk QA report. Every string from the records goes into the page as text (textContent / text nodes,
// attribute values via setAttribute); nothing from the data is ever parsed as markup.
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const CALLS = DATA.calls;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const BANDS = ["low", "medium", "high"];
  const BAND_ORDER = { low: 1, medium: 2, high: 3 };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
    }
    for (const child of children) append(node, child);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const child of children) append(node, child);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  const fmtTime = (s) => {
    if (s === null || s === undefined) return "?";
    const m = Math.floor(s / 60), sec = s - 60 * m;
    return m + ":" + (sec < 10 ? "0" : "") + sec.toFixed(1);
  };
  const fmtRisk = (r) => (r === null || r === undefined ? "\u2013" : r.toFixed(2));
  const fmtDur = (d) => (d === null || d === undefined ? "\u2013" : fmtTime(d).replace(/\.\d$/, ""));
  const bandOf = (c) => (c.status === "error" ? "error" : c.band || "unscored");
  const dateOf = (c) => (c.started && /^\d{4}-\d{2}-\d{2}/.test(c.started) ? c.started.slice(0, 10) : "");

  // -- precomputed keys: filtering and sorting touch only these ----------------------------------------------
  for (const c of CALLS) {
    c._band = bandOf(c);
    c._date = dateOf(c);
    const t = c.started ? Date.parse(c.started) : NaN;
    c._t = Number.isNaN(t) ? null : t;
    c._top = c.reasons && c.reasons.length ? c.reasons[0].text : "";
    c._cues = new Set(c.cueLabels);
    c._search = [c.id, c.customer, c.ticket, c.agent, c.reason].filter(Boolean).join(" ").toLowerCase();
  }
  const SORT_KEYS = {
    risk: (c) => c.risk,
    band: (c) => BAND_ORDER[c.band] || null,
    id: (c) => c.id,
    started: (c) => (c._t !== null ? c._t : c.started),
    agent: (c) => c.agent,
    reason: (c) => c.reason,
    duration: (c) => c.duration,
    cues: (c) => c.cueLabels.length,
    top: (c) => c._top || null,
  };

  // Utterances arrive as arrays (see pipeline/report.py UTTERANCE_FIELDS); objects are made when a call is opened.
  const UF = Object.fromEntries(DATA.utteranceFields.map((k, i) => [k, i]));
  const CF = Object.fromEntries(DATA.cueFields.map((k, i) => [k, i]));
  function utterancesOf(c) {
    if (!c._utts) {
      c._utts = c.u.map((a) => ({
        speaker: a[UF.speaker], role: a[UF.role], start: a[UF.start], end: a[UF.end], text: a[UF.text],
        overlap: (a[UF.flags] & 1) !== 0, interruption: (a[UF.flags] & 2) !== 0,
        cues: a[UF.cues].map((q) => ({
          label: q[CF.label], family: DATA.cueFamilies[q[CF.label]] || "other", score: q[CF.score],
          cs: q[CF.char_start], ce: q[CF.char_end], start: q[CF.start], end: q[CF.end], method: q[CF.method],
        })),
        sentiment: a[UF.sentiment] ? Object.fromEntries(DATA.sentimentLabels.map((k, i) => [k, a[UF.sentiment][i]])) : null,
      }));
    }
    return c._utts;
  }

  const state = { sortKey: "risk", sortDir: -1, page: 0, rows: [], selected: null };

  // -- filters -----------------------------------------------------------------------------------------------
  function fillSelect(id, values) {
    const select = $(id);
    for (const v of values) select.appendChild(el("option", { value: v }, v));
  }
  const distinct = (f) => Array.from(new Set(CALLS.map(f).filter(Boolean))).sort();
  fillSelect("f-agent", distinct((c) => c.agent));
  fillSelect("f-reason", distinct((c) => c.reason));
  const present = new Set(CALLS.flatMap((c) => c.cueLabels));
  fillSelect("f-cue", DATA.cueLabels.filter((l) => present.has(l)).concat(
    Array.from(present).filter((l) => !DATA.cueLabels.includes(l)).sort()));

  const num = (id) => { const v = $(id).value; return v === "" ? null : Number(v); };
  function currentFilter() {
    return {
      search: $("f-search").value.trim().toLowerCase(), band: $("f-band").value, agent: $("f-agent").value,
      reason: $("f-reason").value, cue: $("f-cue").value, from: $("f-from").value, to: $("f-to").value,
      minRisk: num("f-minrisk"), maxRisk: num("f-maxrisk"), minDur: num("f-mindur"), maxDur: num("f-maxdur"),
    };
  }
  function matches(c, f) {
    if (f.band && c._band !== f.band) return false;
    if (f.agent && c.agent !== f.agent) return false;
    if (f.reason && c.reason !== f.reason) return false;
    if (f.cue && !c._cues.has(f.cue)) return false;
    if (f.search && !c._search.includes(f.search)) return false;
    if ((f.from || f.to) && !c._date) return false;
    if (f.from && c._date < f.from) return false;
    if (f.to && c._date > f.to) return false;
    if (f.minRisk !== null && !(c.risk !== null && c.risk >= f.minRisk)) return false;
    if (f.maxRisk !== null && !(c.risk !== null && c.risk <= f.maxRisk)) return false;
    if (f.minDur !== null && !(c.duration !== null && c.duration >= f.minDur)) return false;
    if (f.maxDur !== null && !(c.duration !== null && c.duration <= f.maxDur)) return false;
    return true;
  }

  function compare(key, dir) {
    const get = SORT_KEYS[key];
    return (a, b) => {
      const x = get(a), y = get(b);
      const xn = x === null || x === undefined || x === "", yn = y === null || y === undefined || y === "";
      if (xn || yn) return xn && yn ? cmpId(a, b) : xn ? 1 : -1;   // missing values last in either direction
      if (x < y) return -dir;
      if (x > y) return dir;
      return cmpId(a, b);
    };
  }
  const cmpId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  function refresh(keepPage) {
    const f = currentFilter();
    state.rows = CALLS.filter((c) => matches(c, f)).sort(compare(state.sortKey, state.sortDir));
    if (!keepPage) state.page = 0;
    renderTable();
    renderChart();
  }

  // -- table -------------------------------------------------------------------------------------------------
  function renderTable() {
    const size = DATA.pageSize;
    const pages = Math.max(1, Math.ceil(state.rows.length / size));
    state.page = Math.min(state.page, pages - 1);
    const tbody = $("calls").tBodies[0];
    const frag = document.createDocumentFragment();
    for (const c of state.rows.slice(state.page * size, (state.page + 1) * size)) {
      const tr = el("tr", { "data-call": c.id, class: "band-" + c._band, tabindex: 0,
                            "aria-selected": state.selected === c ? "true" : "false" },
        el("td", { class: "num" }, fmtRisk(c.risk)),
        el("td", {}, el("span", { class: "badge band-" + c._band }, c._band === "unscored" ? "\u2013" : c._band)),
        el("td", { class: "id" }, c.id),
        el("td", { class: "when", title: c.started }, c.started ? c.started.replace("T", " ").slice(0, 16) : "\u2013"),
        el("td", {}, c.agent || "\u2013"),
        el("td", {}, c.reason || "\u2013"),
        el("td", { class: "num" }, fmtDur(c.duration)),
        el("td", { class: "cues" }, c.cueLabels.join(", ")),
        el("td", { class: "top" }, c.status === "error" ? (c.error && c.error.type) || "error" : c._top));
      tr.addEventListener("click", () => openCall(c));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") openCall(c); });
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    $("pageinfo").textContent = state.rows.length
      ? `calls ${state.page * size + 1}\u2013${Math.min(state.rows.length, (state.page + 1) * size)} of ${state.rows.length}` +
        (state.rows.length < CALLS.length ? ` (filtered from ${CALLS.length})` : "") + ` \u00b7 page ${state.page + 1}/${pages}`
      : `no calls match (${CALLS.length} in the report)`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    for (const th of $("calls").tHead.rows[0].cells) {
      th.setAttribute("aria-sort", th.dataset.key !== state.sortKey ? "none"
        : state.sortDir > 0 ? "ascending" : "descending");
    }
  }
  for (const th of $("calls").tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      // numbers start high-to-low (riskiest, longest first), text A-Z
      state.sortDir = key === state.sortKey ? -state.sortDir
        : ["risk", "band", "duration", "cues", "started"].includes(key) ? -1 : 1;
      state.sortKey = key;
      refresh(false);
    });
  }
  $("prev").addEventListener("click", () => { state.page--; renderTable(); });
  $("next").addEventListener("click", () => { state.page++; renderTable(); });
  for (const id of ["f-search", "f-band", "f-agent", "f-reason", "f-cue", "f-from", "f-to", "f-minrisk",
                    "f-maxrisk", "f-mindur", "f-maxdur"]) {
    $(id).addEventListener("input", () => refresh(false));
    $(id).addEventListener("change", () => refresh(false));  // what a <select> changed by script or driver fires
  }
  $("f-reset").addEventListener("click", () => {
    for (const node of $("controls").querySelectorAll("input, select")) node.value = "";
    refresh(false);
  });

  // -- risk distribution: histogram of the filtered calls, stacked by band; a bar click filters to its range --
  function renderChart() {
    const bins = 20, w = 520, h = 130, pad = 24, bw = (w - 2 * pad) / bins;
    const counts = Array.from({ length: bins }, () => ({ low: 0, medium: 0, high: 0, other: 0 }));
    let unscored = 0, failed = 0;
    for (const c of state.rows) {
      if (c.status === "error") { failed++; continue; }
      if (c.risk === null) { unscored++; continue; }
      const b = Math.min(bins - 1, Math.floor(c.risk * bins));
      counts[b][BANDS.includes(c.band) ? c.band : "other"]++;
    }
    const max = Math.max(1, ...counts.map((k) => k.low + k.medium + k.high + k.other));
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", id: "risk-chart" });
    append(chart, svg("title", {}, "Risk distribution of the calls shown"));
    counts.forEach((k, i) => {
      let y = h - pad;
      for (const band of ["low", "medium", "high", "other"]) {
        if (!k[band]) continue;
        const bh = (k[band] / max) * (h - 2 * pad);
        y -= bh;
        const rect = svg("rect", { x: pad + i * bw + 1, y, width: bw - 2, height: bh, class: "bar band-" + band },
          svg("title", {}, `risk ${(i / bins).toFixed(2)}\u2013${((i + 1) / bins).toFixed(2)}: ${k[band]} ${band}`));
        rect.addEventListener("click", () => {
          $("f-minrisk").value = (i / bins).toFixed(2);
          $("f-maxrisk").value = ((i + 1) / bins).toFixed(2);
          refresh(false);
        });
        chart.appendChild(rect);
      }
    });
    append(chart, svg("line", { x1: pad, x2: w - pad, y1: h - pad, y2: h - pad, class: "axis" }));
    for (let t = 0; t <= 1.0001; t += 0.2) {
      append(chart, svg("text", { x: pad + t * (w - 2 * pad), y: h - 8, class: "tick" }, t.toFixed(1)));
    }
    const shown = state.rows.length - unscored - failed;
    append(chart, svg("text", { x: pad, y: 12, class: "tick start" },
      shown ? `max ${max} calls per bin` : "no risk scores among the calls shown"));
    const note = el("p", { class: "chart-note" },
      `${shown} scored`,
      unscored ? ` \u00b7 ${unscored} without a risk score` : "", failed ? ` \u00b7 ${failed} failed` : "");
    $("chart").replaceChildren(el("h2", {}, "Risk distribution"), chart, note);
  }

  // -- call detail, built when a call is opened ------------------------------------------------------------
  let player = null;
  function seek(t) {
    if (!player || t === null || t === undefined) return;
    player.currentTime = Math.max(0, t);
    const p = player.play();
    if (p && p.catch) p.catch(() => {});  // playing may be refused (no audio file, autoplay policy): seeking stands
  }
  function seekButton(t, label, cls) {
    const b = el("button", { type: "button", class: cls || "seek", "data-t": t }, label);
    b.addEventListener("click", (e) => { e.stopPropagation(); seek(t); });
    return b;
  }

  function openCall(c) {
    state.selected = c;
    for (const tr of $("calls").tBodies[0].rows) {
      tr.setAttribute("aria-selected", tr.dataset.call === c.id ? "true" : "false");
    }
    if (player) player.pause();
    const panel = $("detail");
    panel.replaceChildren(...detail(c));
    panel.hidden = false;
    panel.scrollTop = 0;
    history.replaceState(null, "", "#call=" + encodeURIComponent(c.id));
  }

  function detail(c) {
    const out = [];
    const close = el("button", { type: "button", class: "close", title: "close" }, "\u00d7");
    close.addEventListener("click", () => { if (player) player.pause(); $("detail").hidden = true; state.selected = null; });
    out.push(el("div", { class: "detail-head" }, close, el("h2", { id: "detail-id" }, c.id),
      el("span", { class: "badge band-" + c._band }, c._band === "unscored" ? "no risk score" : c._band),
      c.risk !== null ? el("span", { class: "risk" }, "risk " + fmtRisk(c.risk)) : null));

    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", {}, k), el("dd", {}, v)); };
    fact("agent", c.agent); fact("customer", c.customer); fact("ticket", c.ticket); fact("reason", c.reason);
    fact("started", c.started); fact("duration", c.duration !== null ? fmtTime(c.duration) : null);
    fact("status", c.status); fact("file", c.source);
    for (const [k, v] of Object.entries(c.metadata || {})) {
      if (!["agent_id", "customer_id", "ticket_id", "reason", "started_at"].includes(k)) fact(k, v);
    }
    out.push(facts);

    if (c.error) out.push(el("p", { class: "error", id: "detail-error" }, `Failed: ${c.error.type || "error"}: ${c.error.message || ""}`));

    if (c.src) {
      player = el("audio", { controls: "", preload: "metadata", id: "player" });
      player.src = c.src;
      player.addEventListener("timeupdate", () => markPlaying(c));
      player.addEventListener("error", () => { $("audio-note").textContent = "audio not found at " + c.src; });
      out.push(el("div", { class: "audio" }, player, el("span", { id: "audio-note", class: "muted" })));
    } else {
      player = null;
    }

    if (c.status !== "error") {
      out.push(el("h3", {}, "Reasons"));
      if (!c.reasons.length) {
        out.push(el("p", { class: "muted" }, c.risk === null ? "This record has no risk score (score it with a risk model)." : "No reasons given."));
      } else {
        const list = el("ol", { class: "reasons" });
        for (const r of c.reasons) {
          const li = el("li", {}, el("span", { class: r.weight > 0 ? "up" : "down" }, r.weight > 0 ? "\u25b2 " : "\u25bc "), r.text,
            r.weight !== null ? el("span", { class: "muted" }, ` (${r.weight > 0 ? "+" : ""}${r.weight.toFixed(2)})`) : null);
          const ev = el("div", { class: "evidence" });
          for (const e of r.evidence) ev.append(seekButton(e.start, `\u25b6 ${fmtTime(e.start)} \u201c${e.text}\u201d`, "seek evidence"));
          if (r.evidence.length) li.append(ev);
          list.append(li);
        }
        out.push(list);
      }
      out.push(el("h3", {}, "Customer sentiment"), sentimentChart(c));
      if (c.measures && Object.keys(c.measures).length) {
        const table = el("table", { class: "measures" });
        for (const [k, v] of Object.entries(c.measures)) table.append(el("tr", {}, el("th", {}, k), el("td", {}, v === null ? "\u2013" : v)));
        out.push(el("details", {}, el("summary", {}, "Call measures"), table));
      }
      if (c.speakers.length) {
        out.push(el("p", { class: "speakers muted" }, c.speakers.map((s) =>
          `${s.speaker}: ${s.role} (${s.talk !== null ? s.talk.toFixed(0) : "?"} s${s.why ? "; " + s.why : ""})`).join(" \u00b7 ")));
      }
      out.push(el("h3", {}, "Transcript"), transcript(c));
    }
    return out;
  }

  function transcript(c) {
    const box = el("div", { class: "transcript", id: "transcript" });
    const utts = utterancesOf(c);
    utts.forEach((u, i) => {
      const row = el("div", { class: "utt role-" + u.role, "data-i": i, "data-start": u.start, title: "play from " + fmtTime(u.start) },
        el("span", { class: "when" }, fmtTime(u.start)),
        el("span", { class: "who" }, u.role === "unknown" ? u.speaker || "?" : u.role),
        highlighted(u),
        u.interruption ? el("span", { class: "flag" }, "interrupts") : u.overlap ? el("span", { class: "flag" }, "overlap") : null);
      row.tabIndex = 0;
      row.addEventListener("click", () => seek(u.start));
      row.addEventListener("keydown", (e) => { if (e.key === "Enter") seek(u.start); });
      box.append(row);
    });
    if (!utts.length) box.append(el("p", { class: "muted" }, "No speech transcribed."));
    return box;
  }

  // The utterance text with its cue spans as <mark>s. Cue spans may overlap or nest, so the text is cut at every
  // span edge and each piece is marked with all the cues covering it; the label is shown (by CSS, from
  // data-label) where a cue ends. Cues whose offsets do not fit the text are appended as bare labels.
  function highlighted(u) {
    const text = u.text, span = el("span", { class: "text" });
    const fits = (q) => Number.isInteger(q.cs) && Number.isInteger(q.ce) && q.cs >= 0 && q.cs < q.ce && q.ce <= text.length;
    const cues = u.cues.filter(fits);
    const cuts = Array.from(new Set([0, text.length, ...cues.flatMap((q) => [q.cs, q.ce])])).sort((a, b) => a - b);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const a = cuts[k], b = cuts[k + 1];
      const over = cues.filter((q) => q.cs <= a && b <= q.ce);
      if (over.length) span.append(cueMark(over, text.slice(a, b), over.filter((q) => q.ce === b)));
      else append(span, text.slice(a, b));
    }
    for (const q of u.cues.filter((q) => !fits(q))) span.append(cueMark([q], "", [q]));
    return span;
  }
  function cueMark(over, words, ending) {
    const main = over.reduce((m, q) => (q.ce - q.cs < m.ce - m.cs ? q : m));   // the narrowest cue leads
    const what = over.map((q) => `${q.label}${q.score !== null ? " " + q.score.toFixed(2) : ""} (${q.method || "?"})`);
    const mark = el("mark", {
      class: "cue fam-" + main.family + (over.length > 1 ? " nested" : ""), "data-labels": over.map((q) => q.label).join(" "),
      "data-label": ending.length ? ending.map((q) => q.label).join(", ") : null, "data-t": main.start,
      title: what.join("; ") + " \u2013 play from " + fmtTime(main.start),
    }, words);
    mark.addEventListener("click", (e) => { e.stopPropagation(); seek(main.start); });
    return mark;
  }

  let playingRow = null;
  function markPlaying(c) {
    const t = player.currentTime, rows = $("transcript") ? $("transcript").children : [], utts = utterancesOf(c);
    let found = null;
    for (let i = 0; i < utts.length; i++) {
      const u = utts[i];
      if (u.start <= t && t < u.end) { found = rows[i]; break; }
    }
    if (found === playingRow) return;
    if (playingRow) playingRow.classList.remove("playing");
    if (found) found.classList.add("playing");
    playingRow = found;
  }

  // Customer sentiment over the call: P(positive), P(negative or frustrated), P(confused) per customer utterance.
  function sentimentChart(c) {
    const all = utterancesOf(c);
    let utts = all.filter((u) => u.role === "customer" && u.sentiment);
    let note = null;
    if (!utts.length && !all.some((u) => u.role === "customer")) {
      utts = all.filter((u) => u.sentiment);
      if (utts.length) note = "No speaker was identified as the customer: all speakers shown.";
    }
    if (!utts.length) return el("p", { class: "muted", id: "sentiment-none" }, "No sentiment in this record.");
    const w = 520, h = 140, pad = 28;
    const end = Math.max(c.duration || 0, ...all.map((u) => u.end || 0), 1);
    const x = (t) => pad + (t / end) * (w - 2 * pad), y = (p) => h - pad - p * (h - 2 * pad);
    const series = [
      ["positive", (s) => s.positive || 0],
      ["negative", (s) => (s.negative || 0) + (s.frustrated || 0)],
      ["confused", (s) => s.confused || 0],
    ];
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, class: "sentiment", id: "sentiment-chart", role: "img" });
    append(chart, svg("title", {}, "Customer sentiment over the call"));
    for (const p of [0, 0.5, 1]) {
      append(chart, svg("line", { x1: pad, x2: w - pad, y1: y(p), y2: y(p), class: "grid" }));
      append(chart, svg("text", { x: 2, y: y(p) + 4, class: "tick start" }, p.toFixed(1)));
    }
    for (let t = 0; t <= end; t += Math.max(10, Math.ceil(end / 6 / 10) * 10)) {
      append(chart, svg("text", { x: x(t), y: h - 8, class: "tick" }, fmtTime(t).replace(/\.\d$/, "")));
    }
    for (const [name, value] of series) {
      const pts = utts.map((u) => [x((u.start + u.end) / 2), y(Math.min(1, value(u.sentiment)))]);
      append(chart, svg("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: "line s-" + name }));
      pts.forEach((p, i) => {
        const u = utts[i];
        const dot = svg("circle", { cx: p[0], cy: p[1], r: 3.5, class: "dot s-" + name },
          svg("title", {}, `${fmtTime(u.start)} ${name} ${value(u.sentiment).toFixed(2)}: ${u.text}`));
        dot.addEventListener("click", () => seek(u.start));
        chart.appendChild(dot);
      });
    }
    const legend = el("p", { class: "legend" }, ...series.map(([name]) => el("span", { class: "key s-" + name }, name)),
      note ? el("span", { class: "muted" }, note) : null);
    return el("div", {}, chart, legend);
  }

  // -- start -------------------------------------------------------------------------------------------------
  $("title").textContent = DATA.title;
  const failed = CALLS.filter((c) => c.status === "error").length;
  const scored = CALLS.filter((c) => c.risk !== null).length;
  $("summary").textContent = `${CALLS.length} calls \u00b7 ${scored} with a risk score` +
    (failed ? ` \u00b7 ${failed} failed` : "") + (scored ? "" : " \u00b7 no risk scores in this file: sorted by call");
  if (!scored) { state.sortKey = "id"; state.sortDir = 1; }
  refresh(false);
  // #call=ID opens that call (links from elsewhere, the screenshot script)
  function openFromHash() {
    const wanted = decodeURIComponent((location.hash.match(/^#call=(.*)$/) || [])[1] || "");
    const call = wanted && CALLS.find((c) => c.id === wanted);
    if (call && call !== state.selected) openCall(call);
  }
  window.addEventListener("hashchange", openFromHash);
  openFromHash();
})();
