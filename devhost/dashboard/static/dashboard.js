// devhost dashboard: live refresh, mermaid graphs and the action buttons (plain JavaScript).
"use strict";

const base = document.body.dataset.base;
const REFRESH_MS = 2000;
let graphCount = 0;

function refreshOn() {
  return localStorage.getItem("devhost.autoRefresh") !== "off";
}

async function refresh() {
  const response = await fetch(location.href, { cache: "no-store" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const incoming of fresh.querySelectorAll("[data-live][id]")) {
    const current = document.getElementById(incoming.id);
    if (!current || current.contains(document.activeElement) || current.querySelector("[data-dirty]")) continue;
    if (incoming.id === "graph" && current.dataset.graph === incoming.dataset.graph) continue;
    if (incoming.id === "actions" && current.dataset.busy) continue;
    if (current.innerHTML === incoming.innerHTML) continue;
    current.replaceWith(document.importNode(incoming, true));
    if (incoming.id === "graph") drawGraph();
  }
}

async function drawGraph() {
  const section = document.getElementById("graph");
  const picture = document.getElementById("graph-picture");
  if (!section || !picture || !section.dataset.graph) return;
  if (!window.mermaid) return; // the page shows the mermaid text instead
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  try {
    const { svg } = await window.mermaid.render(`devhost-graph-${++graphCount}`, section.dataset.graph);
    picture.innerHTML = svg;
  } catch (error) {
    picture.innerHTML = "";
    const note = document.createElement("p");
    note.className = "error";
    note.id = "graph-error";
    note.textContent = `mermaid could not draw this graph: ${error.message || error}`;
    section.appendChild(note);
  }
}

function show(message, failed) {
  const result = document.getElementById("action-result");
  if (!result) return;
  result.textContent = message;
  result.classList.toggle("failed", failed);
}

async function act(element) {
  const section = document.getElementById("actions");
  const action = element.dataset.action;
  const body = {};
  if (action === "raise-event") {
    body.name = element.elements.name.value.trim();
    body.data = element.elements.data.value.trim() || null;
    if (body.data !== null) {
      try { JSON.parse(body.data); } catch (error) { show(`The event data is not valid JSON: ${error.message}`, true); return; }
    }
  }
  if (!window.confirm(element.dataset.confirm)) { show(`${action}: cancelled`, false); return; }
  section.dataset.busy = "1";
  try {
    const url = `${base}/api/instances/${encodeURIComponent(section.dataset.instanceId)}/${action}`;
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) { show(`${action} failed: ${answer.error || response.status}`, true); return; }
    if (action === "purge") { location.href = `${base}/`; return; }
    if (action === "restart" && answer.instanceId) {
      location.href = `${base}/instances/${encodeURIComponent(answer.instanceId)}`;
      return;
    }
    show(answer.message || "done", false);
    if (element.tagName === "FORM") { element.reset(); element.querySelectorAll("[data-dirty]").forEach((e) => delete e.dataset.dirty); }
  } finally {
    delete section.dataset.busy;
  }
  document.activeElement?.blur();
  await refresh();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) { event.preventDefault(); act(button); }
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-action]");
  if (form) { event.preventDefault(); act(form); }
});
document.addEventListener("input", (event) => {
  if (event.target.closest("#actions")) event.target.dataset.dirty = "1";
});

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("auto-refresh");
  toggle.checked = refreshOn();
  toggle.addEventListener("change", () => localStorage.setItem("devhost.autoRefresh", toggle.checked ? "on" : "off"));
  drawGraph();
  // A finished instance no longer changes: its page stops polling (the list pages keep on).
  setInterval(() => {
    if (refreshOn() && !document.querySelector("[data-final]")) refresh().catch(() => {});
  }, REFRESH_MS);
});
