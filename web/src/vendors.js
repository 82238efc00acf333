// The vendor managers' console: subcontractors, their assessments, contracts and entrustments,
// read and written through the gateway's own /graphql with the session's token.
//
// Routes (client-side, in the hash): #/ the list, #/subcontractor/<id> one subcontractor.
// Every write goes through submitForm(): a refusal shows next to the field UserError.field names,
// a VERSION_CONFLICT says what changed and offers a reload; nothing is retried or overwritten.
// #view carries data-view and data-state (loading, ready, error) for tests and scripts.
import "./vendors.css";
import { ApiError, bindTokenForm, gql, savedToken } from "./session.js";
import {
  BUSINESS_CHOICES_QUERY, LIST_QUERY, MUTATIONS, PAGE_SIZE, START_QUERY, subcontractorQuery,
} from "./vendors-queries.js";
import {
  ASSESSMENT_RESULTS, ASSESSMENT_STATES, CERTIFICATIONS, CLAUSES, CONTRACT_STATUSES, EXPIRY_WARNING_DAYS, FOREIGN_BASES,
  REQUIRED_CLAUSES, addYears, allowedTransitions, apiFilter, canReadHistory, canWrite, changes, contractChanges,
  earliestTransitionDay, findingsBySubcontractor, humanize, storedStatus, successorReference,
} from "./vendors-model.js";

const $ = (selector, root = document) => root.querySelector(selector);
const view = $("#view");

let session = null; // { viewer, businesses } once the token is accepted
const list = { filter: {}, cursors: [null], page: 0 }; // the list's state, kept across routes
const choicesCache = new Map(); // business code -> { purposes, dataItems }

// --- DOM -------------------------------------------------------------------------------

// h("p", { class: "x" }, "text", child): an element; text is always text, never markup.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replace what #view shows (null and false children are left out, as in h()).
function render(...children) {
  view.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function setStatus(text, kind = "info") {
  const status = $("#status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function failed(error) {
  view.dataset.state = "error";
  setStatus(error instanceof ApiError ? error.message : `Failed: ${error.message}`, "error");
}

function dl(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function statusBadge(status) {
  return h("span", { class: `status status-${String(status).toLowerCase()}` }, humanize(status));
}

function findingBadges(findings) {
  if (!findings.length) return h("span", { class: "muted" }, "none");
  return h("ul", { class: "badges" }, findings.map((f) =>
    h("li", { class: `badge sev-${f.severity.toLowerCase()}`, title: f.message, dataset: { code: f.code } },
      h("span", { class: "visually-hidden" }, `${humanize(f.severity)}: `), humanize(f.code))));
}

// --- token and start ----------------------------------------------------------------------

const showTokenState = bindTokenForm({
  start,
  forgotten: () => {
    session = null;
    render();
    view.dataset.state = "empty";
    view.dataset.view = "none";
    $("#who").textContent = "";
  },
  setStatus,
});

async function start() {
  showTokenState();
  try {
    session = await gql(START_QUERY);
  } catch (error) {
    session = null;
    failed(error);
    return;
  }
  const { name, role } = session.viewer;
  $("#who").textContent = `${name} · ${humanize(role)}${canWrite(role) ? "" : " (read only)"}`;
  await route();
}

window.addEventListener("hashchange", () => session && route());

async function route() {
  const match = /^#\/subcontractor\/(.+)$/.exec(location.hash);
  // a new page's heading takes the focus, so keyboard and screen-reader users start there
  if (match) await showSubcontractor(decodeURIComponent(match[1]), { focus: true });
  else await showList({ focus: "#list-h" });
}

const subcontractorHref = (id) => `#/subcontractor/${encodeURIComponent(id)}`;

// --- the list ------------------------------------------------------------------------------

// `focus`: the selector of what takes the focus once drawn (the list is redrawn whole, so the
// control that asked for it would otherwise be gone and the focus lost to the page).
async function showList({ focus = null } = {}) {
  view.dataset.view = "list";
  view.dataset.state = "loading";
  setStatus("Loading subcontractors…");
  let data;
  try {
    data = await gql(LIST_QUERY, { first: PAGE_SIZE, after: list.cursors[list.page], filter: list.filter });
  } catch (error) {
    failed(error);
    return;
  }
  const bySub = findingsBySubcontractor(data.complianceFindings);
  const connection = data.subcontractors;
  const rows = connection.edges.map((e) => e.node);
  const hasNext = connection.pageInfo.hasNextPage;
  const pages = Math.max(1, Math.ceil(connection.totalCount / PAGE_SIZE));

  const table = h("table", { id: "subcontractors", class: "grid" },
    h("caption", {}, `Subcontractors: ${connection.totalCount} match the search; page ${list.page + 1} of ${pages}`),
    h("thead", {}, h("tr", {}, ["Name", "Country", "Contract status", "Contracts", "Assessment", "Re-entrusted by", "Findings"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.length ? rows.map((sub) => listRow(sub, bySub.get(sub.id) ?? []))
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No subcontractor matches."))));

  const pager = h("nav", { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", id: "previous-page", disabled: list.page === 0, onclick: () => turn(-1) }, "← Previous"),
    h("span", {}, `Page ${list.page + 1} of ${pages}`),
    h("button", { type: "button", id: "next-page", disabled: !hasNext, onclick: () => turn(1, connection.pageInfo.endCursor) }, "Next →"));

  render(
    h("h1", { id: "list-h", tabindex: -1 }, "Subcontractors"),
    filterForm(),
    table,
    pager,
    canWrite(session.viewer.role) ? createSubcontractorForm() : null,
  );
  view.dataset.rows = String(rows.length);
  view.dataset.state = "ready";
  setStatus(`${rows.length} subcontractor(s) shown.`);
  if (focus) ($(`${focus}:not(:disabled)`) ?? $("#list-h")).focus();
}

function listRow(sub, findings) {
  const current = sub.contracts.filter((c) => ["ACTIVE", "SUSPENDED", "UNDER_REVIEW", "DRAFT"].includes(c.status));
  const ms = sub.managementSystem;
  return h("tr", { dataset: { id: sub.id } },
    h("th", { scope: "row" }, h("a", { href: subcontractorHref(sub.id) }, sub.name)),
    h("td", {}, sub.country),
    h("td", {}, sub.contractStatus ? statusBadge(sub.contractStatus) : h("span", { class: "muted" }, "no contract")),
    h("td", {}, current.length ? h("ul", { class: "plain" }, current.map((c) =>
      h("li", {}, `${c.reference} (${humanize(c.status)}) until ${c.expiresOn}`))) : h("span", { class: "muted" }, "none current")),
    h("td", {}, `${humanize(ms.assessmentResult)}${ms.nextAssessmentDueOn ? `, next due ${ms.nextAssessmentDueOn}` : ""}`),
    h("td", {}, sub.parent ? h("a", { href: subcontractorHref(sub.parent.id) }, sub.parent.name) : "—"),
    h("td", {}, findingBadges(findings)),
  );
}

function turn(step, cursor) {
  if (step > 0) list.cursors[list.page + 1] = cursor;
  list.page = Math.max(0, list.page + step);
  showList({ focus: step > 0 ? "#next-page" : "#previous-page" });
}

function filterForm() {
  const f = list.filter;
  const form = h("form", { id: "filters", class: "filters", role: "search", "aria-label": "Search subcontractors" },
    h("div", { class: "field" }, h("label", { for: "f-name" }, "Name contains"),
      h("input", { id: "f-name", name: "nameContains", type: "search", value: f.nameContains ?? "", maxlength: 200 })),
    h("div", { class: "field" }, h("label", { for: "f-status" }, "Contract status"),
      h("select", { id: "f-status", name: "contractStatus" }, h("option", { value: "" }, "any"),
        CONTRACT_STATUSES.map((s) => h("option", { value: s, selected: f.contractStatus === s }, humanize(s))))),
    h("div", { class: "field" }, h("label", { for: "f-country" }, "Country (ISO code)"),
      h("input", { id: "f-country", name: "country", value: f.country ?? "", maxlength: 2, size: 3, pattern: "[A-Za-z]{2}" })),
    h("div", { class: "field" }, h("label", { for: "f-assessment" }, "Assessment"),
      h("select", { id: "f-assessment", name: "assessment" }, h("option", { value: "" }, "any"),
        ASSESSMENT_STATES.map((s) => h("option", { value: s, selected: f.assessment === s }, humanize(s))))),
    h("fieldset", { class: "checks" }, h("legend", {}, "Only those"),
      check("f-expiring", "expiring", `with an active contract expiring within ${EXPIRY_WARNING_DAYS} days`,
        f.contractExpiringWithinDays !== undefined),
      check("f-reentrusted", "reEntrusted", "re-entrusted by another subcontractor", f.reEntrusted === true),
      h("p", { class: "hint", id: "f-checks-hint" },
        "Every filter applies to the whole registry, as its findings decide, and the pages follow them.")),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "search" }, "Search"),
      h("button", { type: "reset", class: "quiet", onclick: (e) => { e.preventDefault(); applyFilters({}); } }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    applyFilters(apiFilter({
      nameContains: data.get("nameContains"), contractStatus: data.get("contractStatus"), country: data.get("country"),
      assessment: data.get("assessment"), expiring: data.has("expiring"), reEntrusted: data.has("reEntrusted"),
    }));
  });
  return form;
}

function check(id, name, label, checked) {
  return h("div", { class: "check" }, h("input", { type: "checkbox", id, name, checked: !!checked, "aria-describedby": "f-checks-hint" }),
    h("label", { for: id }, label));
}

function applyFilters(filter) {
  list.filter = filter;
  list.cursors = [null];
  list.page = 0;
  showList({ focus: "#search" });
}

// --- one subcontractor -------------------------------------------------------------------

async function loadSubcontractor(id) {
  const data = await gql(subcontractorQuery({ withHistory: canReadHistory(session.viewer.role) }), { id });
  return { sub: data.subcontractor, findings: data.complianceFindings };
}

async function businessChoices(code) {
  if (!choicesCache.has(code)) {
    const data = await gql(BUSINESS_CHOICES_QUERY, { code });
    choicesCache.set(code, data.business ?? { purposes: [], dataItems: [] });
  }
  return choicesCache.get(code);
}

async function showSubcontractor(id, { focus = false } = {}) {
  view.dataset.view = "subcontractor";
  view.dataset.state = "loading";
  setStatus("Loading the subcontractor…");
  let sub, findings;
  const writer = canWrite(session.viewer.role);
  try {
    ({ sub, findings } = await loadSubcontractor(id));
    if (!sub) throw new ApiError("No such subcontractor (or not visible to this token).");
    if (writer) await Promise.all([...new Set(sub.contracts.map((c) => c.business.code))].map(businessChoices));
  } catch (error) {
    render(h("p", {}, h("a", { href: "#/" }, "← All subcontractors")));
    failed(error);
    return;
  }
  const own = findingsBySubcontractor(findings).get(sub.id) ?? [];
  const ms = sub.managementSystem;
  render(
    h("p", {}, h("a", { href: "#/" }, "← All subcontractors")),
    h("h1", { id: "sub-name", tabindex: -1 }, sub.name),
    h("section", { class: "card", "aria-labelledby": "facts-h" },
      h("h2", { id: "facts-h" }, "Subcontractor"),
      dl([
        ["Country", sub.country],
        ["Corporate number", sub.corporateNumber],
        ["Foreign transfer basis", sub.foreignTransferBasis ? humanize(sub.foreignTransferBasis) : null],
        ["Contract status", sub.contractStatus ? statusBadge(sub.contractStatus) : "no contract"],
        ["Re-entrusted by", sub.parent ? h("a", { href: subcontractorHref(sub.parent.id) }, sub.parent.name) : "the business itself"],
        ["Re-entrusts to", sub.children.length ? h("ul", { class: "plain", id: "children" }, sub.children.map((c) =>
          h("li", {}, h("a", { href: subcontractorHref(c.id) }, c.name)))) : "nobody"],
        ["Version", String(sub.version)],
        ["Findings", findingBadges(own)],
      ]),
      writer ? updateSubcontractorForm(sub) : null),
    h("section", { class: "card", "aria-labelledby": "ms-h" },
      h("h2", { id: "ms-h" }, "Management system"),
      dl([
        ["Certifications", ms.certifications.length ? ms.certifications.map(humanize).join(", ") : "none"],
        ["Latest assessment", humanize(ms.assessmentResult)],
        ["Assessed on", ms.lastAssessedOn],
        ["Next due on", ms.nextAssessmentDueOn],
      ]),
      assessmentsTable(sub.assessments),
      writer ? assessmentForm(sub) : null),
    h("section", { class: "card", "aria-labelledby": "contracts-h" },
      h("h2", { id: "contracts-h" }, `Contracts (${sub.contracts.length})`),
      sub.contracts.length ? sub.contracts.map((c) => contractBlock(sub, c, writer)) : h("p", { class: "muted" }, "No contract."),
      writer ? createContractForm(sub, null) : null),
    sub.history ? historySection(sub.history) : null,
  );
  view.dataset.subcontractor = sub.id;
  view.dataset.version = String(sub.version);
  view.dataset.state = "ready";
  setStatus(`${sub.name}: ${sub.contracts.length} contract(s).`);
  if (focus) $("#sub-name").focus();
}

// Every assessment recorded (the newest ASSESSMENTS_SHOWN), newest first: the first is the one
// the management system reads.
function assessmentsTable(assessments) {
  if (!assessments.length) return h("p", { class: "muted", id: "assessments" }, "Never assessed.");
  return h("table", { class: "grid", id: "assessments" },
    h("caption", {}, `Assessments, newest first (${assessments.length})`),
    h("thead", {}, h("tr", {}, ["Assessed on", "Result", "Next due on", "Note"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, assessments.map((a) => h("tr", {},
      h("th", { scope: "row" }, a.assessedOn),
      h("td", {}, humanize(a.result)),
      h("td", {}, a.nextDueOn ?? "—"),
      h("td", {}, a.note ?? "")))));
}

function contractBlock(sub, contract, writer) {
  const headingId = `c-${contract.id}-h`;
  const entrustments = contract.entrustments;
  return h("article", { class: "contract", "aria-labelledby": headingId, dataset: { reference: contract.reference, status: contract.status } },
    h("h3", { id: headingId }, `${contract.reference} `, statusBadge(contract.status), h("span", { class: "muted" }, ` with ${contract.business.name}`)),
    dl([
      ["In effect", `${contract.effectiveFrom} to ${contract.expiresOn}`],
      ["Signed on", contract.signedOn],
      ["Clauses", contract.clauses.map(humanize).join(", ")],
      ["Data returned on", contract.dataReturnedOn],
      ["Version", String(contract.version)],
    ]),
    h("table", { class: "grid compact" },
      h("caption", {}, `Status history of ${contract.reference}`),
      h("thead", {}, h("tr", {}, ["Status", "Effective on", "Recorded", "By", "Reason"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, contract.statusHistory.length ? contract.statusHistory.map((s) => h("tr", {},
        h("td", {}, humanize(s.status)), h("td", {}, s.effectiveOn), h("td", {}, s.at.slice(0, 16).replace("T", " ")),
        h("td", {}, s.actor), h("td", {}, s.reason ?? ""))) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Drafted; never moved.")))),
    h("table", { class: "grid compact entrustments" },
      h("caption", {}, `Entrustments under ${contract.reference}`),
      h("thead", {}, h("tr", {}, ["Purposes", "Data items", "From", "Until", "Description", ...(writer ? ["End"] : [])]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entrustments.length ? entrustments.map((e) => h("tr", { dataset: { id: e.id } },
        h("td", {}, e.purposes.map((p) => `${p.code} ${p.title}`).join("; ")),
        h("td", {}, e.dataItems.map((d) => d.name).join(", ")),
        h("td", {}, e.effectiveFrom), h("td", {}, e.effectiveUntil ?? "open"),
        h("td", {}, e.description ?? ""),
        writer ? h("td", {}, e.effectiveUntil ? "ended" : endEntrustmentForm(sub, contract, e)) : null,
      )) : h("tr", {}, h("td", { colspan: writer ? 6 : 5, class: "muted" }, "None.")))),
    writer ? h("div", { class: "contract-actions" },
      transitionForm(sub, contract),
      addEntrustmentForm(sub, contract),
      dataReturnForm(sub, contract),
      h("button", { type: "button", class: "secondary successor", onclick: () => openSuccessor(sub, contract) },
        `Create a successor to ${contract.reference}`)) : null,
  );
}

function historySection(history) {
  return h("section", { class: "card", "aria-labelledby": "history-h" },
    h("h2", { id: "history-h" }, "Audit history"),
    h("table", { class: "grid compact", id: "history" },
      h("caption", {}, "Writes to this subcontractor, newest first"),
      h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Change"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, history.edges.map(({ node }) => h("tr", {},
        h("td", {}, node.at.slice(0, 19).replace("T", " ")), h("td", {}, node.actor), h("td", {}, node.action),
        h("td", {}, h("code", { class: "json" }, summariseChange(node.before, node.after))))))));
}

// The keys whose values differ between the audit event's before and after states.
function summariseChange(before, after) {
  let a, b;
  try {
    a = before ? JSON.parse(before) : {};
    b = after ? JSON.parse(after) : {};
  } catch {
    return "";
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !["version", "updated_at", "created_at"].includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return keys.map((k) => `${k}: ${short(a[k])} → ${short(b[k])}`).join("; ");
}

function short(value) {
  if (value === undefined || value === null) return "∅";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

// --- forms ---------------------------------------------------------------------------------

let formSeq = 0;

// A form in a <details> (closed until asked for), with a place for its refusals.
function writeForm({ id, title, open = false, submitLabel, fields, onsubmit, className = "" }) {
  const formId = id ?? `form-${++formSeq}`;
  const form = h("form", { id: formId, class: `write ${className}`, novalidate: true, "aria-label": title },
    fields,
    h("div", { class: "form-alert", role: "alert", id: `${formId}-alert` }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onsubmit(form);
  });
  return h("details", { class: "form-box", open }, h("summary", {}, title), form);
}

// A labelled input (or select) in a wrapper that data-field names, as the API's input does.
function field(formKey, name, label, { type = "text", value = "", required = false, options = null, hint = null,
  attrs = {} } = {}) {
  const id = `${formKey}-${name}`;
  const hintId = hint ? `${id}-hint` : null;
  const control = options
    ? h("select", { id, name, required, "aria-describedby": hintId, ...attrs },
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)))
    : type === "textarea"
      ? h("textarea", { id, name, required, "aria-describedby": hintId, rows: 2, ...attrs }, value ?? "")
      : h("input", { id, name, type, value: value ?? "", required, "aria-describedby": hintId, ...attrs });
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id }, label, required ? h("span", { "aria-hidden": "true" }, " *") : null),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}

// A group of checkboxes for a list input (purposeCodes, dataItemCodes, clauses, certifications).
function checkGroup(formKey, name, legend, choices, checked = []) {
  const on = new Set(checked);
  return h("fieldset", { class: "checks", dataset: { field: name }, id: `${formKey}-${name}` },
    h("legend", {}, legend),
    choices.map(([value, text], i) => {
      const id = `${formKey}-${name}-${i}`;
      return h("div", { class: "check" }, h("input", { type: "checkbox", id, name, value, checked: on.has(value) }),
        h("label", { for: id }, text));
    }));
}

function clearRefusals(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter((x) => x && !x.endsWith("-error"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  $(".form-alert", form).replaceChildren();
  delete form.dataset.refused;
}

// Each refusal next to the field it names (aria-describedby ties it to the control), or at the
// top of the form when it names no field the form shows.
function showRefusals(form, errors) {
  const alert = $(".form-alert", form);
  for (const error of errors) {
    const wrapper = error.field ? form.querySelector(`[data-field="${CSS.escape(error.field)}"]`) : null;
    if (!wrapper) {
      alert.append(h("p", { class: "refusal", dataset: { code: error.code } },
        `${humanize(error.code)}${error.field ? ` (${error.field})` : ""}: ${error.message}`));
      continue;
    }
    const errorId = `${wrapper.id || wrapper.querySelector("input,select,textarea,fieldset")?.id || form.id}-${error.field}-error`;
    const message = h("p", { class: "field-error", id: errorId, dataset: { code: error.code } }, error.message);
    const control = wrapper.matches("fieldset") ? wrapper : wrapper.querySelector("input,select,textarea");
    wrapper.append(message);
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...described, errorId].join(" "));
  }
  form.dataset.refused = errors.map((e) => e.code).join(" ");
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

// Send one mutation; on success reload the subcontractor page; on refusal show it in the form;
// on VERSION_CONFLICT let `conflict()` say what changed. The registry writes all or nothing.
async function submitForm(form, mutation, input, { subId, conflict, done = null }) {
  clearRefusals(form);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  form.dataset.state = "saving";
  try {
    const data = await gql(MUTATIONS[mutation], { input });
    const payload = data[mutation];
    if (payload.errors.length) {
      const clash = payload.errors.find((e) => e.code === "VERSION_CONFLICT");
      if (clash && conflict) await showConflict(form, clash, conflict);
      else showRefusals(form, payload.errors);
      form.dataset.state = "refused";
      setStatus("Nothing was saved: see the form.", "error");
      return;
    }
    form.dataset.state = "saved";
    const message = done ? done(payload) : "Saved.";
    await showSubcontractor(subId ?? payload.subcontractor?.id);
    setStatus(message);
  } catch (error) {
    form.dataset.state = "refused";
    showRefusals(form, [{ code: "ERROR", field: null, message: error.message }]);
  } finally {
    button.disabled = false;
  }
}

// What another writer changed since this page was read, and a reload; nothing is resent.
async function showConflict(form, clash, conflict) {
  let lines = [];
  try {
    lines = await conflict();
  } catch {
    lines = [];
  }
  const notice = h("div", { class: "conflict", id: "conflict", role: "alert" },
    h("p", {}, h("strong", {}, "Someone else saved this record since you opened the page; nothing of yours was saved. "),
      clash.message),
    lines.length ? h("ul", {}, lines.map((c) => h("li", {}, `${c.field}: ${c.was || "∅"} → ${c.now || "∅"}`))) : null,
    h("button", { type: "button", id: "reload", onclick: () => showSubcontractor(view.dataset.subcontractor) },
      "Reload the current version"));
  $(".form-alert", form).replaceChildren(notice);
  $("#reload", form).focus();
}

// What changed in `contract` since the page read it, from the registry's current state.
async function contractConflict(sub, contract) {
  const fresh = (await loadSubcontractor(sub.id)).sub?.contracts.find((c) => c.id === contract.id);
  return fresh ? contractChanges(contract, fresh) : [];
}

const options = (values, blank = null) => [...(blank ? [["", blank]] : []), ...values.map((v) => [v, humanize(v)])];
const value = (data, key) => {
  const v = String(data.get(key) ?? "").trim();
  return v === "" ? null : v;
};

function updateSubcontractorForm(sub) {
  const k = "edit-sub";
  return writeForm({
    id: k, title: "Edit this subcontractor", submitLabel: "Save changes",
    fields: [
      field(k, "name", "Name", { value: sub.name, required: true, attrs: { maxlength: 200 } }),
      field(k, "country", "Country (ISO code)", { value: sub.country, required: true, attrs: { maxlength: 2 } }),
      field(k, "corporateNumber", "Corporate number", { value: sub.corporateNumber ?? "", attrs: { maxlength: 13 },
        hint: "13 digits; its check digit is validated." }),
      checkGroup(k, "certifications", "Certifications", options(CERTIFICATIONS), sub.managementSystem.certifications),
      field(k, "foreignTransferBasis", "Foreign transfer basis (APPI Art. 28)",
        { value: sub.foreignTransferBasis ?? "", options: options(FOREIGN_BASES, "none (Japan)") }),
      field(k, "effectiveOn", "A new country or basis holds from", { type: "date",
        hint: "Empty: today. Only with a change of country or basis." }),
    ],
    onsubmit: (form) => {
      const data = new FormData(form);
      const input = { id: sub.id, expectedVersion: sub.version };
      const text = (key) => value(data, key);
      if (text("name") !== sub.name) input.name = text("name") ?? "";
      if ((text("country") ?? "").toUpperCase() !== sub.country) input.country = (text("country") ?? "").toUpperCase();
      if (text("corporateNumber") !== (sub.corporateNumber ?? null)) input.corporateNumber = text("corporateNumber") ?? "";
      const certs = data.getAll("certifications");
      if ([...certs].sort().join() !== [...sub.managementSystem.certifications].sort().join()) input.certifications = certs;
      if (text("foreignTransferBasis") !== (sub.foreignTransferBasis ?? null)) input.foreignTransferBasis = text("foreignTransferBasis");
      if (text("effectiveOn")) input.effectiveOn = text("effectiveOn");
      submitForm(form, "updateSubcontractor", input, {
        subId: sub.id,
        conflict: async () => changes(sub, (await loadSubcontractor(sub.id)).sub),
        done: () => `${sub.name} saved.`,
      });
    },
  });
}

function assessmentForm(sub) {
  const k = "assess";
  return writeForm({
    id: k, title: "Record an assessment", submitLabel: "Record the assessment",
    fields: [
      field(k, "result", "Result", { options: options(ASSESSMENT_RESULTS), required: true, value: "ADEQUATE" }),
      field(k, "assessedOn", "Assessed on", { type: "date", required: true }),
      field(k, "nextDueOn", "Next due on", { type: "date" }),
      field(k, "note", "Note", { type: "textarea", attrs: { maxlength: 2000 } }),
    ],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "recordAssessment", {
        subcontractorId: sub.id, expectedVersion: sub.version, result: value(data, "result"),
        assessedOn: value(data, "assessedOn"), nextDueOn: value(data, "nextDueOn"), note: value(data, "note"),
      }, {
        subId: sub.id,
        conflict: async () => changes(sub, (await loadSubcontractor(sub.id)).sub),
        done: () => "Assessment recorded.",
      });
    },
  });
}

function transitionForm(sub, contract) {
  const k = `move-${contract.reference}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const targets = allowedTransitions(contract);
  if (!targets.length) {
    return h("p", { class: "muted" }, `A ${humanize(storedStatus(contract))} contract moves no further.`);
  }
  const earliest = earliestTransitionDay(contract);
  return writeForm({
    id: k, title: `Move ${contract.reference} (now ${humanize(storedStatus(contract))})`, submitLabel: "Move",
    className: "transition",
    fields: [
      field(k, "to", "To", { options: options(targets), required: true, value: targets[0] }),
      field(k, "effectiveOn", "Takes effect on", { type: "date",
        hint: `Empty: today. Never in the future${earliest ? `, nor before ${earliest}` : ""}.`,
        attrs: earliest ? { min: earliest } : {} }),
      field(k, "reason", "Reason", { type: "textarea", attrs: { maxlength: 2000 } }),
    ],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "transitionContract", {
        id: contract.id, expectedVersion: contract.version, to: value(data, "to"),
        effectiveOn: value(data, "effectiveOn"), reason: value(data, "reason"),
      }, {
        subId: sub.id,
        conflict: () => contractConflict(sub, contract),
        done: (p) => `${contract.reference} is now ${humanize(p.contract.status)}.`,
      });
    },
  });
}

function addEntrustmentForm(sub, contract) {
  const k = `entrust-${contract.reference}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const choices = choicesCache.get(contract.business.code) ?? { purposes: [], dataItems: [] };
  return writeForm({
    id: k, title: `Add an entrustment under ${contract.reference}`, submitLabel: "Add the entrustment",
    className: "entrust",
    fields: [
      checkGroup(k, "purposeCodes", `Purposes of ${contract.business.name}`, choices.purposes.map((p) => [p.code, `${p.code} ${p.title}`])),
      checkGroup(k, "dataItemCodes", "Data items", choices.dataItems.map((d) => [d.code, d.name])),
      field(k, "description", "Description", { attrs: { maxlength: 2000 } }),
      field(k, "effectiveFrom", "First day in effect", { type: "date", hint: "Empty: today, or the contract's start when later." }),
    ],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "addEntrustment", {
        contractId: contract.id, expectedVersion: contract.version, purposeCodes: data.getAll("purposeCodes"),
        dataItemCodes: data.getAll("dataItemCodes"), description: value(data, "description"),
        effectiveFrom: value(data, "effectiveFrom"),
      }, {
        subId: sub.id,
        conflict: () => contractConflict(sub, contract),
        done: () => `Entrustment added under ${contract.reference}.`,
      });
    },
  });
}

function endEntrustmentForm(sub, contract, entrustment) {
  const k = `end-${entrustment.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return writeForm({
    id: k, title: "End…", submitLabel: "End the entrustment", className: "end-entrustment",
    fields: [field(k, "effectiveOn", "First day no longer in effect", { type: "date",
      hint: "Empty: today; a later day schedules the end." })],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "removeEntrustment", {
        id: entrustment.id, expectedVersion: contract.version, effectiveOn: value(data, "effectiveOn"),
      }, {
        subId: sub.id,
        conflict: () => contractConflict(sub, contract),
        done: () => `Entrustment under ${contract.reference} ended.`,
      });
    },
  });
}

function dataReturnForm(sub, contract) {
  const k = `return-${contract.reference}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return writeForm({
    id: k, title: `Record the data return of ${contract.reference}`, submitLabel: "Record the return",
    fields: [field(k, "returnedOn", "Returned or deleted on", { type: "date", required: true, value: contract.dataReturnedOn ?? "" })],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "recordDataReturn", {
        contractId: contract.id, expectedVersion: contract.version, returnedOn: value(data, "returnedOn"),
      }, {
        subId: sub.id,
        conflict: () => contractConflict(sub, contract),
        done: () => `Data return of ${contract.reference} recorded.`,
      });
    },
  });
}

// The create-contract form, prefilled as `predecessor`'s successor when given: same business and
// clauses, the next reference, from today for a year.
function createContractForm(sub, predecessor) {
  const k = "new-contract";
  const today = localToday();
  const taken = new Set(sub.contracts.map((c) => c.reference));
  const businesses = session.businesses.map((b) => [b.code, `${b.name} (${b.code})`]);
  const box = writeForm({
    id: k, open: !!predecessor, submitLabel: "Draft the contract", className: "create-contract",
    title: predecessor ? `Create a successor to ${predecessor.reference}` : "Create a contract",
    fields: [
      field(k, "businessCode", "Business", { options: businesses, required: true,
        value: predecessor?.business.code ?? session.businesses[0]?.code }),
      field(k, "reference", "Reference", { required: true, value: predecessor ? successorReference(predecessor.reference, taken) : "",
        attrs: { maxlength: 100 } }),
      field(k, "effectiveFrom", "Effective from", { type: "date", required: true, value: predecessor ? today : "" }),
      field(k, "expiresOn", "Expires on", { type: "date", required: true, value: predecessor ? addYears(today, 1) : "" }),
      field(k, "signedOn", "Signed on", { type: "date" }),
      checkGroup(k, "clauses", "Clauses (the first five are required to activate)", options(CLAUSES),
        predecessor ? predecessor.clauses : REQUIRED_CLAUSES),
    ],
    onsubmit: (form) => {
      const data = new FormData(form);
      submitForm(form, "createContract", {
        subcontractorId: sub.id, businessCode: value(data, "businessCode"), reference: value(data, "reference") ?? "",
        effectiveFrom: value(data, "effectiveFrom"), expiresOn: value(data, "expiresOn"), signedOn: value(data, "signedOn"),
        clauses: data.getAll("clauses"),
      }, { subId: sub.id, done: (p) => `Contract ${p.contract.reference} drafted.` });
    },
  });
  box.id = "create-contract";
  return box;
}

function openSuccessor(sub, contract) {
  const box = createContractForm(sub, contract);
  $("#create-contract").replaceWith(box);
  box.querySelector("input[name=reference]").focus();
}

function createSubcontractorForm() {
  const k = "new-sub";
  return h("section", { class: "card", "aria-labelledby": "new-sub-h" },
    h("h2", { id: "new-sub-h" }, "New subcontractor"),
    writeForm({
      id: k, title: "Register a subcontractor", submitLabel: "Register",
      fields: [
        field(k, "name", "Name", { required: true, attrs: { maxlength: 200 } }),
        field(k, "country", "Country (ISO code)", { required: true, value: "JP", attrs: { maxlength: 2 } }),
        field(k, "corporateNumber", "Corporate number", { attrs: { maxlength: 13 }, hint: "13 digits; its check digit is validated." }),
        checkGroup(k, "certifications", "Certifications", options(CERTIFICATIONS)),
        field(k, "foreignTransferBasis", "Foreign transfer basis (APPI Art. 28)", { options: options(FOREIGN_BASES, "none (Japan)") }),
      ],
      onsubmit: async (form) => {
        const data = new FormData(form);
        const input = {
          name: value(data, "name") ?? "", country: (value(data, "country") ?? "").toUpperCase(),
          corporateNumber: value(data, "corporateNumber"), certifications: data.getAll("certifications"),
          foreignTransferBasis: value(data, "foreignTransferBasis"),
        };
        await submitForm(form, "createSubcontractor", input, {
          done: (p) => {
            history.pushState(null, "", subcontractorHref(p.subcontractor.id)); // no hashchange: submitForm shows it
            return `${p.subcontractor.name} registered.`;
          },
        });
      },
    }));
}

function localToday() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

showTokenState();
if (savedToken()) start();
