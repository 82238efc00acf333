// What the vendor console works out for itself: which findings belong to a subcontractor, what
// changed between two versions of a record. The registry decides every write, and which lifecycle
// moves a contract has (Contract.allowedTransitions).

export const CONTRACT_STATUSES = ["DRAFT", "UNDER_REVIEW", "ACTIVE", "SUSPENDED", "TERMINATED", "EXPIRED"];
export const ASSESSMENT_RESULTS = ["ADEQUATE", "CONDITIONAL", "INADEQUATE"]; // NOT_ASSESSED is never recorded
export const CERTIFICATIONS = ["PRIVACY_MARK", "ISO_27001", "ISO_27701", "SOC2"];
export const FOREIGN_BASES = ["CONSENT_WITH_INFORMATION", "EQUIVALENT_MEASURES", "ADEQUATE_COUNTRY"];
// registry/contracts.py REQUIRED_CLAUSES first, then the optional ones
export const REQUIRED_CLAUSES = ["CONFIDENTIALITY", "PURPOSE_LIMITATION", "SECURITY_MEASURES", "BREACH_NOTIFICATION",
  "RETURN_OR_DELETION"];
export const CLAUSES = [...REQUIRED_CLAUSES, "SUB_ENTRUSTMENT_CONSENT", "AUDIT_RIGHTS"];

// The roles whose tokens carry WRITE_VENDORS and READ_HISTORY (registry/access.py MATRIX).
const WRITERS = new Set(["VENDOR_MANAGER", "PRIVACY_OFFICER", "ADMIN"]);
export const canWrite = (role) => WRITERS.has(role);
export const canReadHistory = (role) => WRITERS.has(role);

// The list's filters, all the API's SubcontractorFilter fields: the registry applies them in SQL to
// the whole registry (pages and totalCount included), deciding expiry and assessments exactly as
// its findings CONTRACT_EXPIRING_SOON (30 days), ASSESSMENT_MISSING and ASSESSMENT_OVERDUE do.
export const EXPIRY_WARNING_DAYS = 30;
export const ASSESSMENT_STATES = ["MISSING_OR_OVERDUE", "MISSING", "OVERDUE"];

// The SubcontractorFilter of the form's values: text fields (nameContains, contractStatus, country,
// assessment) kept when not blank, and the boxes `expiring` and `reEntrusted` when checked.
export function apiFilter(values) {
  const filter = {};
  for (const key of ["nameContains", "contractStatus", "country", "assessment"]) {
    const text = String(values[key] ?? "").trim();
    if (text) filter[key] = key === "country" ? text.toUpperCase() : text;
  }
  if (values.expiring) filter.contractExpiringWithinDays = EXPIRY_WARNING_DAYS;
  if (values.reEntrusted) filter.reEntrusted = true;
  return filter;
}

export function storedStatus(contract) {
  const history = contract.statusHistory ?? [];
  return history.length ? history[history.length - 1].status : "DRAFT";
}

// The moves the registry allows from the stored status (Contract.allowedTransitions): the page
// offers those and no other.
export function allowedTransitions(contract) {
  return contract.allowedTransitions ?? [];
}

// The day the next transition may take effect from: not before the previous one's.
export function earliestTransitionDay(contract) {
  const history = contract.statusHistory ?? [];
  return history.length ? history[history.length - 1].effectiveOn : null;
}

// Findings about a subcontractor or one of its contracts, keyed by subcontractor id.
export function findingsBySubcontractor(findings) {
  const bySub = new Map();
  for (const finding of findings) {
    const subject = finding.subject;
    if (!subject) continue;
    const id = subject.__typename === "Subcontractor" ? subject.id
      : subject.__typename === "Contract" ? subject.subcontractor?.id : null;
    if (!id) continue;
    if (!bySub.has(id)) bySub.set(id, []);
    bySub.get(id).push(finding);
  }
  return bySub;
}

// The fields of a subcontractor a vendor manager edits, as plain comparable values.
function editable(sub) {
  return {
    name: sub.name,
    country: sub.country,
    corporateNumber: sub.corporateNumber ?? "",
    certifications: [...(sub.managementSystem?.certifications ?? [])].sort().join(", "),
    foreignTransferBasis: sub.foreignTransferBasis ?? "",
    parent: sub.parent?.name ?? "",
    assessment: sub.managementSystem ? `${sub.managementSystem.assessmentResult} ${sub.managementSystem.lastAssessedOn ?? ""}`.trim() : "",
  };
}

// What another writer changed: [{ field, was, now }] between the version the form was built
// from and the one the registry holds now.
export function changes(before, after) {
  const a = editable(before);
  const b = editable(after);
  return Object.keys(a).filter((k) => a[k] !== b[k]).map((field) => ({ field, was: a[field], now: b[field] }));
}

export function contractChanges(before, after) {
  const out = before.version === after.version ? [] : [{ field: "version", was: `${before.version}`, now: `${after.version}` }];
  if (storedStatus(before) !== storedStatus(after)) out.push({ field: "status", was: storedStatus(before), now: storedStatus(after) });
  if ((before.dataReturnedOn ?? "") !== (after.dataReturnedOn ?? "")) {
    out.push({ field: "dataReturnedOn", was: before.dataReturnedOn ?? "", now: after.dataReturnedOn ?? "" });
  }
  const open = (c) => c.entrustments.filter((e) => !e.effectiveUntil).length;
  const ents = (c) => c.entrustments.map((e) => `${e.id}:${e.effectiveUntil ?? ""}`).sort().join(",");
  if (ents(before) !== ents(after)) {
    out.push({ field: "open entrustments", was: `${open(before)} of ${before.entrustments.length}`, now: `${open(after)} of ${after.entrustments.length}` });
  }
  return out;
}

export function addDays(isoDay, days) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function addYears(isoDay, years) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
}

// A successor's reference: LIJ-HOST-001 -> LIJ-HOST-002 (the trailing number plus one), else -2.
export function successorReference(reference, taken = new Set()) {
  const match = /^(.*?)(\d+)$/.exec(reference);
  let candidate;
  let n = match ? Number(match[2]) : 1;
  do {
    n += 1;
    candidate = match ? `${match[1]}${String(n).padStart(match[2].length, "0")}` : `${reference}-${n}`;
  } while (taken.has(candidate));
  return candidate;
}

export function humanize(value) {
  return value ? String(value).replaceAll("_", " ").toLowerCase() : "";
}
