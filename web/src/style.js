// How the map looks: contract status as the party's colour, excluded parties dashed and grey.

export const STATUS_COLOURS = {
  ACTIVE: "#2e7d32",
  DRAFT: "#607d8b",
  UNDER_REVIEW: "#f9a825",
  SUSPENDED: "#ef6c00",
  TERMINATED: "#c62828",
  EXPIRED: "#8e24aa",
};
const BUSINESS = "#283593";
const THIRD_PARTY = "#00838f";
const SUBJECT = "#546e7a";
const EXCLUDED = "#9e9e9e";

export function humanize(value) {
  if (!value) return "";
  return String(value).replaceAll("_", " ").toLowerCase();
}

const statusRules = Object.entries(STATUS_COLOURS).map(([status, colour]) => ({
  selector: `node.status-${status.toLowerCase()}`,
  style: { "border-color": colour },
}));

export const GRAPH_STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "text-wrap": "wrap",
      "text-max-width": "190px",
      "text-valign": "center",
      "text-halign": "center",
      "font-family": "system-ui, -apple-system, Segoe UI, sans-serif",
      "font-size": 12,
      color: "#1f2933",
      shape: "round-rectangle",
      width: 200,
      height: 54,
      "background-color": "#ffffff",
      "border-width": 3,
      "border-color": "#90a4ae",
    },
  },
  { selector: "node.party", style: { height: "data(height)" } },
  { selector: "node.controller", style: { "border-color": BUSINESS, "background-color": "#e8eaf6", "font-weight": "bold" } },
  { selector: "node.subcontractor", style: { "background-color": "#f7faf7" } },
  { selector: "node.third_party", style: { shape: "cut-rectangle", "border-color": THIRD_PARTY, "background-color": "#e0f7fa" } },
  { selector: "node.subject", style: { shape: "ellipse", width: 130, height: 54, "border-color": SUBJECT, "background-color": "#eceff1" } },
  ...statusRules,
  {
    selector: "node.excluded",
    style: { "border-style": "dashed", "background-color": "#f5f5f5", color: "#616161" },
  },
  {
    selector: "node.area",
    style: {
      shape: "round-rectangle",
      "background-color": "#fafafa",
      "background-opacity": 1,
      "border-color": "#bdbdbd",
      "border-style": "dashed",
      "border-width": 2,
      label: "data(label)",
      "text-valign": "top",
      "text-halign": "center",
      "text-margin-y": 28,
      "text-max-width": "700px",
      "text-background-color": "#fafafa",
      "text-background-opacity": 1,
      "text-background-padding": 4,
      "font-size": 13,
      "font-weight": "bold",
      color: "#757575",
      padding: 22,
    },
  },
  {
    selector: "node:selected",
    style: { "overlay-color": "#1565c0", "overlay-opacity": 0.12, "overlay-padding": 6, "border-width": 5 },
  },
  {
    selector: "edge",
    style: {
      width: 2,
      "curve-style": "bezier",
      "line-color": "#78909c",
      "target-arrow-color": "#78909c",
      "target-arrow-shape": "triangle",
      label: "data(label)",
      "font-size": 10,
      "text-wrap": "wrap",
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.9,
      "text-background-padding": 2,
      "text-rotation": "none",
      "text-max-width": "150px",
      color: "#37474f",
    },
  },
  { selector: "edge.provision", style: { "line-color": THIRD_PARTY, "target-arrow-color": THIRD_PARTY } },
  { selector: "edge.holding", style: { "line-color": SUBJECT, "target-arrow-color": SUBJECT } },
  {
    selector: "edge.excluded",
    style: {
      "line-style": "dashed",
      "line-color": "#d0d0d0",
      "target-arrow-color": "#d0d0d0",
      label: "",
      "curve-style": "bezier",
      "z-index": 0,
    },
  },
  { selector: "edge:selected", style: { width: 4, "line-color": "#1565c0", "target-arrow-color": "#1565c0" } },
];

export const LEGEND = [
  { label: "the business", swatch: { borderColor: BUSINESS, background: "#e8eaf6" } },
  { label: "third-party recipient", swatch: { borderColor: THIRD_PARTY, background: "#e0f7fa" } },
  ...Object.entries(STATUS_COLOURS).map(([status, colour]) => ({
    label: `contract ${humanize(status)}`,
    swatch: { borderColor: colour },
  })),
  { label: "excluded (dashed, apart)", swatch: { borderColor: EXCLUDED, borderStyle: "dashed", background: "#f5f5f5" } },
];
