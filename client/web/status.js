// The status page: polls /status.json on the node that served it every 2 s and draws
// it. The sparklines are SVG paths computed here; no libraries. Everything from the
// network is shown with textContent, never parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 2000;
  const WIDTH = 300, HEIGHT = 60, PAD = 3;  // the sparklines' viewBox
  const HISTORY = 60;                       // rates the node keeps: one a second
  const $ = (id) => document.getElementById(id);

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function replaceRows(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const fill of rows) fill(body.insertRow());
  }

  const rate = (value) => (value >= 9.95 ? value.toFixed(0) : value.toFixed(1));
  const ms = (value) => (value === null ? "–" : `${value.toFixed(value < 10 ? 2 : 0)} ms`);

  function heartbeatText(node, interval) {
    if (node.heartbeat_age === null) return ["silent: its heartbeat expired", "bad"];
    const late = node.heartbeat_age > 2 * interval;
    return [`${node.heartbeat_age.toFixed(1)} s ago`, late ? "bad" : ""];
  }

  function showNodes(status) {
    const note = $("nodes-note");
    if (status.nodes === null) {
      replaceRows($("nodes"), []);
      note.textContent = "Redis did not answer: the cluster's nodes are unknown.";
      note.classList.add("bad");
      return;
    }
    note.textContent = `Heartbeats every ${status.heartbeat.interval} s; ` +
      `a node silent for ${status.heartbeat.ttl} s is reaped.`;
    note.classList.remove("bad");
    replaceRows($("nodes"), status.nodes.map((node) => (row) => {
      const name = cell(row, node.id, "node-id");
      if (node.self) {
        row.classList.add("self");
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "this node";
        name.append(" ", badge);
      }
      const [text, className] = heartbeatText(node, status.heartbeat.interval);
      cell(row, text, className);
      cell(row, String(node.users), "number");
    }));
  }

  // Newest rate at the right edge; a full minute spans the width.
  function sparkPaths(values) {
    const peak = Math.max(1, ...values);
    const step = WIDTH / (HISTORY - 1);
    const points = values.map((value, index) => [
      WIDTH - (values.length - 1 - index) * step,
      HEIGHT - PAD - (value / peak) * (HEIGHT - 2 * PAD),
    ]);
    if (points.length === 1) points.unshift([points[0][0] - step, points[0][1]]);
    const line = points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`)
      .join(" ");
    const first = points[0][0].toFixed(1);
    return { line, area: `${line} L${WIDTH} ${HEIGHT} L${first} ${HEIGHT} Z`, peak };
  }

  function showSpark(kind, values) {
    const svg = $(`${kind}-spark`);
    const now = $(`${kind}-now`);
    if (values.length === 0) {
      svg.querySelector(".line").setAttribute("d", "");
      svg.querySelector(".area").setAttribute("d", "");
      now.textContent = "(collecting…)";
      return;
    }
    const { line, area } = sparkPaths(values);
    svg.querySelector(".line").setAttribute("d", line);
    svg.querySelector(".area").setAttribute("d", area);
    const last = values[values.length - 1];
    now.textContent = `now ${rate(last)}, peak ${rate(Math.max(...values))}`;
  }

  function showDrops(drops) {
    $("no-drops").hidden = drops.length > 0;
    $("drops").hidden = drops.length === 0;
    replaceRows($("drops"), drops.map((drop) => (row) => {
      cell(row, new Date(drop.time * 1000).toLocaleTimeString());
      cell(row, drop.reason, drop.reason === "slow" ? "bad" : "");
      cell(row, drop.user ?? "(not logged in)", drop.user ? "" : "muted");
      cell(row, drop.peer, "peer");
    }));
  }

  function show(status) {
    $("node").textContent = status.node;
    document.title = `${status.node} · chat status`;
    showNodes(status);
    $("users").textContent = String(status.users);
    $("conn-tcp").textContent = String(status.connections.tcp ?? 0);
    $("conn-ws").textContent = String(status.connections.ws ?? 0);
    $("redis-query").textContent = ms(status.redis.query_ms);
    $("redis-batch").textContent = status.redis.batch_mean_ms === null ? "no batches"
      : `${ms(status.redis.batch_mean_ms)} over ${status.redis.batches} batches`;
    showSpark("messages", status.rates.messages);
    showSpark("deliveries", status.rates.deliveries);
    showDrops(status.drops);
  }

  function setUpdated(text, down) {
    $("updated").textContent = text;
    $("updated").classList.toggle("bad", down);
  }

  async function poll() {
    try {
      const response = await fetch("status.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      show(await response.json());
      setUpdated(`updated ${new Date().toLocaleTimeString()}`, false);
    } catch (error) {
      setUpdated(`cannot reach this node (${error.message}); retrying`, true);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
