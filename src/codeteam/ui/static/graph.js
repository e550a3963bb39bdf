// The task graph: dagre lays out the tasks and their dependencies, we draw it as SVG.
// Labels are set with textContent, so whatever a model named a task shows as text.
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function draw() {
    const holder = document.getElementById("graph");
    const data = document.getElementById("graph-data");
    if (!holder || !data || !window.dagre) return;
    const graph = JSON.parse(data.textContent);
    holder.replaceChildren();
    if (!graph.nodes.length) {
      holder.textContent = "no tasks planned yet";
      return;
    }
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 48, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of graph.nodes) {
      const label = n.id + " · " + n.agent;
      g.setNode(n.id, { label: label, width: Math.min(320, 24 + 7.2 * label.length), height: 34, n: n });
    }
    for (const [from, to] of graph.edges) g.setEdge(from, to);
    dagre.layout(g);
    const size = g.graph();
    const svg = el("svg", {
      width: Math.ceil(size.width), height: Math.ceil(size.height),
      viewBox: `0 0 ${Math.ceil(size.width)} ${Math.ceil(size.height)}`, role: "img",
    }, holder);
    const defs = el("defs", {}, svg);
    const marker = el("marker", {
      id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: "auto-start-reverse",
    }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }, marker);
    for (const e of g.edges()) {
      const pts = g.edge(e).points;
      const d = pts.map((p, i) => (i ? "L" : "M") + p.x.toFixed(1) + " " + p.y.toFixed(1)).join(" ");
      el("path", { d: d, class: "edge", "marker-end": "url(#arrow)", "data-edge": e.v + "->" + e.w }, svg);
    }
    for (const id of g.nodes()) {
      const node = g.node(id);
      const link = el("a", { href: "#task-" + encodeURIComponent(id), class: "node st-" + node.n.status,
        "data-task": id, "data-status": node.n.status }, svg);
      el("rect", { x: node.x - node.width / 2, y: node.y - node.height / 2, width: node.width,
        height: node.height, rx: 6 }, link);
      const text = el("text", { x: node.x, y: node.y + 4, "text-anchor": "middle" }, link);
      text.textContent = node.label;
      const title = el("title", {}, link);
      title.textContent = node.label + ": " + node.n.status;
    }
  }

  draw();
  document.addEventListener("content-replaced", draw);
})();
