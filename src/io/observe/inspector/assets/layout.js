// syncvisor inspector: statechart layout with ELK (elkjs, served by the daemon from its node_modules; no network).
// A chart (src/actors/observe/machineChart.ts) becomes an ELK graph: every state a node (compound and parallel states
// hold their children; parallel regions are laid out side by side), every transition with a target an edge with a
// measured label that ELK places clear of the boxes, every transition without a target (or back to its own state)
// a line of the state's transition list inside its box. Works in the browser (globalThis.SyncvisorLayout) and in
// Node (module.exports) so the geometry can be checked without a browser.
'use strict';
(function (root) {
  const LINE_H = 16;
  const HEAD_H = 22;
  const PAD = 10;
  const MAX_LINE_CHARS = 60;

  function transitionText(t) {
    let s = t.label;
    if (t.guard) s += ' [' + t.guard + ']';
    return s;
  }

  function clip(s) {
    return s.length > MAX_LINE_CHARS ? s.slice(0, MAX_LINE_CHARS - 1) + '…' : s;
  }

  function line(kind, full, extra) {
    return Object.assign({ kind, text: clip(full), full }, extra || {});
  }

  /** The lines written inside a state's box: invokes, entry/exit actions, and its targetless or self transitions. */
  function stateLines(node) {
    const lines = [];
    if (node.invoke.length) lines.push(line('invoke', 'invoke ' + node.invoke.map((i) => i.src).join(', ')));
    if (node.entry.length) lines.push(line('entry', 'entry / ' + node.entry.join(', ')));
    if (node.exit.length) lines.push(line('exit', 'exit / ' + node.exit.join(', ')));
    node.transitions.forEach((t, i) => {
      const self = t.targets.length === 1 && t.targets[0] === node.id;
      if (t.targets.length > 0 && !self) return;
      const acts = t.actions.length ? ' / ' + t.actions.join(', ') : '';
      lines.push(line('transition', (self ? '↻ ' : '• ') + transitionText(t) + acts, { index: i, event: t.event }));
    });
    return lines;
  }

  function headText(node) {
    return node.key + (node.type === 'parallel' ? '  ∥' : '');
  }

  /**
   * The ELK graph of a chart. `measure(text, kind)` returns the width in px of a text ('head', 'line' or 'label').
   * Coordinates come back absolute (elk.json.shapeCoords/edgeCoords ROOT).
   */
  function buildGraph(chart, measure, direction) {
    const edges = [];
    const ids = new Set();
    let n = 0;
    const collect = (node) => {
      ids.add(node.id);
      node.states.forEach(collect);
    };
    collect(chart);

    const toElk = (node, parentType) => {
      const lines = stateLines(node);
      const head = headText(node);
      let w = measure(head, 'head') + 2 * PAD;
      for (const l of lines) w = Math.max(w, measure(l.text, 'line') + 2 * PAD);
      const top = HEAD_H + lines.length * LINE_H + (lines.length ? 6 : 0);
      const elk = {
        id: node.id,
        labels: [],
        layoutOptions: {},
        children: [],
        syncvisor: { node, lines, head, top, regionOf: parentType === 'parallel' },
      };
      if (node.states.length === 0) {
        elk.width = Math.max(w, 70);
        elk.height = Math.max(top + 8, 34);
      } else {
        elk.layoutOptions['elk.padding'] =
          '[top=' + (top + 8) + ',left=' + (PAD + 6) + ',bottom=' + PAD + ',right=' + PAD + ']';
        elk.layoutOptions['elk.nodeSize.constraints'] = 'MINIMUM_SIZE';
        elk.layoutOptions['elk.nodeSize.minimum'] = '(' + Math.ceil(w) + ',' + (top + 20) + ')';
        if (node.initial) {
          const init = { id: node.id + '#initial', width: 10, height: 10, syncvisor: { initialMarker: true } };
          elk.children.push(init);
          edges.push({
            id: 'init:' + node.id,
            sources: [init.id],
            targets: [node.initial],
            syncvisor: { initial: true },
          });
        }
        for (const c of node.states) elk.children.push(toElk(c, node.type));
        if (node.type === 'parallel' && (direction || 'RIGHT') === 'RIGHT') {
          // Regions have no edges between them. Left to right, an invisible edge from each region to the next puts
          // them in consecutive layers, side by side; top-down they share a layer, which is side by side already.
          for (let i = 1; i < node.states.length; i++)
            edges.push({
              id: 'order:' + node.states[i].id,
              sources: [node.states[i - 1].id],
              targets: [node.states[i].id],
              syncvisor: { order: true },
            });
        }
      }
      node.transitions.forEach((t, i) => {
        const targets = t.targets.filter((x) => x !== node.id && ids.has(x));
        for (const target of targets) {
          const text = transitionText(t);
          edges.push({
            id: 'e' + n++,
            sources: [node.id],
            targets: [target],
            labels: [{ text, width: Math.ceil(measure(text, 'label')) + 8, height: LINE_H + 2 }],
            syncvisor: { source: node.id, target, index: i, event: t.event, kind: t.kind, text },
          });
        }
      });
      return elk;
    };
    const top = toElk(chart, null);
    return {
      id: 'chart:' + chart.id,
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': direction || 'RIGHT',
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.json.shapeCoords': 'ROOT',
        'elk.json.edgeCoords': 'ROOT',
        'elk.edgeRouting': 'ORTHOGONAL',
        'elk.edgeLabels.placement': 'CENTER',
        'elk.layered.edgeLabels.sideSelection': 'ALWAYS_UP',
        'elk.spacing.edgeLabel': '4',
        'elk.spacing.edgeNode': '14',
        'elk.spacing.edgeEdge': '10',
        'elk.spacing.nodeNode': '28',
        'elk.layered.spacing.nodeNodeBetweenLayers': '48',
        'elk.layered.spacing.edgeNodeBetweenLayers': '14',
        'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
        'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
        'elk.layered.mergeEdges': 'false',
      },
      children: [top],
      edges,
    };
  }

  /** Every positioned box of a laid-out graph: states, and edge labels, absolute. */
  function boxes(laidOut) {
    const states = [];
    const labels = [];
    const walk = (n) => {
      if (n.syncvisor && n.syncvisor.node) states.push({ id: n.id, x: n.x, y: n.y, w: n.width, h: n.height, node: n });
      (n.children || []).forEach(walk);
    };
    (laidOut.children || []).forEach(walk);
    for (const e of laidOut.edges || [])
      for (const l of e.labels || []) labels.push({ id: e.id, x: l.x, y: l.y, w: l.width, h: l.height, text: l.text });
    return { states, labels };
  }

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  const api = { buildGraph, boxes, overlaps, stateLines, LINE_H, HEAD_H, PAD };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.SyncvisorLayout = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
