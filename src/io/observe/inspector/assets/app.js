// syncvisor local inspector page. Plain JS, no build step, no network beyond this daemon.
// Data: GET /api/events (SSE): `init` = {actors, charts, events}, then `records` = [record, …].
'use strict';
(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const MAX_ROWS = 500;
  const actors = new Map(); // sessionId -> ActorInfo
  const charts = new Map(); // machine key -> ChartNode
  let selected = null; // sessionId
  let lastEventFor = new Map(); // sessionId -> last event type
  let chartIndex = null; // { byPath, byId, edges, actorId, machine }
  let treeQueued = false;

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
  const label = (id) => {
    const a = actors.get(id);
    if (!a) return id || '';
    return a.systemId || a.actorId;
  };
  const fmtValue = (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

  // ---- actor tree -------------------------------------------------------------------------------------------
  function queueTree() {
    if (treeQueued) return;
    treeQueued = true;
    requestAnimationFrame(() => {
      treeQueued = false;
      renderTree();
    });
  }

  function renderTree() {
    const showStopped = $('show-stopped').checked;
    const kids = new Map();
    const roots = [];
    for (const a of actors.values()) {
      if (!showStopped && a.status !== 'active' && a.id !== selected) continue;
      if (a.parentId && actors.has(a.parentId)) {
        if (!kids.has(a.parentId)) kids.set(a.parentId, []);
        kids.get(a.parentId).push(a);
      } else roots.push(a);
    }
    const build = (list) => {
      const ul = el('ul');
      for (const a of list) {
        const li = el('li');
        const row = el('span', {
          class: 'actor' + (a.id === selected ? ' selected' : '') + (a.status !== 'active' ? ' is-stopped' : ''),
          'data-id': a.id,
          'data-systemid': a.systemId || '',
          'data-actorid': a.actorId,
          title: a.id,
        });
        row.appendChild(el('span', { class: 'sys' }, a.systemId || a.actorId));
        if (a.machine) row.appendChild(el('span', { class: 'mid' }, a.machine));
        else row.appendChild(el('span', { class: 'mid' }, '(actor)'));
        row.appendChild(el('span', { class: 'badge ' + a.status }, a.status));
        row.addEventListener('click', () => select(a.id));
        li.appendChild(row);
        const c = kids.get(a.id);
        if (c) li.appendChild(build(c));
        ul.appendChild(li);
      }
      return ul;
    };
    const tree = $('tree');
    tree.replaceChildren(...build(roots).childNodes);
    renderActorOptions();
  }

  function renderActorOptions() {
    const sel = $('event-actor');
    const cur = sel.value;
    const opts = [el('option', { value: '' }, 'all actors')];
    for (const a of actors.values()) {
      if (a.status !== 'active' && a.id !== cur) continue;
      opts.push(el('option', { value: a.id }, (a.systemId || a.actorId) + ' (' + a.id + ')'));
    }
    sel.replaceChildren(...opts);
    sel.value = cur;
  }

  function select(id) {
    selected = id;
    renderTree();
    renderChart();
    if ($('follow-selected').checked) refilter();
  }

  // ---- statechart -------------------------------------------------------------------------------------------
  const CH = 7.6; // px per character of the 12.5px monospace font
  const LEAF_H = 34;
  const HEAD = 26;
  const PAD = 14;
  const PAD_LEFT = 30; // room for the initial-state marker
  const GAP_X = 90;
  const GAP_Y = 28;

  function ownerChild(parent, targetId) {
    for (const c of parent.states) if (targetId === c.id || targetId.startsWith(c.id + '.')) return c;
    return null;
  }

  function subtreeTransitions(node, out) {
    for (const t of node.transitions) out.push(t);
    for (const c of node.states) subtreeTransitions(c, out);
    return out;
  }

  // Returns {w, h, place(x, y)} with children laid out in columns by distance from the initial state.
  function measure(node, isRegion) {
    const nameW = node.key.length * CH + 28;
    if (node.states.length === 0) {
      const w = Math.max(84, nameW);
      return { node, w, h: LEAF_H, kids: [], region: isRegion };
    }
    if (node.type === 'parallel') {
      const kids = node.states.map((c) => measure(c, true));
      let x = PAD;
      let h = 0;
      const pos = [];
      for (const k of kids) {
        pos.push({ k, dx: x, dy: HEAD });
        x += k.w + 16;
        h = Math.max(h, k.h);
      }
      return { node, w: Math.max(x - 16 + PAD, nameW), h: HEAD + h + PAD, kids: pos, region: isRegion };
    }
    // rank siblings by BFS over sibling-level edges
    const rank = new Map();
    const next = new Map();
    for (const c of node.states) {
      const outs = new Set();
      for (const t of subtreeTransitions(c, [])) {
        for (const tg of t.targets) {
          const o = ownerChild(node, tg);
          if (o && o !== c) outs.add(o.id);
        }
      }
      next.set(c.id, [...outs]);
    }
    const order = node.states.map((c) => c.id);
    const startIds = [node.initial || order[0]].concat(order);
    let base = 0;
    for (const s of startIds) {
      if (rank.has(s)) continue;
      const q = [s];
      rank.set(s, base);
      let maxR = base;
      while (q.length) {
        const cur = q.shift();
        for (const n of next.get(cur) || []) {
          if (!rank.has(n)) {
            rank.set(n, rank.get(cur) + 1);
            maxR = Math.max(maxR, rank.get(n));
            q.push(n);
          }
        }
      }
      base = maxR + 1;
    }
    const cols = [];
    for (const c of node.states) {
      const r = rank.get(c.id);
      (cols[r] = cols[r] || []).push(measure(c, false));
    }
    // the gap after a column leaves room for the labels of the edges leaving it
    const gapAfter = cols.map((col) => {
      let w = 0;
      for (const k of col || []) {
        for (const t of subtreeTransitions(k.node, [])) {
          if (t.targets.length === 0) continue;
          const text = t.label + (t.guard ? ' [' + t.guard + ']' : '');
          w = Math.max(w, text.length * 6.6 + 30);
        }
      }
      return Math.min(Math.max(GAP_X, w), 280);
    });
    const pos = [];
    let x = PAD_LEFT;
    let maxH = 0;
    let lastGap = GAP_X;
    for (let ci = 0; ci < cols.length; ci++) {
      const col = cols[ci];
      if (!col) continue;
      const cw = Math.max(...col.map((k) => k.w));
      let y = HEAD + 8;
      for (const k of col) {
        pos.push({ k, dx: x + (cw - k.w) / 2, dy: y });
        y += k.h + GAP_Y;
      }
      maxH = Math.max(maxH, y - GAP_Y);
      lastGap = gapAfter[ci];
      x += cw + lastGap;
    }
    return { node, w: Math.max(x - lastGap + PAD, nameW), h: maxH + PAD, kids: pos, region: isRegion };
  }

  function place(m, x, y, path, parentEl, idx) {
    const n = m.node;
    const cls = ['state', n.type, m.region ? 'region' : ''].join(' ').trim();
    const g = svg('g', { class: cls, 'data-state-id': n.id, 'data-path': path });
    g.appendChild(svg('rect', { x, y, width: m.w, height: m.h, rx: n.states.length ? 10 : 8 }));
    const leaf = n.states.length === 0;
    g.appendChild(
      svg(
        'text',
        {
          class: 'name',
          x: leaf ? x + m.w / 2 : x + 10,
          y: leaf ? y + m.h / 2 + 4 : y + 17,
          'text-anchor': leaf ? 'middle' : 'start',
        },
        n.key,
      ),
    );
    parentEl.appendChild(g);
    idx.byPath.set(path, g);
    idx.rects.set(n.id, { x, y, w: m.w, h: m.h, node: n, path });
    for (const p of m.kids) {
      const cp = path ? path + '.' + p.k.node.key : p.k.node.key;
      place(p.k, x + p.dx, y + p.dy, cp, parentEl, idx);
      if (n.type === 'compound' && n.initial === p.k.node.id) {
        const cx = x + p.dx - 16;
        const cy = y + p.dy + Math.min(p.k.h / 2, LEAF_H / 2);
        idx.initials.push({ cx, cy, tx: x + p.dx });
      }
    }
  }

  function clip(r, cx, cy, tx, ty) {
    const dx = tx - cx;
    const dy = ty - cy;
    if (dx === 0 && dy === 0) return [cx, cy];
    const sx = dx === 0 ? Infinity : r.w / 2 / Math.abs(dx);
    const sy = dy === 0 ? Infinity : r.h / 2 / Math.abs(dy);
    const s = Math.min(sx, sy);
    return [cx + dx * s, cy + dy * s];
  }

  function drawEdges(chart, idx, layer, labels) {
    const pairCount = new Map();
    const all = [];
    (function walk(n) {
      for (const t of n.transitions) for (const tg of t.targets) all.push({ src: n.id, tgt: tg, t });
      for (const c of n.states) walk(c);
    })(chart);
    for (const e of all) {
      const a = idx.rects.get(e.src);
      const b = idx.rects.get(e.tgt);
      if (!a || !b) continue;
      const key = e.src + '>' + e.tgt;
      const k = pairCount.get(key) || 0;
      pairCount.set(key, k + 1);
      const g = svg('g', { class: 'edge kind-' + e.t.kind, 'data-event': e.t.event, 'data-src': e.src });
      let d;
      let lx;
      let ly;
      if (e.src === e.tgt) {
        const x = a.x + a.w;
        const y = a.y;
        const s = 30 + k * 18;
        d = `M ${x} ${y + a.h * 0.3} C ${x + s} ${y - 8} ${x + s} ${y + a.h + 8} ${x} ${y + a.h * 0.7}`;
        lx = x + s * 0.8 + 4;
        ly = y + a.h / 2 + 4;
      } else {
        const ac = [a.x + a.w / 2, a.y + a.h / 2];
        const bc = [b.x + b.w / 2, b.y + b.h / 2];
        const aIsAncestor = e.tgt.startsWith(e.src + '.');
        const bIsAncestor = e.src.startsWith(e.tgt + '.');
        const dx = bc[0] - ac[0];
        const dy = bc[1] - ac[1];
        const len = Math.hypot(dx, dy) || 1;
        // edges going left (back edges) bend further so they clear the boxes in between
        const off = (dx < -1 ? Math.max(40, len * 0.28) : 16) + k * 22;
        const ctrl = [(ac[0] + bc[0]) / 2 - (dy / len) * off, (ac[1] + bc[1]) / 2 + (dx / len) * off];
        const s = aIsAncestor ? [a.x + 14, a.y + HEAD - 4] : clip(a, ac[0], ac[1], ctrl[0], ctrl[1]);
        const t = bIsAncestor ? [b.x + 14, b.y + HEAD - 4] : clip(b, bc[0], bc[1], ctrl[0], ctrl[1]);
        d = `M ${s[0]} ${s[1]} Q ${ctrl[0]} ${ctrl[1]} ${t[0]} ${t[1]}`;
        lx = 0.25 * s[0] + 0.5 * ctrl[0] + 0.25 * t[0];
        ly = 0.25 * s[1] + 0.5 * ctrl[1] + 0.25 * t[1];
      }
      g.appendChild(svg('path', { d, 'marker-end': 'url(#arrow)' }));
      const text = e.t.label + (e.t.guard ? ' [' + e.t.guard + ']' : '');
      const w = text.length * 6.6 + 6;
      const lg = svg('g', { class: 'edge', 'data-event': e.t.event });
      lg.appendChild(svg('rect', { class: 'lbl', x: lx - w / 2, y: ly - 11, width: w, height: 15, rx: 3 }));
      lg.appendChild(svg('text', { x: lx, y: ly, 'text-anchor': 'middle' }, text));
      layer.appendChild(g);
      labels.appendChild(lg);
      idx.edges.push({ g, lg, src: e.src, event: e.t.event, path: a.path });
    }
  }

  function renderChart() {
    const host = $('chart');
    const a = selected && actors.get(selected);
    chartIndex = null;
    if (!a) {
      host.replaceChildren(el('p', { class: 'hint' }, 'Select a machine in the actor tree.'));
      $('chart-title').textContent = 'Statechart';
      $('state-value').textContent = '';
      return;
    }
    $('chart-title').textContent =
      'Statechart: ' + (a.systemId || a.actorId) + (a.machine ? ' (' + a.machine + ')' : '');
    const chart = a.machine && charts.get(a.machine);
    if (!chart) {
      host.replaceChildren(el('p', { class: 'hint' }, 'This actor is not a state machine (callback/promise logic).'));
      $('state-value').textContent = 'status: ' + a.status;
      return;
    }
    const m = measure(chart, false);
    const margin = 60;
    const root = svg('svg', {
      width: m.w + margin * 2,
      height: m.h + margin * 2,
      viewBox: `${-margin} ${-margin} ${m.w + margin * 2} ${m.h + margin * 2}`,
      'data-machine': a.machine,
    });
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#52606d' }));
    defs.appendChild(marker);
    root.appendChild(defs);
    const states = svg('g');
    const edges = svg('g');
    const labels = svg('g');
    root.appendChild(states);
    root.appendChild(edges);
    root.appendChild(labels);
    const idx = { byPath: new Map(), rects: new Map(), edges: [], initials: [], actorId: a.id, machine: a.machine };
    place(m, 0, 0, '', states, idx);
    for (const i of idx.initials) {
      states.appendChild(svg('circle', { class: 'initial', cx: i.cx - 4, cy: i.cy, r: 4 }));
      edges.appendChild(
        svg('path', { d: `M ${i.cx} ${i.cy} L ${i.tx - 1} ${i.cy}`, stroke: '#1f2933', 'marker-end': 'url(#arrow)' }),
      );
    }
    drawEdges(chart, idx, edges, labels);
    host.replaceChildren(root);
    chartIndex = idx;
    highlight(a.value, null);
  }

  function activePaths(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (typeof value === 'string') {
      out.push(prefix ? prefix + '.' + value : value);
      return out;
    }
    for (const k of Object.keys(value)) {
      const p = prefix ? prefix + '.' + k : k;
      out.push(p);
      activePaths(value[k], p, out);
    }
    return out;
  }

  // The highlighted values of the selected machine, newest last: a hook for the browser test and for debugging.
  const history = [];
  window.__syncvisorInspector = { history };

  function highlight(value, lastEvent) {
    const a = selected && actors.get(selected);
    history.push({ actor: a ? a.systemId || a.actorId : null, value: fmtValue(value) });
    if (history.length > 200) history.shift();
    $('state-value').textContent = a ? fmtValue(value) + (a.status !== 'active' ? '  (' + a.status + ')' : '') : '';
    if (!chartIndex) return;
    const prevActive = new Set();
    for (const [p, g] of chartIndex.byPath) if (g.classList.contains('active')) prevActive.add(p);
    const now = new Set(activePaths(value, '', []));
    for (const [p, g] of chartIndex.byPath) g.classList.toggle('active', now.has(p));
    for (const e of chartIndex.edges) {
      const live = !!lastEvent && e.event === lastEvent && prevActive.has(e.path);
      e.g.classList.toggle('live', live);
    }
  }

  // ---- events -----------------------------------------------------------------------------------------------
  function rowMatches(tr) {
    const actor = $('follow-selected').checked && selected ? selected : $('event-actor').value;
    const text = $('event-text').value.trim().toLowerCase();
    if (actor && tr.dataset.to !== actor && tr.dataset.from !== actor) return false;
    if (text && !tr.dataset.type.toLowerCase().includes(text)) return false;
    return true;
  }

  function refilter() {
    for (const tr of $('events').children) tr.hidden = !rowMatches(tr);
  }

  function addRow(r) {
    const tr = el('tr', { 'data-to': r.kind === 'event' ? r.to : r.id, 'data-from': r.from || '' });
    tr.dataset.type = r.kind === 'event' ? r.type : 'state';
    tr.appendChild(el('td', {}, r.t.toFixed(1)));
    if (r.kind === 'event') {
      tr.appendChild(el('td', {}, r.from ? label(r.from) : ''));
      tr.appendChild(el('td', {}, label(r.to)));
      const td = el('td', { class: 'type' }, r.type);
      if (r.payload) td.appendChild(el('span', { class: 'payload' }, r.payload));
      tr.appendChild(td);
    } else {
      tr.className = 'snap';
      tr.appendChild(el('td', {}, ''));
      tr.appendChild(el('td', {}, label(r.id)));
      tr.appendChild(
        el('td', { class: 'type' }, '→ ' + fmtValue(r.value) + (r.status !== 'active' ? ' (' + r.status + ')' : '')),
      );
    }
    tr.hidden = !rowMatches(tr);
    const body = $('events');
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
  }

  // ---- data -------------------------------------------------------------------------------------------------
  function apply(r) {
    switch (r.kind) {
      case 'chart':
        charts.set(r.machine, r.chart);
        break;
      case 'actor': {
        actors.set(r.actor.id, r.actor);
        const cur = selected && actors.get(selected);
        if (!selected && !r.actor.parentId && r.actor.machine) selected = r.actor.id;
        // A restarted actor (same systemId, new instance) takes over the selection.
        else if (
          cur &&
          cur.id !== r.actor.id &&
          cur.status !== 'active' &&
          r.actor.systemId &&
          r.actor.systemId === cur.systemId
        )
          selected = r.actor.id;
        queueTree();
        break;
      }
      case 'snapshot': {
        const a = actors.get(r.id);
        if (a) {
          const statusChanged = a.status !== r.status;
          a.status = r.status;
          if (r.value !== undefined) a.value = r.value;
          if (statusChanged) queueTree();
          if (r.id === selected) highlight(a.value, lastEventFor.get(r.id));
        }
        addRow(r);
        break;
      }
      case 'stopped': {
        const a = actors.get(r.id);
        if (a) {
          a.status = r.status;
          queueTree();
        }
        break;
      }
      case 'event':
        lastEventFor.set(r.to, r.type);
        addRow(r);
        break;
    }
  }

  function init(state) {
    actors.clear();
    charts.clear();
    lastEventFor = new Map();
    for (const k of Object.keys(state.charts)) charts.set(k, state.charts[k]);
    for (const a of state.actors) actors.set(a.id, a);
    if (selected && !actors.has(selected)) selected = null;
    if (!selected) {
      const root = state.actors.find((a) => !a.parentId && a.machine && a.status === 'active');
      if (root) selected = root.id;
    }
    $('events').replaceChildren();
    for (const r of state.events) apply(r);
    renderTree();
    renderChart();
  }

  function connect() {
    const es = new EventSource('/api/events');
    es.addEventListener('init', (m) => {
      $('conn').textContent = 'live';
      $('conn').className = 'conn conn-ok';
      init(JSON.parse(m.data));
    });
    es.addEventListener('records', (m) => {
      const selBefore = selected;
      for (const r of JSON.parse(m.data)) apply(r);
      if (selected !== selBefore) renderChart();
    });
    es.onerror = () => {
      $('conn').textContent = 'reconnecting…';
      $('conn').className = 'conn conn-wait';
    };
  }

  $('show-stopped').addEventListener('change', renderTree);
  $('event-actor').addEventListener('change', refilter);
  $('event-text').addEventListener('input', refilter);
  $('follow-selected').addEventListener('change', refilter);
  connect();
})();
