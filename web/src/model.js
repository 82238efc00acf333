// From API answers to a plain graph: { nodes, edges }. Nodes with the class "party" are the
// parties of the map (counted on #map-graph); "subject" is the customer whose data it is.

const CHARS_PER_LINE = 30; // at the map's 12px font in a 190px-wide label

// Tall enough for the wrapped label (the exclusion reasons can take several lines).
function nodeHeight(label) {
  const lines = label.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / CHARS_PER_LINE)), 0);
  return Math.max(54, 18 + 15 * lines);
}

function partyNode({ id, name, country, kind = null, role, excluded, reasons = [], items = [], purposes = [],
                     contract = null, provision = null, chain = [] }) {
  const status = contract?.status ?? null;
  const classes = ["party", role.toLowerCase()];
  if (status) classes.push(`status-${status.toLowerCase()}`);
  if (excluded) classes.push("excluded");
  const second = role === "CONTROLLER" ? `controller · ${country}`
    : role === "THIRD_PARTY" ? `third party · ${country}`
    : `${status ? status.replace("_", " ").toLowerCase() : "no contract"} · ${country}`;
  const reasonLine = excluded ? `\n✕ ${reasons.map((r) => r.replaceAll("_", " ").toLowerCase()).join(", ")}` : "";
  const label = `${name}\n${second}${reasonLine}`;
  return {
    id, name, country, kind, role, excluded, reasons, items, purposes, contract, provision, chain, classes,
    label, height: nodeHeight(label),
  };
}

function edge(source, target, { items, purposes, excluded, footing, kind }) {
  const label = [items.join(", "), purposes.join(", ")].filter(Boolean).join("\n");
  const classes = [kind];
  if (excluded) classes.push("excluded");
  return {
    id: `${source.id}->${target.id}`, source: source.id, target: target.id,
    sourceName: source.name, targetName: target.name,
    items, purposes, excluded, footing, classes, label,
  };
}

function shortName(name) {
  return name.replace(/\s*\(fictional\)\s*$/i, "");
}

// The customer's handlings: who handles which items for which purposes, on the asked date.
export function customerGraph(customer) {
  const nodes = [];
  const edges = [];
  const subject = {
    id: customer.id, name: customer.externalRef, classes: ["subject"],
    label: `${customer.externalRef}\ncustomer · ${customer.status.toLowerCase()}`,
  };
  nodes.push(subject);
  const byId = new Map();
  for (const h of customer.handlings) {
    const node = partyNode({
      id: h.party.id, name: shortName(h.party.name), country: h.party.country, kind: h.party.kind ?? null,
      role: h.role, excluded: h.excluded, reasons: h.exclusionReasons,
      items: h.dataItems.map((d) => d.code), purposes: h.purposes.map((p) => p.code),
      contract: h.contract, provision: h.provision, chain: h.chain.map((p) => ({ id: p.id, name: shortName(p.name) })),
    });
    byId.set(node.id, node);
    nodes.push(node);
  }
  const controller = nodes.find((n) => n.role === "CONTROLLER");
  for (const node of nodes) {
    if (!node.role) continue;
    const flow = { items: node.items, purposes: node.purposes, excluded: node.excluded };
    if (node.role === "CONTROLLER") {
      edges.push(edge(subject, node, { ...flow, footing: "controller (seed section 5)", kind: "holding" }));
      continue;
    }
    const parent = node.chain.length ? byId.get(node.chain[0].id) : controller;
    if (!parent) continue;
    const footing = node.role === "THIRD_PARTY"
      ? `provision${node.provision ? ` (${node.provision.legalBasis.toLowerCase()})` : ""}`
      : `entrustment${node.contract ? ` under ${node.contract.reference}` : ""}`;
    edges.push(edge(parent, node, { ...flow, footing, kind: node.role === "THIRD_PARTY" ? "provision" : "entrustment" }));
  }
  return { nodes, edges };
}

function inEffect(contract, asOf) {
  return contract.effectiveFrom <= asOf && asOf <= contract.expiresOn;
}

// The contract that speaks for a subcontractor on `asOf`: the latest in effect, else the latest.
function contractOn(contracts, asOf) {
  const sorted = [...contracts].sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? 1 : -1));
  return sorted.find((c) => inEffect(c, asOf)) ?? sorted[0] ?? null;
}

function union(lists) {
  return [...new Set(lists.flat())].sort();
}

// The whole business: every subcontractor under contract with it (and their parents) with what
// their contract entrusts, and every recipient of its provisions. A party is drawn apart when its
// contract is not ACTIVE or not in effect on `asOf`, its parent is apart, or no provision is active.
export function businessGraph(data, asOf) {
  const business = data.business;
  const controller = partyNode({
    id: business.id, name: business.name, country: business.country, role: "CONTROLLER", excluded: false,
  });
  const nodes = [controller];
  const edges = [];
  const subs = data.subcontractors.edges.map((e) => e.node);
  const byId = new Map(subs.map((s) => [s.id, s]));
  const contracted = subs.filter((s) => s.contracts.some((c) => c.business.code === business.code));
  const drawn = new Map();

  function reasonsOf(sub, contract) {
    if (!contract) return ["NO_CONTRACT"];
    if (!inEffect(contract, asOf)) return ["CONTRACT_NOT_IN_EFFECT"];
    if (contract.status !== "ACTIVE") return ["CONTRACT_NOT_ACTIVE"];
    return [];
  }

  function draw(sub, seen = new Set()) {
    if (drawn.has(sub.id)) return drawn.get(sub.id);
    const contract = contractOn(sub.contracts.filter((c) => c.business.code === business.code), asOf);
    const parentSub = sub.parent && !seen.has(sub.id) ? byId.get(sub.parent.id) : null;
    const parent = parentSub ? draw(parentSub, new Set([...seen, sub.id])) : controller;
    const reasons = reasonsOf(sub, contract);
    if (parent.excluded && parent !== controller) reasons.push("CHAIN_BROKEN");
    const entrustments = contract?.entrustments ?? [];
    const node = partyNode({
      id: sub.id, name: shortName(sub.name), country: sub.country, role: "SUBCONTRACTOR",
      excluded: reasons.length > 0, reasons,
      items: union(entrustments.map((e) => e.dataItems.map((d) => d.code))),
      purposes: union(entrustments.map((e) => e.purposes.map((p) => p.code))),
      contract, chain: parent === controller ? [] : [{ id: parent.id, name: parent.name }, ...parent.chain],
    });
    drawn.set(sub.id, node);
    nodes.push(node);
    edges.push(edge(parent, node, {
      items: node.items, purposes: node.purposes, excluded: node.excluded,
      footing: contract ? `entrustment under ${contract.reference}` : "no contract", kind: "entrustment",
    }));
    return node;
  }
  contracted.forEach((sub) => draw(sub));

  for (const recipient of data.thirdPartyRecipients) {
    const provisions = recipient.provisions.filter((p) => p.business.code === business.code);
    if (!provisions.length) continue;
    const active = provisions.filter((p) => p.active);
    const shown = active.length ? active : provisions;
    const node = partyNode({
      id: recipient.id, name: shortName(recipient.name), country: recipient.country, kind: recipient.kind,
      role: "THIRD_PARTY", excluded: !active.length, reasons: active.length ? [] : ["NO_ACTIVE_PROVISION"],
      items: union(shown.map((p) => p.dataItems.map((d) => d.code))),
      purposes: union(shown.map((p) => p.purposes.map((q) => q.code))),
      provision: shown[0],
    });
    nodes.push(node);
    edges.push(edge(controller, node, {
      items: node.items, purposes: node.purposes, excluded: node.excluded,
      footing: `provision (${shown[0].legalBasis.toLowerCase()})`, kind: "provision",
    }));
  }
  return { nodes, edges };
}
