// syncvisor inspector page. Plain JS, no build step, no network beyond this daemon.
// Data: GET /api/events (SSE): `init` = {mode, baseline, actors, charts, events, capacity, dropped}, then `records`.
// The page keeps the history (baseline + records) and shows the system as it was right after the event under the
// cursor: the actor tree, the chart's active states, the context. Live, the cursor follows the newest event until
// you step back; in replay mode (syncvisor replay FILE --inspect) the timeline plays the trace on its simulated clock.
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const MAX_ROWS = 600;
  const MAX_SEQ = 200;
  const PAGE = 100;
  const charts = new Map(); // machine key -> ChartNode
  const layouts = new Map(); // machine key -> Promise<{graph, dir}>
  let base = new Map(); // sessionId -> ActorInfo: the table before records[0]
  let records = []; // history, oldest first (no chart records)
  let capacity = 10000;
  let dropped = 0;
  let mode = 'live';
  let cursor = null; // null: follow the newest record; else an index into records
  let view = { idx: -1, actors: new Map(), lastEvent: new Map() };
  let selected = null; // sessionId
  let selectedRecord = null; // seq of the event shown in the detail pane
  let playing = false;
  let playClock = 0; // replay: the simulated time of the playhead
  let playTimer = null;
  let renderQueued = false;
  let linked = false; // the stream names each snapshot's event (snapshot.event), see endOfStep
  let chartState = null; // { machine, svg, byPath, edges, tlines, vb, fit }
  const history = []; // state values as they arrive, newest last: {actor, value} (a hook for tests and debugging)
  // Who an actor is (systemId, parent, machine) does not change with time: learned from every record received, so
  // an actor named or placed later is shown with its name and place at any cursor position.
  const ident = new Map();

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = (tag, attrs, text) => {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmtValue = (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const nameOf = (id) => {
    const a = view.actors.get(id) || base.get(id) || ident.get(id);
    const i = ident.get(id) || {};
    return a ? i.systemId || a.systemId || a.actorId : id || '';
  };
  function learn(a) {
    const cur = ident.get(a.id) || {};
    const next = Object.assign({}, cur);
    for (const k of ['systemId', 'parentId', 'machine', 'actorId']) if (a[k] !== undefined) next[k] = a[k];
    ident.set(a.id, next);
  }
  function withIdent(a) {
    const i = ident.get(a.id);
    return i ? Object.assign({}, a, i) : a;
  }

  // ---- history: folding records into the actor table -------------------------------------------------------
  function applyTo(actors, lastEvent, r) {
    switch (r.kind) {
      case 'actor':
        actors.set(r.actor.id, Object.assign({}, actors.get(r.actor.id), r.actor));
        break;
      case 'snapshot': {
        const a = actors.get(r.id);
        if (!a) break;
        const n = Object.assign({}, a, { status: r.status });
        if (r.value !== undefined) n.value = r.value;
        if (r.context !== undefined) n.context = r.context;
        actors.set(r.id, n);
        break;
      }
      case 'stopped': {
        const a = actors.get(r.id);
        if (a) actors.set(r.id, Object.assign({}, a, { status: r.status }));
        break;
      }
      case 'event':
        lastEvent.set(r.to, r);
        break;
    }
  }

  /**
   * The index of the last record that belongs to the event at `i`: up to the snapshot that resulted from it (the
   * events its actions sent on the way, e.g. to a parent, a new child or itself, come before that snapshot), or, when
   * the target publishes none (nothing changed), up to the next event. A snapshot names its event (`event`: that
   * record's seq), so an event queued while the target handled an earlier one is paired with its own snapshot, not
   * the earlier one's. A snapshot without that link (older servers; or one no recorded event caused, such as the
   * final snapshot of an actor its parent stops) belongs to the event only when it comes before the target's next
   * event: the target's first snapshot before its next event. An actor that publishes no snapshot for its events
   * (a callback actor, or nothing changed) must not be paired with one of its far later snapshots (its stop).
   * The step also takes the snapshots right after it that name an earlier event (see withEnclosing).
   */
  function endOfStep(i) {
    const r = records[i];
    const end = stepEnd(i);
    return r && r.kind === 'event' && linked ? withEnclosing(end, r.seq) : end;
  }

  /**
   * An event sent by a machine's actions is delivered after that machine committed its new state (XState runs those
   * sends once the snapshot is set), but the machine's snapshot record is published after the whole cascade: e.g.
   * portsync handles the dump's end, tells warmRestart, whose detector reports EOIU, and only then does portsync's
   * own `dump: synced` snapshot come. The snapshots right after the step that name an earlier event (`event` below
   * this one's seq) are those enclosing steps' results, already true when this event was handled: they belong to it.
   */
  function withEnclosing(end, seq) {
    let j = end;
    while (j + 1 < records.length) {
      const x = records[j + 1];
      if (x.kind !== 'snapshot' || x.event === undefined || x.event >= seq) break;
      j++;
    }
    return j;
  }

  function stepEnd(i) {
    const r = records[i];
    let next = i;
    while (next + 1 < records.length && records[next + 1].kind !== 'event') next++;
    if (!r || r.kind !== 'event') return next;
    let later = false; // the target's next event has been seen: only a snapshot naming this event is this event's
    for (let j = i + 1; j < records.length && j < i + 5000; j++) {
      const x = records[j];
      if (x.kind === 'snapshot' && x.id === r.to) {
        if (x.event === r.seq) return Math.max(j, next);
        if (x.event === undefined) {
          if (!later) return Math.max(j, next);
          break;
        }
        // A later event's snapshot: this event changed nothing.
        if (x.event > r.seq) break;
      } else if (x.kind === 'event' && x.to === r.to) {
        // Unlinked: the next event ends the step. Linked: this event's snapshot may still come (it was queued).
        if (!linked) break;
        later = true;
      }
    }
    return next;
  }

  function targetIndex() {
    if (cursor === null) return records.length - 1;
    return endOfStep(cursor);
  }

  /** Brings `view` to the records up to index `to` (forward incrementally, backward from the baseline). */
  function foldTo(to) {
    if (to < view.idx) view = { idx: -1, actors: new Map(base), lastEvent: new Map() };
    for (let i = view.idx + 1; i <= to; i++) applyTo(view.actors, view.lastEvent, records[i]);
    view.idx = to;
    for (const [id, a] of view.actors) view.actors.set(id, withIdent(a));
  }

  /** The time shown: the playhead (replay, or after a seek), the cursor's event, or the newest record. */
  function currentTime() {
    if (cursor === null) return records.length ? records[records.length - 1].t : 0;
    return playClock;
  }

  function cursorTime() {
    const i = cursor === null ? records.length - 1 : cursor;
    return i >= 0 && records[i] ? records[i].t : 0;
  }

  function eventIndexes() {
    const out = [];
    for (let i = 0; i < records.length; i++) if (records[i].kind === 'event') out.push(i);
    return out;
  }

  function setCursor(i, opts) {
    if (i === null || i >= records.length) cursor = null;
    else cursor = Math.max(0, i);
    if (!opts || !opts.keepClock) playClock = cursorTime();
    queueRender();
  }

  function step(dir) {
    stopPlay();
    const cur = cursor === null ? records.length : cursor;
    if (dir > 0) {
      // The events sent while the current one was handled are part of its step: the next step starts after them.
      const from = cursor === null ? cur : Math.max(cur, endOfStep(cur));
      for (let i = from + 1; i < records.length; i++) if (records[i].kind === 'event') return setCursor(i);
      return setCursor(mode === 'live' ? null : lastEventIndex());
    }
    for (let i = Math.min(cur, records.length) - 1; i >= 0; i--) if (records[i].kind === 'event') return setCursor(i);
    const first = eventIndexes()[0];
    if (first !== undefined) setCursor(first);
  }

  function lastEventIndex() {
    for (let i = records.length - 1; i >= 0; i--) if (records[i].kind === 'event') return i;
    return 0;
  }

  /** The last event at or before time t (ms). */
  function seek(t) {
    stopPlay();
    let found = -1;
    for (let i = 0; i < records.length && records[i].t <= t; i++) if (records[i].kind === 'event') found = i;
    cursor = found < 0 ? (records.length ? 0 : null) : found;
    playClock = t;
    queueRender();
  }

  function togglePlay() {
    if (playing) return stopPlay();
    if (cursor === null) {
      if (mode === 'live') return;
      cursor = eventIndexes()[0] ?? null;
      playClock = cursorTime();
    }
    playing = true;
    $('play').textContent = 'pause';
    let last = performance.now();
    playTimer = setInterval(() => {
      const now = performance.now();
      playClock += (now - last) * Number($('speed').value);
      last = now;
      let i = cursor === null ? records.length : cursor;
      while (i + 1 < records.length && records[i + 1].t <= playClock) i++;
      while (i > 0 && records[i].kind !== 'event') i--;
      cursor = i;
      if (i >= lastEventIndex() && playClock >= records[records.length - 1].t) stopPlay();
      queueRender();
    }, 50);
    queueRender();
  }

  function stopPlay() {
    playing = false;
    $('play').textContent = 'play';
    if (playTimer) clearInterval(playTimer);
    playTimer = null;
  }

  // ---- rendering ---------------------------------------------------------------------------------------------
  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function render() {
    foldTo(targetIndex());
    if (selected && !view.actors.has(selected)) {
      // A restarted actor (same systemId, new instance) takes over the selection.
      const old = base.get(selected);
      const sys = old && old.systemId;
      const next = sys && [...view.actors.values()].find((a) => a.systemId === sys && a.status === 'active');
      if (next) selected = next.id;
    }
    if (!selected || !view.actors.has(selected)) selected = defaultSelection();
    renderTimeline();
    renderTree();
    renderChart();
    renderContext();
    renderEvents();
    if (!$('sequence-view').hidden) renderSequence();
  }

  function defaultSelection() {
    const all = [...view.actors.values()].filter((a) => a.machine && a.status === 'active');
    for (const sys of ['portsync', 'ptp']) {
      const a = all.find((x) => x.systemId === sys);
      if (a) return a.id;
    }
    const root = all.find((a) => !a.parentId);
    const child = root && all.find((a) => a.parentId === root.id);
    return (child || root || all[0] || { id: null }).id;
  }

  function renderTimeline() {
    const n = records.length;
    const scrub = $('scrub');
    scrub.max = String(Math.max(0, n - 1));
    scrub.value = String(cursor === null ? Math.max(0, n - 1) : cursor);
    $('clock').textContent = (mode === 'replay' ? 'simulated ' : '') + 't = ' + currentTime().toFixed(3) + ' ms';
    $('history-size').textContent =
      'history ' + n + ' / ' + capacity + ' records' + (dropped ? ' (' + dropped + ' dropped)' : '');
    $('go-live').classList.toggle('on', cursor === null);
    $('go-live').hidden = mode !== 'live';
    $('speed').hidden = mode !== 'replay';
    $('play').disabled = mode === 'live';
  }

  // ---- actor tree --------------------------------------------------------------------------------------------
  function renderTree() {
    const showStopped = $('show-stopped').checked;
    const kids = new Map();
    const roots = [];
    for (const a of view.actors.values()) {
      if (!showStopped && a.status !== 'active' && a.id !== selected) continue;
      if (a.parentId && view.actors.has(a.parentId)) {
        if (!kids.has(a.parentId)) kids.set(a.parentId, []);
        kids.get(a.parentId).push(a);
      } else roots.push(a);
    }
    const build = (list) => {
      const ul = el('ul');
      for (const a of list) {
        const li = el('li');
        const name = a.systemId || a.actorId;
        const row = el('span', {
          class: 'actor' + (a.id === selected ? ' selected' : '') + (a.status !== 'active' ? ' is-stopped' : ''),
          'data-id': a.id,
          'data-systemid': a.systemId || '',
          'data-actorid': a.actorId,
          title: name + ' (' + a.id + ')' + (a.value !== undefined ? ' ' + fmtValue(a.value) : ''),
        });
        row.appendChild(el('span', { class: 'sys' }, name));
        row.appendChild(el('span', { class: 'mid' }, a.machine || '(actor)'));
        row.appendChild(el('span', { class: 'badge ' + a.status }, a.status));
        row.addEventListener('click', () => select(a.id));
        li.appendChild(row);
        const c = kids.get(a.id);
        if (c) li.appendChild(build(c));
        ul.appendChild(li);
      }
      return ul;
    };
    $('tree').replaceChildren(...build(roots).childNodes);
    renderActorOptions();
  }

  function renderActorOptions() {
    const sel = $('event-actor');
    const cur = sel.value;
    const opts = [el('option', { value: '' }, 'all actors')];
    for (const a of view.actors.values()) {
      if (a.status !== 'active' && a.id !== cur) continue;
      opts.push(el('option', { value: a.id }, (a.systemId || a.actorId) + ' (' + a.id + ')'));
    }
    sel.replaceChildren(...opts);
    sel.value = cur;
  }

  function select(id) {
    selected = id;
    queueRender();
  }

  // ---- statechart ---------------------------------------------------------------------------------------------
  let measureCtx = null;
  function measure(text, kind) {
    if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
    const mono = getComputedStyle(document.body).getPropertyValue('--mono') || 'monospace';
    measureCtx.font = (kind === 'head' ? '600 13px ' : '12px ') + mono;
    return measureCtx.measureText(text).width;
  }

  /** Both directions are laid out; the one that fits the pane at the larger scale is kept. */
  function layoutOf(machine) {
    let p = layouts.get(machine);
    if (p) return p;
    const chart = charts.get(machine);
    const pane = $('chart').getBoundingClientRect();
    const elk = new ELK();
    p = Promise.all(
      ['RIGHT', 'DOWN'].map((dir) =>
        elk.layout(SyncvisorLayout.buildGraph(chart, measure, dir)).then((g) => ({ g, dir })),
      ),
    ).then((both) => {
      const scale = (x) => Math.min((pane.width || 900) / x.g.width, (pane.height || 500) / x.g.height);
      both.sort((a, b) => scale(b) - scale(a));
      return both[0];
    });
    layouts.set(machine, p);
    return p;
  }

  function pathOf(machineId, id) {
    return id === machineId ? '' : id.slice(machineId.length + 1);
  }

  function renderChart() {
    const a = selected && view.actors.get(selected);
    const host = $('chart');
    if (!a || !a.machine || !charts.get(a.machine)) {
      chartState = null;
      $('chart-title').textContent = 'Statechart';
      $('state-value').textContent = a ? '(not a state machine)' : '';
      host.replaceChildren(el('p', { class: 'hint' }, 'Select a machine in the actor tree.'));
      return;
    }
    $('chart-title').textContent = (a.systemId || a.actorId) + ' · ' + a.machine;
    if (chartState && chartState.machine === a.machine) return highlight(a);
    const machine = a.machine;
    chartState = { machine, pending: true };
    layoutOf(machine).then(
      (laid) => {
        if (!chartState || chartState.machine !== machine) return;
        drawChart(machine, laid);
        const cur = selected && view.actors.get(selected);
        if (cur) highlight(cur);
      },
      (err) => host.replaceChildren(el('p', { class: 'hint' }, 'layout failed: ' + err)),
    );
  }

  function drawChart(machine, laid) {
    const chart = charts.get(machine);
    const g = laid.g;
    const root = svg('svg', {
      'data-machine': machine,
      'data-direction': laid.dir,
      class: 'statechart',
      width: '100%',
      height: '100%',
    });
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: '9',
      refY: '5',
      markerWidth: '7',
      markerHeight: '7',
      orient: 'auto-start-reverse',
    });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    const scene = svg('g', { class: 'scene' });
    root.appendChild(scene);
    const byPath = new Map();
    const tlines = [];
    const statesLayer = svg('g', { class: 'states' });
    const edgesLayer = svg('g', { class: 'edges' });
    const labelsLayer = svg('g', { class: 'labels' });
    scene.append(statesLayer, edgesLayer, labelsLayer);
    const drawNode = (n) => {
      const info = n.syncvisor;
      if (info && info.initialMarker) {
        statesLayer.appendChild(
          svg('circle', { class: 'initial', cx: n.x + n.width / 2, cy: n.y + n.height / 2, r: 5 }),
        );
        return;
      }
      if (!info || !info.node) return;
      const node = info.node;
      const path = pathOf(chart.id, node.id);
      const grp = svg('g', {
        class: 'state ' + node.type + (info.regionOf ? ' region' : ''),
        'data-path': path,
        'data-id': node.id,
      });
      const rect = svg('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 7 });
      grp.appendChild(rect);
      grp.appendChild(svg('text', { class: 'head', x: n.x + 10, y: n.y + 16 }, info.head));
      if (node.description) grp.appendChild(svg('title', {}, node.description));
      info.lines.forEach((l, i) => {
        const t = svg(
          'text',
          {
            class: 'tline ' + l.kind,
            x: n.x + 10,
            y: n.y + SyncvisorLayout.HEAD_H + 12 + i * SyncvisorLayout.LINE_H,
            'data-event': l.event || '',
          },
          l.text,
        );
        if (l.full !== l.text) t.appendChild(svg('title', {}, l.full));
        grp.appendChild(t);
        if (l.kind === 'transition') tlines.push({ el: t, event: l.event, path });
      });
      statesLayer.appendChild(grp);
      byPath.set(path, grp);
      for (const c of n.children || []) drawNode(c);
    };
    for (const c of g.children || []) drawNode(c);
    const edges = [];
    for (const e of g.edges || []) {
      const info = e.syncvisor || {};
      if (info.order) continue;
      const grp = svg('g', { class: 'edge' + (info.initial ? ' init' : ''), 'data-event': info.event || '' });
      for (const s of e.sections || []) {
        const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint];
        grp.appendChild(
          svg('path', { d: 'M' + pts.map((p) => p.x + ' ' + p.y).join(' L'), 'marker-end': 'url(#arrow)' }),
        );
      }
      edgesLayer.appendChild(grp);
      for (const l of e.labels || []) {
        const lg = svg('g', { class: 'edge-label', 'data-event': info.event || '' });
        lg.appendChild(svg('rect', { x: l.x, y: l.y, width: l.width, height: l.height, rx: 3 }));
        lg.appendChild(svg('text', { x: l.x + 4, y: l.y + l.height - 5 }, l.text));
        labelsLayer.appendChild(lg);
        grp.appendChild(svg('title', {}, l.text));
        // the label belongs to its edge for selectors like `.edge[data-event=…] text`
        grp.dataset.label = l.text;
        edges.push({ g: grp, label: lg, event: info.event, target: pathOf(chart.id, info.target) });
      }
    }
    const host = $('chart');
    host.replaceChildren(root);
    const vb = { x: -10, y: -10, w: g.width + 20, h: g.height + 20 };
    chartState = { machine, svg: root, byPath, edges, tlines, vb, full: { ...vb } };
    applyViewBox();
    enablePanZoom(root);
  }

  function applyViewBox() {
    const s = chartState;
    if (!s || !s.svg) return;
    s.svg.setAttribute('viewBox', s.vb.x + ' ' + s.vb.y + ' ' + s.vb.w + ' ' + s.vb.h);
  }

  function fit() {
    if (!chartState || !chartState.full) return;
    chartState.vb = { ...chartState.full };
    applyViewBox();
  }

  function zoom(f, cx, cy) {
    const s = chartState;
    if (!s || !s.vb) return;
    const px = cx === undefined ? s.vb.x + s.vb.w / 2 : cx;
    const py = cy === undefined ? s.vb.y + s.vb.h / 2 : cy;
    s.vb = { x: px - (px - s.vb.x) * f, y: py - (py - s.vb.y) * f, w: s.vb.w * f, h: s.vb.h * f };
    applyViewBox();
  }

  function enablePanZoom(root) {
    const toChart = (ev) => {
      const r = root.getBoundingClientRect();
      const s = chartState.vb;
      const k = Math.max(s.w / r.width, s.h / r.height);
      const ox = s.x - (r.width * k - s.w) / 2;
      const oy = s.y - (r.height * k - s.h) / 2;
      return { x: ox + (ev.clientX - r.left) * k, y: oy + (ev.clientY - r.top) * k, k };
    };
    root.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const p = toChart(ev);
        zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
      },
      { passive: false },
    );
    let drag = null;
    root.addEventListener('pointerdown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, vb: { ...chartState.vb }, k: toChart(ev).k };
      root.setPointerCapture(ev.pointerId);
    });
    root.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      chartState.vb = {
        ...drag.vb,
        x: drag.vb.x - (ev.clientX - drag.x) * drag.k,
        y: drag.vb.y - (ev.clientY - drag.y) * drag.k,
      };
      applyViewBox();
    });
    root.addEventListener('pointerup', () => (drag = null));
  }

  function activePaths(value, prefix, out) {
    if (typeof value === 'string') {
      out.push(prefix ? prefix + '.' + value : value);
      return out;
    }
    if (value && typeof value === 'object') {
      for (const k of Object.keys(value)) {
        const p = prefix ? prefix + '.' + k : k;
        out.push(p);
        activePaths(value[k], p, out);
      }
    }
    return out;
  }

  function highlight(a) {
    const text = fmtValue(a.value) + (a.status !== 'active' ? '  (' + a.status + ')' : '');
    $('state-value').textContent = text;
    const s = chartState;
    if (!s || !s.byPath) return;
    const now = new Set(activePaths(a.value, '', []));
    for (const [p, g] of s.byPath) g.classList.toggle('active', p !== '' && now.has(p));
    // The transition just taken: the last event this actor got, on an edge whose target is active now (or, for a
    // transition without a target, a line of an active state).
    const lastEv = view.lastEvent.get(a.id);
    const lastType = lastEv && lastEv.type;
    for (const e of s.edges) {
      const live = !!lastType && e.event === lastType && now.has(e.target);
      e.g.classList.toggle('live', live);
      if (e.label) e.label.classList.toggle('live', live);
    }
    for (const t of s.tlines)
      t.el.classList.toggle('live', !!lastType && t.event === lastType && (t.path === '' || now.has(t.path)));
  }

  // ---- JSON tree (context, payloads) ----------------------------------------------------------------------------
  function summary(v) {
    if (Array.isArray(v)) return 'Array(' + v.length + ')';
    const n = Object.keys(v).length;
    return '{' + n + (n === 1 ? ' key' : ' keys') + '}';
  }

  function jsonTree(value, key, depth) {
    if (value === null || typeof value !== 'object') {
      const row = el('div', { class: 'jrow' });
      if (key !== undefined) row.appendChild(el('span', { class: 'jkey' }, key + ': '));
      row.appendChild(
        el('span', { class: 'jval j-' + (value === null ? 'null' : typeof value) }, JSON.stringify(value)),
      );
      return row;
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const d = el('details', { class: 'jnode', 'data-count': String(entries.length) });
    const sum = el('summary');
    if (key !== undefined) sum.appendChild(el('span', { class: 'jkey' }, key + ': '));
    sum.appendChild(el('span', { class: 'jsum' }, summary(value)));
    d.appendChild(sum);
    let shown = 0;
    const body = el('div', { class: 'jbody' });
    d.appendChild(body);
    const more = () => {
      const next = entries.slice(shown, shown + PAGE);
      for (const [k, v] of next) body.appendChild(jsonTree(v, k, depth + 1));
      shown += next.length;
      const old = body.querySelector(':scope > .jmore');
      if (old) old.remove();
      if (shown < entries.length) {
        const b = el(
          'button',
          { class: 'jmore' },
          'show ' + Math.min(PAGE, entries.length - shown) + ' more of ' + entries.length,
        );
        b.addEventListener('click', more);
        body.appendChild(b);
      }
    };
    d.addEventListener('toggle', () => {
      if (d.open && shown === 0) more();
    });
    // Small collections near the top are open; large ones stay summarised until clicked.
    if (depth === 0 || (depth === 1 && entries.length <= 12)) {
      d.open = true;
      more();
    }
    return d;
  }

  let contextKey = '';
  function renderContext() {
    const a = selected && view.actors.get(selected);
    $('context-of').textContent = a ? (a.systemId || a.actorId) + ' @ ' + currentTime().toFixed(3) + ' ms' : '';
    const ctx = a ? a.context : undefined;
    const key = (a ? a.id : '') + ':' + JSON.stringify(ctx === undefined ? null : ctx);
    if (key === contextKey) return;
    contextKey = key;
    const host = $('context');
    if (!a) return host.replaceChildren();
    if (ctx === undefined)
      return host.replaceChildren(el('p', { class: 'hint' }, a.machine ? 'no context' : 'not a machine'));
    host.replaceChildren(jsonTree(ctx, undefined, 0));
  }

  function showEvent(r) {
    selectedRecord = r.seq;
    const host = $('event-detail');
    const head = el('div', { class: 'ev-head' });
    head.textContent =
      '#' +
      r.seq +
      '  t=' +
      r.t.toFixed(3) +
      ' ms  ' +
      (r.from ? nameOf(r.from) + ' → ' : '') +
      nameOf(r.to) +
      '  ' +
      r.type;
    const parts = [head];
    parts.push(r.payload === undefined ? el('p', { class: 'hint' }, 'no payload') : jsonTree(r.payload, undefined, 0));
    host.replaceChildren(...parts);
  }

  // ---- events table --------------------------------------------------------------------------------------------
  function rowMatches(r) {
    const actor = $('follow-selected').checked && selected ? selected : $('event-actor').value;
    const text = $('event-text').value.trim().toLowerCase();
    const to = r.kind === 'event' ? r.to : r.id;
    if (actor && to !== actor && r.from !== actor) return false;
    const type = r.kind === 'event' ? r.type : 'state';
    if (text && !type.toLowerCase().includes(text)) return false;
    return true;
  }

  function renderEvents() {
    const cur = cursor === null ? records.length - 1 : cursor;
    const end = cursor === null ? records.length : Math.min(records.length, cur + MAX_ROWS / 2);
    const rows = [];
    for (let i = end - 1; i >= 0 && rows.length < MAX_ROWS; i--) {
      const r = records[i];
      if (r.kind !== 'event' && r.kind !== 'snapshot') continue;
      if (!rowMatches(r)) continue;
      rows.push(rowOf(r, i, cur));
    }
    $('events').replaceChildren(...rows);
    const on = $('events').querySelector('tr.current');
    if (on && cursor !== null) on.scrollIntoView({ block: 'center' });
  }

  function rowOf(r, i, cur) {
    const tr = el('tr', {
      'data-index': String(i),
      'data-seq': String(r.seq),
      'data-to': r.kind === 'event' ? r.to : r.id,
      'data-from': r.from || '',
      'data-type': r.kind === 'event' ? r.type : 'state',
    });
    if (i > endOfStep(cur) && cursor !== null) tr.classList.add('future');
    if (cursor !== null && i === cursor) tr.classList.add('current');
    if (r.seq === selectedRecord) tr.classList.add('shown');
    tr.appendChild(el('td', {}, r.t.toFixed(3)));
    if (r.kind === 'event') {
      tr.appendChild(el('td', {}, r.from ? nameOf(r.from) : ''));
      tr.appendChild(el('td', {}, nameOf(r.to)));
      const td = el('td', { class: 'type' }, r.type);
      if (r.payload !== undefined) {
        const p = JSON.stringify(r.payload);
        td.appendChild(el('span', { class: 'payload' }, p.length > 160 ? p.slice(0, 159) + '…' : p));
      }
      tr.appendChild(td);
      tr.addEventListener('click', () => {
        stopPlay();
        showEvent(r);
        setCursor(i);
      });
    } else {
      tr.className += ' snap';
      tr.appendChild(el('td', {}, ''));
      tr.appendChild(el('td', {}, nameOf(r.id)));
      tr.appendChild(
        el('td', { class: 'type' }, '→ ' + fmtValue(r.value) + (r.status !== 'active' ? ' (' + r.status + ')' : '')),
      );
    }
    return tr;
  }

  // ---- sequence view ---------------------------------------------------------------------------------------------
  function renderSequence() {
    const follow = $('seq-follow').checked;
    const now = currentTime();
    if (follow) {
      $('seq-to').value = String(Math.ceil(now));
      if ($('seq-from').value === '' || Number($('seq-from').value) > now)
        $('seq-from').value = String(Math.max(0, Math.floor(now - 2000)));
    }
    const from = Number($('seq-from').value || 0);
    const to = Number($('seq-to').value || now);
    const msgs = [];
    let more = 0;
    const upto = cursor === null ? records.length - 1 : endOfStep(cursor);
    for (let i = 0; i <= upto; i++) {
      const r = records[i];
      if (r.kind !== 'event' || !r.from || r.from === r.to || r.t < from || r.t > to) continue;
      if (r.type === 'xstate.init') continue;
      if (msgs.length >= MAX_SEQ) {
        msgs.shift();
        more++;
      }
      msgs.push(r);
    }
    $('seq-count').textContent = msgs.length + ' messages' + (more ? ' (' + more + ' earlier ones not drawn)' : '');
    const lanes = [];
    for (const m of msgs) for (const id of [m.from, m.to]) if (!lanes.includes(id)) lanes.push(id);
    const W = 150;
    const H = 22;
    const width = Math.max(300, lanes.length * W + 40);
    const height = 40 + msgs.length * H + 20;
    const s = svg('svg', { width, height, class: 'seq' });
    lanes.forEach((id, i) => {
      const x = 20 + i * W + W / 2;
      s.appendChild(svg('line', { class: 'lifeline', x1: x, y1: 28, x2: x, y2: height - 10 }));
      s.appendChild(svg('text', { class: 'lane', x, y: 18, 'text-anchor': 'middle' }, nameOf(id)));
    });
    msgs.forEach((m, k) => {
      const x1 = 20 + lanes.indexOf(m.from) * W + W / 2;
      const x2 = 20 + lanes.indexOf(m.to) * W + W / 2;
      const y = 44 + k * H;
      const g = svg('g', { class: 'msg', 'data-type': m.type });
      g.appendChild(svg('line', { x1, y1: y, x2, y2: y, 'marker-end': 'url(#seq-arrow)' }));
      g.appendChild(svg('text', { x: Math.min(x1, x2) + 6, y: y - 4 }, m.t.toFixed(1) + '  ' + m.type));
      g.addEventListener('click', () => showEvent(m));
      s.appendChild(g);
    });
    const defs = svg('defs');
    const mk = svg('marker', {
      id: 'seq-arrow',
      viewBox: '0 0 10 10',
      refX: '9',
      refY: '5',
      markerWidth: '6',
      markerHeight: '6',
      orient: 'auto',
    });
    mk.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
    defs.appendChild(mk);
    s.appendChild(defs);
    $('sequence').replaceChildren(s);
  }

  // ---- data ------------------------------------------------------------------------------------------------------
  function receive(r) {
    if (r.kind === 'chart') {
      charts.set(r.machine, r.chart);
      return;
    }
    if (r.kind === 'actor') learn(r.actor);
    if (r.kind === 'snapshot' && r.event !== undefined) linked = true;
    if (r.kind === 'snapshot' && r.value !== undefined) {
      history.push({ actor: nameOf(r.id), value: fmtValue(r.value) });
      if (history.length > 500) history.shift();
    }
    records.push(r);
    while (records.length > capacity) {
      const old = records.shift();
      applyTo(base, new Map(), old);
      dropped++;
      if (cursor !== null) cursor = Math.max(0, cursor - 1);
      view = { idx: -1, actors: new Map(base), lastEvent: new Map() };
    }
  }

  function init(state) {
    mode = state.mode || 'live';
    capacity = state.capacity || 10000;
    dropped = state.dropped || 0;
    charts.clear();
    layouts.clear();
    for (const k of Object.keys(state.charts)) charts.set(k, state.charts[k]);
    base = new Map();
    for (const a of state.baseline || []) base.set(a.id, a);
    records = (state.events || []).filter((r) => r.kind !== 'chart');
    linked = records.some((r) => r.kind === 'snapshot' && r.event !== undefined);
    ident.clear();
    for (const a of state.baseline || []) learn(a);
    for (const a of state.actors || []) learn(a);
    for (const r of records) if (r.kind === 'actor') learn(r.actor);
    view = { idx: -1, actors: new Map(base), lastEvent: new Map() };
    chartState = null;
    document.body.dataset.mode = mode;
    const src = String(state.source || '');
    $('mode-title').textContent = mode === 'replay' ? 'replay · ' + src.split('/').pop() : 'inspector';
    $('mode-title').title = src;
    if (mode === 'replay') {
      // Open at the first event that is more than an actor starting: the tree has been built by then.
      const evs = eventIndexes();
      cursor = evs.find((i) => records[i].type !== 'xstate.init') ?? evs[0] ?? null;
      playClock = cursor === null ? 0 : records[cursor].t;
    }
    render();
  }

  function connect() {
    const es = new EventSource('/api/events');
    es.addEventListener('init', (m) => {
      const state = JSON.parse(m.data);
      // "live" when the page has the server's picture (a test hook too); in replay mode the trace is complete.
      $('conn').textContent = 'live';
      $('conn').title = state.mode === 'replay' ? 'the whole trace is loaded' : 'connected to the daemon';
      $('conn').className = 'conn conn-ok';
      init(state);
    });
    es.addEventListener('records', (m) => {
      for (const r of JSON.parse(m.data)) receive(r);
      queueRender();
    });
    es.onerror = () => {
      if (mode === 'replay') return es.close();
      $('conn').textContent = 'reconnecting…';
      $('conn').className = 'conn conn-wait';
    };
  }

  window.__syncvisorInspector = {
    history,
    get cursor() {
      return cursor;
    },
    get time() {
      return currentTime();
    },
    get records() {
      return records.length;
    },
    selected: () => (selected && view.actors.get(selected)) || null,
    actor: (systemId) =>
      [...view.actors.values()].find((a) => a.systemId === systemId && a.status === 'active') || null,
    select: (systemId) => {
      const a = [...view.actors.values()].find((x) => x.systemId === systemId);
      if (a) select(a.id);
      return !!a;
    },
    seek,
    step,
    /** The index of the first event record of this type delivered to systemId. */
    find: (systemId, type) =>
      records.findIndex((r) => r.kind === 'event' && r.type === type && nameOf(r.to) === systemId),
    goto: (i) => setCursor(i),
  };

  $('show-stopped').addEventListener('change', queueRender);
  $('event-actor').addEventListener('change', queueRender);
  $('event-text').addEventListener('input', queueRender);
  $('follow-selected').addEventListener('change', queueRender);
  $('step-back').addEventListener('click', () => step(-1));
  $('step-forward').addEventListener('click', () => step(1));
  $('play').addEventListener('click', togglePlay);
  $('go-live').addEventListener('click', () => {
    stopPlay();
    setCursor(null);
  });
  $('scrub').addEventListener('input', () => {
    stopPlay();
    let i = Number($('scrub').value);
    while (i > 0 && records[i] && records[i].kind !== 'event') i--;
    setCursor(i);
  });
  $('seek').addEventListener('change', () => {
    const t = Number($('seek').value);
    if (Number.isFinite(t)) seek(t);
  });
  $('zoom-in').addEventListener('click', () => zoom(1 / 1.25));
  $('zoom-out').addEventListener('click', () => zoom(1.25));
  $('zoom-fit').addEventListener('click', fit);
  const tab = (which) => {
    $('tab-events').classList.toggle('on', which === 'events');
    $('tab-sequence').classList.toggle('on', which === 'sequence');
    $('events-view').hidden = which !== 'events';
    $('sequence-view').hidden = which !== 'sequence';
    queueRender();
  };
  $('tab-events').addEventListener('click', () => tab('events'));
  $('tab-sequence').addEventListener('click', () => tab('sequence'));
  for (const id of ['seq-from', 'seq-to'])
    $(id).addEventListener('change', () => (($('seq-follow').checked = false), queueRender()));
  $('seq-follow').addEventListener('change', queueRender);
  document.addEventListener('keydown', (ev) => {
    if (ev.target && /INPUT|SELECT|TEXTAREA/.test(ev.target.tagName)) return;
    if (ev.key === 'ArrowLeft') step(-1);
    else if (ev.key === 'ArrowRight') step(1);
    else if (ev.key === ' ' && mode === 'replay') {
      ev.preventDefault();
      togglePlay();
    }
  });
  connect();
})();
