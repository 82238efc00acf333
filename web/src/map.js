// The data map: who handles a customer's personal data (or, for the whole business, who is
// entrusted with what), drawn from the gateway's own /graphql API with Cytoscape.
//
// Parties that handle the data are laid out left to right (business -> subcontractors ->
// re-entrusted subcontractors, business -> third parties); excluded parties are drawn apart
// in their own box with the reasons. Node borders carry the contract status colour.
// #map-graph carries data-parties / data-included / data-excluded for tests and scripts.
import "./map.css";
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { ApiError, bindTokenForm, gql, savedToken } from "./session.js";
import { BUSINESS_QUERY, BUSINESSES_QUERY, CUSTOMER_QUERY } from "./queries.js";
import { businessGraph, customerGraph } from "./model.js";
import { GRAPH_STYLE, LEGEND, humanize } from "./style.js";

cytoscape.use(dagre);

const $ = (selector) => document.querySelector(selector);
const graphBox = $("#map-graph");
const EXCLUDED_AREA = "excluded-area";

let cy = null;
let current = null; // { graph, findings } of the last answer

function setStatus(text, kind = "info") {
  const status = $("#status");
  status.textContent = text;
  status.dataset.kind = kind;
}

// --- token ---------------------------------------------------------------------------

const showTokenState = bindTokenForm({ start, forgotten: clearGraph, setStatus });

// --- queries ---------------------------------------------------------------------------

$("#query-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showCustomer();
});
$("#show-business").addEventListener("click", () => showBusiness());

function params() {
  return {
    businessCode: $("#business").value,
    externalRef: $("#customer-ref").value.trim(),
    asOf: $("#as-of").value || null,
  };
}

function remember(mode) {
  const { businessCode, externalRef, asOf } = params();
  const query = new URLSearchParams({ business: businessCode });
  if (mode === "customer") query.set("ref", externalRef);
  if (asOf) query.set("asOf", asOf);
  history.replaceState(null, "", `/map?${query}`);
}

async function run(mode, work) {
  if (!savedToken()) {
    setStatus("Enter a token first (it is kept for this browser session only).", "error");
    return;
  }
  graphBox.dataset.state = "loading";
  setStatus("Loading…");
  try {
    await work();
    remember(mode);
  } catch (error) {
    clearGraph();
    graphBox.dataset.state = "error";
    setStatus(error instanceof ApiError ? error.message : `Failed: ${error.message}`, "error");
  }
}

async function showCustomer() {
  const { businessCode, externalRef, asOf } = params();
  if (!externalRef) {
    setStatus("Enter a customer's external reference, or show the whole business.", "error");
    return;
  }
  await run("customer", async () => {
    const data = await gql(CUSTOMER_QUERY, { businessCode, externalRef, asOf });
    if (!data.customerByRef) throw new ApiError(`No customer ${externalRef} in ${businessCode}.`);
    const graph = customerGraph(data.customerByRef);
    draw(graph, data.complianceFindings);
    const customer = data.customerByRef;
    setStatus(
      `${customer.externalRef} (${humanize(customer.status)}${customer.cancelledOn ? ` on ${customer.cancelledOn}` : ""})` +
        ` · ${asOf ? `as of ${asOf}` : "today"}`,
    );
  });
}

async function showBusiness() {
  const { businessCode, asOf } = params();
  await run("business", async () => {
    const data = await gql(BUSINESS_QUERY, { businessCode, asOf });
    if (!data.business) throw new ApiError(`No business ${businessCode}.`);
    const graph = businessGraph(data, asOf || today());
    draw(graph, data.complianceFindings);
    setStatus(`${data.business.name}: every entrustment and provision · ${asOf ? `as of ${asOf}` : "today"}`);
  });
}

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

async function loadBusinesses() {
  const data = await gql(BUSINESSES_QUERY);
  const select = $("#business");
  const wanted = new URLSearchParams(location.search).get("business") || select.value;
  select.replaceChildren(
    ...data.businesses.map((b) => new Option(`${b.name} (${b.code})`, b.code, false, b.code === wanted)),
  );
}

async function start() {
  showTokenState();
  try {
    await loadBusinesses();
  } catch (error) {
    setStatus(error instanceof ApiError ? error.message : `Failed: ${error.message}`, "error");
    graphBox.dataset.state = "error";
    return;
  }
  const query = new URLSearchParams(location.search);
  if (query.get("asOf")) $("#as-of").value = query.get("asOf");
  if (query.has("business") && !query.has("ref")) await showBusiness();
  else {
    if (query.get("ref")) $("#customer-ref").value = query.get("ref");
    await showCustomer();
  }
}

// --- drawing ---------------------------------------------------------------------------

function clearGraph() {
  if (cy) cy.destroy();
  cy = null;
  current = null;
  graphBox.dataset.state = "empty";
  graphBox.dataset.parties = graphBox.dataset.included = graphBox.dataset.excluded = "0";
  $("#counts").textContent = "";
  $("#findings").replaceChildren();
  $("#findings-count").textContent = "";
  showDetails(null);
}

function elementsOf(graph) {
  const anyExcluded = graph.nodes.some((n) => n.excluded);
  const nodes = graph.nodes.map((n) => ({
    group: "nodes",
    data: { ...n, label: n.label, parent: n.excluded ? EXCLUDED_AREA : undefined },
    classes: n.classes.join(" "),
  }));
  if (anyExcluded) {
    nodes.push({
      group: "nodes",
      data: { id: EXCLUDED_AREA, label: "Excluded on this date: no data flows to these parties" },
      classes: "area",
    });
  }
  const edges = graph.edges.map((e) => ({ group: "edges", data: e, classes: e.classes.join(" ") }));
  return [...nodes, ...edges];
}

function draw(graph, findings) {
  if (cy) cy.destroy();
  current = { graph, findings };
  cy = cytoscape({
    container: graphBox,
    elements: elementsOf(graph),
    style: GRAPH_STYLE,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 2.5,
  });
  layout();
  cy.on("tap", "node.party, node.subject", (event) => showDetails(event.target.data()));
  cy.on("tap", "edge", (event) => showEdgeDetails(event.target.data()));
  cy.on("tap", (event) => {
    if (event.target === cy) showDetails(null);
  });

  const parties = graph.nodes.filter((n) => n.classes.includes("party"));
  const excluded = parties.filter((n) => n.excluded);
  graphBox.dataset.parties = String(parties.length);
  graphBox.dataset.included = String(parties.length - excluded.length);
  graphBox.dataset.excluded = String(excluded.length);
  graphBox.dataset.state = "ready";
  $("#counts").textContent =
    `${parties.length} parties: ${parties.length - excluded.length} handling the data, ${excluded.length} excluded`;
  renderFindings(findings);
  showDetails(null);
}

// Included parties by dagre (left to right), then the excluded ones in a grid below them.
function layout() {
  const included = cy.nodes(".party, .subject").filter((n) => !n.data("excluded"));
  const inner = included.union(included.edgesWith(included));
  inner.layout({ name: "dagre", rankDir: "LR", nodeSep: 28, rankSep: 150, edgeSep: 12, fit: false }).run();

  const excluded = cy.nodes(".party").filter((n) => n.data("excluded"));
  if (excluded.length) {
    const box = included.boundingBox();
    const columns = Math.min(excluded.length, Math.max(2, Math.ceil(excluded.length / 2)));
    const cell = { w: 250, h: 110 };
    const left = box.x1 + Math.max(0, (box.w - columns * cell.w) / 2) + cell.w / 2;
    excluded.forEach((node, index) => {
      node.position({
        x: left + (index % columns) * cell.w,
        y: box.y2 + 170 + Math.floor(index / columns) * cell.h,
      });
    });
  }
  cy.fit(undefined, 30);
}

// --- side panel ------------------------------------------------------------------------

function renderLegend() {
  $("#legend").replaceChildren(
    ...LEGEND.map(({ label, swatch }) => {
      const item = document.createElement("li");
      const mark = document.createElement("span");
      mark.className = "swatch";
      Object.assign(mark.style, swatch);
      item.append(mark, label);
      return item;
    }),
  );
}

function renderFindings(findings) {
  const list = $("#findings");
  $("#findings-count").textContent = String(findings.length);
  list.replaceChildren(
    ...findings.map((finding) => {
      const item = document.createElement("li");
      item.className = `finding ${finding.severity.toLowerCase()}`;
      const target = nodeFor(finding.subject);
      const link = document.createElement("button");
      link.type = "button";
      link.className = "finding-link";
      link.dataset.code = finding.code;
      const head = document.createElement("span");
      head.className = "finding-head";
      head.innerHTML = `<span class="sev"></span><code></code>`;
      head.querySelector(".sev").textContent = finding.severity;
      head.querySelector("code").textContent = finding.code;
      const subject = document.createElement("span");
      subject.className = "finding-subject";
      subject.textContent = subjectLabel(finding.subject) + (target ? "" : " (not on this map)");
      const message = document.createElement("span");
      message.className = "finding-message";
      message.textContent = finding.message;
      link.append(head, subject, message);
      link.addEventListener("click", () => focusFinding(finding, target));
      item.append(link);
      return item;
    }),
  );
  if (!findings.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No findings on this date.";
    list.append(none);
  }
}

// The node a finding is about: the party itself, or the party of its contract or provision.
function nodeFor(subject) {
  if (!cy || !subject) return null;
  const ids = [subject.id, subject.subcontractor?.id, subject.recipient?.id, subject.customer?.id].filter(Boolean);
  for (const id of ids) {
    const node = cy.getElementById(id);
    if (node.nonempty()) return node;
  }
  return null;
}

function subjectLabel(subject) {
  if (!subject) return "the business";
  switch (subject.__typename) {
    case "Subcontractor":
    case "ThirdPartyRecipient":
      return subject.name;
    case "Contract":
      return `contract ${subject.reference} · ${subject.subcontractor?.name ?? ""}`;
    case "Provision":
      return `provision to ${subject.recipient?.name ?? "?"}`;
    case "Customer":
      return `customer ${subject.externalRef}`;
    case "DataSubjectRequest":
      return `${humanize(subject.kind)} request of ${subject.customer?.externalRef ?? "?"}`;
    default:
      return subject.__typename;
  }
}

function focusFinding(finding, node) {
  if (node) {
    cy.elements().unselect();
    node.select();
    cy.animate({ center: { eles: node } }, { duration: 250 });
    showDetails(node.data(), finding);
  } else {
    showFinding(finding);
  }
}

function panel(title) {
  const details = $("#details");
  details.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = title;
  details.append(heading);
  return details;
}

function facts(container, rows) {
  const list = document.createElement("dl");
  for (const [term, value] of rows) {
    if (value === undefined || value === null || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  container.append(list);
}

function findingsAbout(data) {
  if (!current) return [];
  return current.findings.filter((f) => nodeFor(f.subject)?.id() === data.id);
}

function showDetails(data, highlighted = null) {
  if (!data) {
    const details = panel("Details");
    const hint = document.createElement("p");
    hint.className = "muted";
    hint.textContent = "Click a party, an edge or a finding.";
    details.append(hint);
    return;
  }
  const details = panel(data.name);
  details.dataset.subject = data.id;
  facts(details, [
    ["Role", humanize(data.role)],
    ["Country", data.country],
    ["Kind", data.kind],
    ["Contract", data.contract ? `${data.contract.reference} · ${humanize(data.contract.status)}` : null],
    ["Contract expires", data.contract?.expiresOn],
    ["Provision", data.provision ? humanize(data.provision.legalBasis) : null],
    ["Re-entrusted by", data.chain?.length ? data.chain.map((p) => p.name).join(" ← ") : null],
    ["Data items", data.items?.join(", ") || (data.role ? "none" : null)],
    ["Purposes", data.purposes?.join(", ") || (data.role ? "none" : null)],
    ["Excluded because", data.excluded ? data.reasons.map(humanize).join("; ") : null],
  ]);
  const related = findingsAbout(data);
  if (related.length) {
    const heading = document.createElement("h3");
    heading.textContent = "Findings";
    const list = document.createElement("ul");
    for (const f of related) {
      const item = document.createElement("li");
      item.className = `finding ${f.severity.toLowerCase()}${f === highlighted ? " highlighted" : ""}`;
      item.textContent = `${f.severity} ${f.code}: ${f.message}`;
      list.append(item);
    }
    details.append(heading, list);
  }
}

function showEdgeDetails(edge) {
  const details = panel(`${edge.sourceName} → ${edge.targetName}`);
  facts(details, [
    ["Data items", edge.items.join(", ") || "none"],
    ["Purposes", edge.purposes.join(", ") || "none"],
    ["Footing", edge.footing],
    ["State", edge.excluded ? "excluded (no data flows on this date)" : "data flows"],
  ]);
}

function showFinding(finding) {
  const details = panel(finding.code);
  facts(details, [
    ["Severity", finding.severity],
    ["About", subjectLabel(finding.subject)],
    ["What to do", finding.message],
  ]);
}

// A read-only view of what is drawn, for the browser tests and for scripting the page.
window.piMap = {
  parties: () =>
    cy
      ? cy.nodes(".party").map((n) => ({
          id: n.id(), name: n.data("name"), role: n.data("role"), excluded: n.data("excluded"),
          reasons: n.data("reasons"), area: n.data("parent") ?? null, contract: n.data("contract")?.reference ?? null,
          ...n.position(),
        }))
      : [],
};

renderLegend();
showTokenState();
if (savedToken()) start();
