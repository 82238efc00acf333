"""From a registry file to a plan, and from a plan to the registry: the diff and its writes.

`plan_changes` compares the file with the registry as `export_registry` reads it and lists the
changes, one write (or two) each, in the order they must be made; what no write can do is
refused here, before anything is written, with the line of the file at fault and what to do
instead. `apply_plan` makes each change through the registry's own write functions, so every
rule and the audit trail hold; the first refusal stops it (the caller rolls the whole
transaction back: registry/db.py `Database.one_transaction`) and names the line of the change.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import businesses, contracts, joint_uses, provisions, subcontractors
from registry.errors import NotFound, RegistryError
from registry.jurisdictions import BEGINNING
from registry.manifest.export import (
    BUSINESS_TEXTS,
    DATA_ITEM_FIELDS,
    PURPOSE_TEXTS,
    export_registry,
)
from registry.manifest.files import Document, FileRefused, Path_, Problem, day, dotted
from registry.models import Business, Contract, DataItem, Provision, Purpose, Subcontractor, ThirdPartyRecipient

ONE_DAY = timedelta(days=1)
UNDATED = date.min  # changes with no day of their own come first, in the order of RANK
RANK = {kind: n for n, kind in enumerate([
    "business", "subcontractor", "recipient", "jurisdiction", "subcontractor.update", "recipient.update",
    "data item", "purpose", "purpose.update", "data item.update", "contract", "entrustment", "provision",
    "joint use", "assessment", "transition", "data return", "end",
])}
SIGNS = {"+": "create", "~": "change", "-": "end"}
Run = Callable[["Context"], Awaitable[Any]]


@dataclass
class Context:
    """What a change's writes need: the session, who writes, and the registry's today."""

    session: AsyncSession
    actor: str
    today: date


@dataclass
class Change:
    """One line of the plan and the writes that make it; `path` is the file node it comes from."""

    sign: str
    text: str
    path: Path_
    run: Run = field(repr=False)
    when: date = UNDATED
    rank: int = 0
    tie: tuple = ()

    def line(self) -> str:
        return f"{self.sign} {self.text}"


@dataclass
class Plan:
    changes: list[Change]

    def summary(self) -> str:
        if not self.changes:
            return "No changes."
        counts = {word: sum(1 for c in self.changes if SIGNS[c.sign] == word) for word in SIGNS.values()}
        return f"Plan: {counts['create']} to create, {counts['change']} to change, {counts['end']} to end."

    def render(self) -> str:
        return "\n".join([c.line() for c in self.changes] + [self.summary()])


class ApplyRefused(RegistryError):
    """A write of the plan refused by a registry rule: the rule's error and the file line at fault."""

    def __init__(self, error: RegistryError, line: int, change: Change):
        super().__init__(error.message, field=error.field)
        self.code = error.code
        self.error, self.line, self.change = error, line, change

    def render(self, source: str) -> str:
        messages = "; ".join(f"{p.message} ({p.code})" for p in self.error.problems)
        return f"{source}:{self.line}: {messages}\n  while applying: {self.change.line()}"


# --- reading the file into the export's shape ---------------------------------------------------


def normalized(document: Document) -> dict[str, Any]:
    """The file (schema-valid) in the shape `export_registry` gives: every key, dates as dates."""
    doc = document.value

    def dates(entry: dict, path: Path_, *keys: str) -> dict:
        return entry | {k: day(entry.get(k), document, path + (k,)) for k in keys}

    out: dict[str, Any] = {"version": doc["version"], "businesses": {}, "subcontractors": {}, "recipients": {}}
    for code, b in doc.get("businesses", {}).items():
        at = ("businesses", code)
        entry = {key: b.get(key, [] if key in ("activities", "activitiesJa", "securityMeasures",
                                               "securityMeasuresJa") else None) for key in BUSINESS_TEXTS}
        entry["country"] = b["country"]
        entry["purposes"] = {
            pc: dates({"ordinal": p.get("ordinal"), **{k: p.get(k, False if k == "usableAfterCancellation" else None)
                                                       for k in PURPOSE_TEXTS}, "effectiveFrom": p["effectiveFrom"],
                       "retiredOn": p.get("retiredOn")}, at + ("purposes", pc), "effectiveFrom", "retiredOn")
            for pc, p in b.get("purposes", {}).items()}
        entry["dataItems"] = {ic: {"name": i["name"], "nameJa": i.get("nameJa"), "category": i.get("category"),
                                   "sensitivity": i.get("sensitivity", "ORDINARY"),
                                   "voluntary": i.get("voluntary", False),
                                   "propertyDamageRisk": i.get("propertyDamageRisk", False)}
                              for ic, i in b.get("dataItems", {}).items()}
        entry["contracts"] = {ref: _contract(c, at + ("contracts", ref), dates)
                              for ref, c in b.get("contracts", {}).items()}
        entry["provisions"] = [dates({
            "recipient": p["recipient"], "legalBasis": p["legalBasis"], **_codes(p),
            **{k: p.get(k) for k in ("statedPurpose", "statedPurposeJa", "method", "methodJa")},
            "ppcNotifiedOn": p.get("ppcNotifiedOn"), "effectiveFrom": p["effectiveFrom"],
            "effectiveUntil": p.get("effectiveUntil")}, at + ("provisions", n), "ppcNotifiedOn", "effectiveFrom",
            "effectiveUntil") for n, p in enumerate(b.get("provisions", []))]
        entry["jointUses"] = [dates({
            **{k: j.get(k) for k in ("users", "usersJa", "responsible", "responsibleJa")}, **_codes(j),
            "effectiveFrom": j["effectiveFrom"], "effectiveUntil": j.get("effectiveUntil")},
            at + ("jointUses", n), "effectiveFrom", "effectiveUntil") for n, j in enumerate(b.get("jointUses", []))]
        out["businesses"][code] = entry
    for name, s in doc.get("subcontractors", {}).items():
        at = ("subcontractors", name)
        out["subcontractors"][name] = {
            "corporateNumber": s.get("corporateNumber"), "parent": s.get("parent"),
            "certifications": sorted(s.get("certifications", [])),
            "assessments": [dates({"result": a["result"], "assessedOn": a["assessedOn"],
                                   "nextDueOn": a.get("nextDueOn"), "note": a.get("note")},
                                  at + ("assessments", n), "assessedOn", "nextDueOn")
                            for n, a in enumerate(s.get("assessments", []))],
            "jurisdictions": _periods(s["jurisdictions"], at, dates),
        }
    for name, r in doc.get("recipients", {}).items():
        out["recipients"][name] = {"nameJa": r.get("nameJa"), "kind": r["kind"],
                                   "jurisdictions": _periods(r["jurisdictions"], ("recipients", name), dates)}
    return out


def _contract(c: dict, at: Path_, dates) -> dict[str, Any]:
    return dates({
        "subcontractor": c["subcontractor"], "signedOn": c.get("signedOn"), "effectiveFrom": c["effectiveFrom"],
        "expiresOn": c["expiresOn"], "clauses": sorted(c.get("clauses", [])), "dataReturnedOn": c.get("dataReturnedOn"),
        "statusHistory": [dates({"status": h["status"], "effectiveOn": h["effectiveOn"], "reason": h.get("reason")},
                                at + ("statusHistory", n), "effectiveOn")
                          for n, h in enumerate(c.get("statusHistory", []))],
        "entrustments": [dates({"description": e.get("description"), **_codes(e), "effectiveFrom": e["effectiveFrom"],
                                "effectiveUntil": e.get("effectiveUntil")}, at + ("entrustments", n),
                               "effectiveFrom", "effectiveUntil")
                         for n, e in enumerate(c.get("entrustments", []))],
    }, at, "signedOn", "effectiveFrom", "expiresOn", "dataReturnedOn")


def _codes(entry: dict) -> dict[str, list[str]]:
    return {"purposes": sorted(entry["purposes"]), "dataItems": sorted(entry["dataItems"])}


def _periods(periods: list[dict], at: Path_, dates) -> list[dict[str, Any]]:
    return [dates({"country": p["country"], "foreignTransferBasis": p.get("foreignTransferBasis"),
                   "effectiveFrom": p["effectiveFrom"], "effectiveUntil": p.get("effectiveUntil")},
                  at + ("jurisdictions", n), "effectiveFrom", "effectiveUntil") for n, p in enumerate(periods)]


# --- the diff ----------------------------------------------------------------------------------


class Planner:
    """Collects the changes and the problems of one file against one registry."""

    def __init__(self, document: Document, wanted: dict[str, Any], current: dict[str, Any], today: date):
        self.document, self.wanted, self.current, self.today = document, wanted, current, today
        self.changes: list[Change] = []
        self.problems: list[Problem] = []

    def add(self, sign: str, text: str, path: Path_, run: Run, *, kind: str, when: date = UNDATED,
            tie: tuple = ()) -> None:
        self.changes.append(Change(sign, text, path, run, when, RANK[kind], tie))

    def refuse(self, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.document.line_of(path), dotted(path), message))

    def plan(self) -> Plan:
        self._parties("subcontractors")
        self._parties("recipients")
        for code, entry in self.wanted["businesses"].items():
            self._business(code, entry, self.current["businesses"].get(code))
        if self.problems:
            raise FileRefused(sorted(self.problems, key=lambda p: (p.line, p.path)))
        ordered = sorted(enumerate(self.changes), key=lambda nc: (nc[1].when, nc[1].rank, nc[1].tie, nc[0]))
        return Plan([c for _, c in ordered])

    # --- subcontractors and recipients ---

    def _parties(self, kind: str) -> None:
        for name, entry in self.wanted[kind].items():
            at = (kind, name)
            if not self._check_periods(entry["jurisdictions"], at):
                continue
            have = self.current[kind].get(name)
            if kind == "subcontractors":
                depth = self._depth(name, at)
                if depth is None:
                    continue
                self._subcontractor(name, entry, have, at, depth)
            else:
                self._recipient(name, entry, have, at)

    def _depth(self, name: str, at: Path_) -> int | None:
        """How many parents above `name` (in the file or the registry); None, refused, on a cycle or
        an unknown parent."""
        chain, current = [name], name
        while True:
            entry = self.wanted["subcontractors"].get(current) or self.current["subcontractors"].get(current)
            parent = entry["parent"] if entry else None
            if parent is None:
                return len(chain) - 1
            if parent in chain:
                self.refuse(at + ("parent",), f"re-entrustment cycle: {' -> '.join(chain + [parent])}")
                return None
            if parent not in self.wanted["subcontractors"] and parent not in self.current["subcontractors"]:
                self.refuse(at + ("parent",), f"no subcontractor named {_q(parent)} in the file or the registry")
                return None
            chain.append(parent)
            current = parent

    def _check_periods(self, periods: list[dict], at: Path_) -> bool:
        """The periods follow one another day after day, from BEGINNING to an open last one."""
        path = at + ("jurisdictions",)
        problems = len(self.problems)
        if not periods:
            self.refuse(path, "at least one period: the country since 1900-01-01")
            return False
        if periods[0]["effectiveFrom"] != BEGINNING:
            self.refuse(path + (0, "effectiveFrom"), "the first period begins on 1900-01-01 (the registry's "
                        "beginning: a party's first country holds for every day before its first change)")
        for n, (before, after) in enumerate(zip(periods, periods[1:]), start=1):
            if before["effectiveUntil"] is None or after["effectiveFrom"] != before["effectiveUntil"] + ONE_DAY:
                self.refuse(path + (n, "effectiveFrom"), "a period begins the day after the one before it ends")
            if (before["country"], before["foreignTransferBasis"]) == (after["country"], after["foreignTransferBasis"]):
                self.refuse(path + (n,), "this period holds the same country and basis as the one before: merge them")
        if periods[-1]["effectiveUntil"] is not None:
            self.refuse(path + (len(periods) - 1, "effectiveUntil"), "the last period is open (effectiveUntil: "
                        "null): it holds today and on")
        return len(self.problems) == problems

    def _new_periods(self, name: str, wanted: list[dict], have: list[dict] | None, at: Path_) -> list:
        """The periods to open after those the registry has; a rewrite of a past one is refused."""
        if have is None:
            return list(enumerate(wanted))[1:]
        last = len(have) - 1
        same = ("country", "foreignTransferBasis", "effectiveFrom")  # the open period may only be ended
        if (len(wanted) < len(have) or wanted[:last] != have[:last]
                or any(wanted[last][k] != have[last][k] for k in same)):
            self.refuse(at + ("jurisdictions",), f"the registry's periods of {_q(name)} cannot be rewritten: keep "
                        "them as exported; to change the country or basis, end the last one and append a period")
            return []
        return list(enumerate(wanted))[len(have):]

    def _subcontractor(self, name: str, entry: dict, have: dict | None, at: Path_, depth: int) -> None:
        first = entry["jurisdictions"][0]
        if have is None:
            async def create(ctx: Context, entry=entry, first=first, name=name):
                await subcontractors.create_subcontractor(
                    ctx.session, actor=ctx.actor, name=name, country=first["country"],
                    corporate_number=entry["corporateNumber"],
                    parent_id=None if entry["parent"] is None else await _sub_id(ctx.session, entry["parent"]),
                    certifications=entry["certifications"], foreign_transfer_basis=first["foreignTransferBasis"])
            self.add("+", f"subcontractor {_q(name)} in {first['country']}", at, create, kind="subcontractor",
                     tie=(depth, name))
        else:
            changes = {}
            for key, attr in (("corporateNumber", "corporate_number"), ("certifications", "certifications")):
                if entry[key] != have[key]:
                    changes[attr] = entry[key]
            if entry["parent"] != have["parent"]:
                changes["parent_id"] = entry["parent"]
            if changes:
                async def update(ctx: Context, name=name, changes=changes):
                    values = dict(changes)
                    if "parent_id" in values and values["parent_id"] is not None:
                        values["parent_id"] = await _sub_id(ctx.session, values["parent_id"])
                    sub = await subcontractors.get_subcontractor(ctx.session, await _sub_id(ctx.session, name))
                    await subcontractors.update_subcontractor(ctx.session, actor=ctx.actor, id=sub.id,
                                                              expected_version=sub.version, changes=values,
                                                              today=ctx.today)
                fields = ", ".join(k for k in ("corporateNumber", "certifications", "parent")
                                   if entry[k] != have[k])
                self.add("~", f"subcontractor {_q(name)} {fields}", at, update, kind="subcontractor.update",
                         tie=(depth, name))
        for n, period in self._new_periods(name, entry["jurisdictions"],
                                           have and have["jurisdictions"], at):
            before = entry["jurisdictions"][n - 1]

            async def move(ctx: Context, name=name, period=period):
                sub = await subcontractors.get_subcontractor(ctx.session, await _sub_id(ctx.session, name))
                await subcontractors.update_subcontractor(
                    ctx.session, actor=ctx.actor, id=sub.id, expected_version=sub.version, today=ctx.today,
                    changes={"country": period["country"], "foreign_transfer_basis": period["foreignTransferBasis"]},
                    effective_on=period["effectiveFrom"])
            self.add("~", f"subcontractor {_q(name)} {_where(before)} -> {_where(period)} from "
                     f"{period['effectiveFrom']}", at + ("jurisdictions", n), move, kind="jurisdiction",
                     tie=(name, n))
        self._assessments(name, entry, have, at)

    def _assessments(self, name: str, entry: dict, have: dict | None, at: Path_) -> None:
        added, missing = _multiset_diff(entry["assessments"], have["assessments"] if have else [])
        for n in missing:
            self.refuse(at + ("assessments",), f"the assessment of {have['assessments'][n]['assessedOn']} is "
                        "missing: an assessment, once recorded, stays; record a new one instead")
        for n in added:
            a = entry["assessments"][n]

            async def assess(ctx: Context, name=name, a=a):
                await subcontractors.record_assessment(
                    ctx.session, actor=ctx.actor, subcontractor_id=await _sub_id(ctx.session, name),
                    result=a["result"], assessed_on=a["assessedOn"], next_due_on=a["nextDueOn"], note=a["note"])
            # A subcontractor's first assessment is recorded before any dated change: the activation of its
            # contracts read one, whatever day it was dated (the demo dates them after the activations).
            first = not (have and have["assessments"]) and n == min(added, key=lambda k: _assessed(entry, k))
            self.add("+", f"assessment of {_q(name)} {a['result']} on {a['assessedOn']}", at + ("assessments", n),
                     assess, kind="assessment", when=UNDATED if first else a["assessedOn"],
                     tie=(a["assessedOn"], name, n))

    def _recipient(self, name: str, entry: dict, have: dict | None, at: Path_) -> None:
        first = entry["jurisdictions"][0]
        if have is None:
            async def create(ctx: Context, name=name, entry=entry, first=first):
                await provisions.create_recipient(ctx.session, actor=ctx.actor, name=name, country=first["country"],
                                                  kind=entry["kind"], name_ja=entry["nameJa"],
                                                  foreign_transfer_basis=first["foreignTransferBasis"])
            self.add("+", f"recipient {_q(name)} in {first['country']}", at, create, kind="recipient", tie=(name,))
        else:
            changes = {attr: entry[key] for key, attr in (("nameJa", "name_ja"), ("kind", "kind"))
                       if entry[key] != have[key]}
            if changes:
                async def update(ctx: Context, name=name, changes=changes):
                    await provisions.update_recipient(ctx.session, actor=ctx.actor, id=await _recipient_id(
                        ctx.session, name), changes=changes, today=ctx.today)
                fields = ", ".join(k for k in ("kind", "nameJa") if entry[k] != have[k])
                self.add("~", f"recipient {_q(name)} {fields}", at, update,
                         kind="recipient.update", tie=(name,))
        for n, period in self._new_periods(name, entry["jurisdictions"],
                                           have and have["jurisdictions"], at):
            before = entry["jurisdictions"][n - 1]

            async def move(ctx: Context, name=name, period=period):
                await provisions.update_recipient(
                    ctx.session, actor=ctx.actor, id=await _recipient_id(ctx.session, name), today=ctx.today,
                    changes={"country": period["country"], "foreign_transfer_basis": period["foreignTransferBasis"]},
                    effective_on=period["effectiveFrom"])
            self.add("~", f"recipient {_q(name)} {_where(before)} -> {_where(period)} from {period['effectiveFrom']}",
                     at + ("jurisdictions", n), move, kind="jurisdiction", tie=(name, n))

    # --- a business and what it owns ---

    def _business(self, code: str, entry: dict, have: dict | None) -> None:
        at = ("businesses", code)
        replay = have is None  # a new business is recreated with its history: see the package docstring
        if have is None:
            facts = {attr: entry[key] for key, attr in BUSINESS_TEXTS.items()}

            async def create(ctx: Context, code=code, facts=facts, country=entry["country"]):
                await businesses.create_business(ctx.session, actor=ctx.actor, code=code, country=country, **facts)
            self.add("+", f"business {code} {_q(entry['name'])}", at, create, kind="business", tie=(code,))
            have = {"purposes": {}, "dataItems": {}, "contracts": {}, "provisions": [], "jointUses": []}
        else:
            if entry["country"] != have["country"]:
                self.refuse(at + ("country",), "a business's country is set when it is created and never changes")
            changes = {attr: entry[key] for key, attr in BUSINESS_TEXTS.items() if entry[key] != have[key]}
            if changes:
                async def update(ctx: Context, code=code, changes=changes):
                    await businesses.update_business(ctx.session, actor=ctx.actor, code=code, changes=changes)
                fields = ", ".join(k for k in BUSINESS_TEXTS if entry[k] != have[k])
                self.add("~", f"business {code} {fields}", at, update, kind="business", tie=(code,))
        self._purposes(code, entry, have, at, replay)
        self._data_items(code, entry, have, at)
        for ref, contract in entry["contracts"].items():
            self._contract(code, ref, contract, have["contracts"].get(ref), at + ("contracts", ref), replay)
        for ref in have["contracts"]:
            if ref not in entry["contracts"]:
                self.refuse(at + ("contracts",), f"contract {ref} is missing: a contract cannot be deleted; "
                            "terminate it (append a TERMINATED status) and keep it in the file")
        self._periodic(code, "provisions", entry, have, at, replay)
        self._periodic(code, "jointUses", entry, have, at, replay)

    def _purposes(self, code: str, entry: dict, have: dict, at: Path_, replay: bool) -> None:
        for pc in have["purposes"]:
            if pc not in entry["purposes"]:
                self.refuse(at + ("purposes",), f"purpose {pc} is missing: a purpose cannot be deleted, nor its code "
                            "changed; retire it (retiredOn) and keep it in the file")
        next_ordinal = max((p["ordinal"] for p in have["purposes"].values()), default=0) + 1
        new = sorted((p["ordinal"] or 10**6, pc) for pc, p in entry["purposes"].items() if pc not in have["purposes"])
        for _, pc in new:
            p, path = entry["purposes"][pc], at + ("purposes", pc)
            if p["ordinal"] is not None and p["ordinal"] != next_ordinal:
                self.refuse(path + ("ordinal",), f"a new purpose is numbered after the last one: {next_ordinal} "
                            "(or leave ordinal out)")
            fields = {attr: p[key] for key, attr in PURPOSE_TEXTS.items() if attr != "title"}

            async def create(ctx: Context, pc=pc, p=p, fields=fields):
                today = min(p["effectiveFrom"], ctx.today) if replay else ctx.today
                await businesses.create_purpose(ctx.session, actor=ctx.actor, business_code=code, code=pc,
                                                title=p["title"], today=today, effective_from=p["effectiveFrom"],
                                                **fields)
            self.add("+", f"purpose {code}/{pc} {_q(p['title'])}", path, create, kind="purpose", tie=(next_ordinal,))
            next_ordinal += 1
            self._retire(code, pc, p, None, path, replay)
        for pc, p in entry["purposes"].items():
            if pc in have["purposes"]:
                self._purpose_changes(code, pc, p, have["purposes"][pc], at + ("purposes", pc), replay)

    def _purpose_changes(self, code: str, pc: str, p: dict, had: dict, path: Path_, replay: bool) -> None:
        for key, why in (("effectiveFrom", "the day a purpose began cannot change: retire it and create a new one"),
                         ("ordinal", "a purpose's number cannot change")):
            if p[key] is not None and p[key] != had[key]:
                self.refuse(path + (key,), why)
        changes = {attr: p[key] for key, attr in PURPOSE_TEXTS.items() if p[key] != had[key]}
        if changes:
            async def update(ctx: Context, changes=changes):
                await businesses.update_purpose(ctx.session, actor=ctx.actor,
                                                id=await _purpose_id(ctx.session, code, pc),
                                                changes=changes, today=ctx.today)
            fields = ", ".join(k for k in PURPOSE_TEXTS if p[k] != had[k])
            self.add("~", f"purpose {code}/{pc} {fields}", path, update, kind="purpose.update", tie=(pc,))
        self._retire(code, pc, p, had, path, replay)

    def _retire(self, code: str, pc: str, p: dict, had: dict | None, path: Path_, replay: bool) -> None:
        was = had["retiredOn"] if had else None
        if p["retiredOn"] == was:
            return
        if was is not None:
            self.refuse(path + ("retiredOn",), f"purpose {pc} is retired on {was} already: that day cannot change")
            return
        last = p["retiredOn"]

        async def retire(ctx: Context):
            today = min(last + ONE_DAY, ctx.today) if replay else ctx.today
            await businesses.retire_purpose(ctx.session, actor=ctx.actor, id=await _purpose_id(ctx.session, code, pc),
                                            retired_on=last, today=today)
        self.add("-", f"purpose {code}/{pc} retired on {last}", path + ("retiredOn",), retire, kind="end",
                 when=last + ONE_DAY, tie=(code, pc))

    def _data_items(self, code: str, entry: dict, have: dict, at: Path_) -> None:
        for ic in have["dataItems"]:
            if ic not in entry["dataItems"]:
                self.refuse(at + ("dataItems",), f"data item {ic} is missing: a data item cannot be deleted, nor its "
                            "code changed; keep it in the file")
        for ic, item in entry["dataItems"].items():
            path = at + ("dataItems", ic)
            values = {attr: item[key] for key, attr in DATA_ITEM_FIELDS.items()}
            if ic not in have["dataItems"]:
                async def create(ctx: Context, ic=ic, values=values):
                    await businesses.create_data_item(ctx.session, actor=ctx.actor, business_code=code, code=ic,
                                                      **values)
                self.add("+", f"data item {code}/{ic} {_q(item['name'])}", path, create, kind="data item", tie=(ic,))
                continue
            had = have["dataItems"][ic]
            changes = {attr: item[key] for key, attr in DATA_ITEM_FIELDS.items() if item[key] != had[key]}
            if changes:
                async def update(ctx: Context, ic=ic, changes=changes):
                    await businesses.update_data_item(ctx.session, actor=ctx.actor, id=await _item_id(
                        ctx.session, code, ic), changes=changes, today=ctx.today)
                fields = ", ".join(k for k in DATA_ITEM_FIELDS if item[k] != had[k])
                self.add("~", f"data item {code}/{ic} {fields}", path, update, kind="data item.update", tie=(ic,))

    def _contract(self, code: str, ref: str, c: dict, had: dict | None, at: Path_, replay: bool) -> None:
        name = f"{code}/{ref}"
        sub = c["subcontractor"]
        depth = self._sub_depth(sub)
        if sub not in self.wanted["subcontractors"] and sub not in self.current["subcontractors"]:
            self.refuse(at + ("subcontractor",), f"no subcontractor named {_q(sub)} in the file or the registry")
            return
        if had is None:
            async def create(ctx: Context):
                await contracts.create_contract(
                    ctx.session, actor=ctx.actor, subcontractor_id=await _sub_id(ctx.session, sub), business_code=code,
                    reference=ref, effective_from=c["effectiveFrom"], expires_on=c["expiresOn"],
                    signed_on=c["signedOn"], clauses=c["clauses"])
            self.add("+", f"contract {name} with {_q(sub)} {c['effectiveFrom']}..{c['expiresOn']}", at, create,
                     kind="contract", tie=(code, ref))
            had = {"statusHistory": [], "entrustments": [], "dataReturnedOn": None}
        else:
            for key in ("subcontractor", "signedOn", "effectiveFrom", "expiresOn", "clauses"):
                if c[key] != had[key]:
                    self.refuse(at + (key,), f"a contract's terms ({key}) cannot change: no write edits them; "
                                "terminate this contract and create a new one")
        history, before = c["statusHistory"], had["statusHistory"]
        if history[:len(before)] != before:
            self.refuse(at + ("statusHistory",), "a contract's past transitions cannot be rewritten: keep them as "
                        "exported and append the new one")
        else:
            self._transitions(code, ref, history, len(before), at, replay, depth)
        self._entrustments(code, ref, c, had, at, replay)
        if c["dataReturnedOn"] != had["dataReturnedOn"]:
            if had["dataReturnedOn"] is not None:
                self.refuse(at + ("dataReturnedOn",), "the day the data was returned is recorded already")
            else:
                returned = c["dataReturnedOn"]

                async def data_return(ctx: Context):
                    contract = await _contract_row(ctx.session, code, ref)
                    await contracts.record_data_return(ctx.session, actor=ctx.actor, id=contract.id,
                                                       expected_version=contract.version, returned_on=returned,
                                                       today=ctx.today)
                self.add("~", f"contract {name} data returned on {returned}", at + ("dataReturnedOn",), data_return,
                         kind="data return", when=returned, tie=(code, ref))

    def _sub_depth(self, name: str) -> int:
        depth, seen = 0, {name}
        while True:
            entry = self.wanted["subcontractors"].get(name) or self.current["subcontractors"].get(name)
            if not entry or entry["parent"] is None or entry["parent"] in seen:
                return depth
            name, depth = entry["parent"], depth + 1
            seen.add(name)

    def _transitions(self, code: str, ref: str, history: list, done: int, at: Path_, replay: bool,
                     depth: int) -> None:
        for n in range(done, len(history)):
            step = history[n]
            was = history[n - 1]["status"] if n else "DRAFT"

            async def move(ctx: Context, step=step):
                contract = await _contract_row(ctx.session, code, ref)
                await contracts.transition_contract(
                    ctx.session, actor=ctx.actor, id=contract.id, expected_version=contract.version, to=step["status"],
                    today=min(step["effectiveOn"], ctx.today) if replay else ctx.today, reason=step["reason"],
                    effective_on=step["effectiveOn"])
            self.add("~", f"contract {code}/{ref} status {was} -> {step['status']} from {step['effectiveOn']}",
                     at + ("statusHistory", n), move, kind="transition", when=step["effectiveOn"],
                     tie=(depth, code, ref, n))

    def _entrustments(self, code: str, ref: str, c: dict, had: dict, at: Path_, replay: bool) -> None:
        wanted, have = c["entrustments"], had["entrustments"]
        for n, m, problem in _match_periods(wanted, have):
            path = at + ("entrustments", n if n is not None else 0)
            if problem:
                self.refuse(at + ("entrustments",) if n is None else path, f"entrustment {_scope(have[m])} "
                            f"{problem}; an entrustment is never deleted or edited: end it (effectiveUntil) and add "
                            "a new one")
                continue
            e = wanted[n]
            if m is None:
                async def add(ctx: Context, e=e):
                    contract = await _contract_row(ctx.session, code, ref)
                    await contracts.add_entrustment(
                        ctx.session, actor=ctx.actor, contract_id=contract.id, purpose_codes=e["purposes"],
                        data_item_codes=e["dataItems"], today=ctx.today, description=e["description"],
                        effective_from=e["effectiveFrom"])
                self.add("+", f"entrustment {code}/{ref} {_scope(e)} from {e['effectiveFrom']}", path, add,
                         kind="entrustment", tie=(code, ref, n))
            if e["effectiveUntil"] is not None and (m is None or have[m]["effectiveUntil"] is None):
                async def end(ctx: Context, e=e):
                    contract = await _contract_row(ctx.session, code, ref)
                    found = await _open_entrustment(ctx.session, contract, e)
                    await contracts.remove_entrustment(ctx.session, actor=ctx.actor, id=found, today=ctx.today,
                                                       effective_on=e["effectiveUntil"] + ONE_DAY)
                self.add("-", f"entrustment {code}/{ref} {_scope(e)} ended {e['effectiveUntil']}",
                         path + ("effectiveUntil",), end, kind="end", when=e["effectiveUntil"] + ONE_DAY,
                         tie=(code, ref, n))

    def _periodic(self, code: str, key: str, entry: dict, have: dict, at: Path_, replay: bool) -> None:
        """Provisions and joint uses: matched by everything but their end."""
        what = "provision" if key == "provisions" else "joint use"
        wanted, had = entry[key], have[key]
        for n, m, problem in _match_periods(wanted, had):
            path = at + (key, n if n is not None else 0)
            if problem:
                self.refuse(at + (key,) if n is None else path, f"{what} {_scope(had[m])} from "
                            f"{had[m]['effectiveFrom']} {problem}; a {what} is never deleted or edited: end it "
                            "(effectiveUntil) and add a new one")
                continue
            e = wanted[n]
            label = f"{what} {code}" + (f" -> {_q(e['recipient'])}" if key == "provisions" else "") + f" {_scope(e)}"
            if key == "provisions" and e["recipient"] not in self.wanted["recipients"] \
                    and e["recipient"] not in self.current["recipients"]:
                self.refuse(path + ("recipient",),
                            f"no recipient named {_q(e['recipient'])} in the file or the registry")
                continue
            if m is None:
                create = self._create_provision(code, e, replay) if key == "provisions" \
                    else self._create_joint_use(code, e, replay)
                self.add("+", f"{label} from {e['effectiveFrom']}", path, create, kind=what, tie=(code, n))
            if e["effectiveUntil"] is not None and (m is None or had[m]["effectiveUntil"] is None):
                async def end(ctx: Context, e=e):
                    last = e["effectiveUntil"]
                    today = min(last + ONE_DAY, ctx.today) if replay else ctx.today
                    found = await _open_periodic(ctx.session, code, key, e)
                    close = provisions.end_provision if key == "provisions" else joint_uses.end_joint_use
                    await close(ctx.session, actor=ctx.actor, id=found, effective_until=last, today=today)
                self.add("-", f"{label} ended {e['effectiveUntil']}", path + ("effectiveUntil",), end, kind="end",
                         when=e["effectiveUntil"] + ONE_DAY, tie=(code, key, n))

    def _create_provision(self, code: str, e: dict, replay: bool) -> Run:
        async def create(ctx: Context):
            await provisions.create_provision(
                ctx.session, actor=ctx.actor, business_code=code,
                recipient_id=await _recipient_id(ctx.session, e["recipient"]), purpose_codes=e["purposes"],
                data_item_codes=e["dataItems"], legal_basis=e["legalBasis"], effective_from=e["effectiveFrom"],
                stated_purpose=e["statedPurpose"], stated_purpose_ja=e["statedPurposeJa"], method=e["method"],
                method_ja=e["methodJa"], ppc_notified_on=e["ppcNotifiedOn"],
                today=min(e["effectiveFrom"], ctx.today) if replay else ctx.today)
        return create

    def _create_joint_use(self, code: str, e: dict, replay: bool) -> Run:
        async def create(ctx: Context):
            await joint_uses.create_joint_use(
                ctx.session, actor=ctx.actor, business_code=code, users=e["users"], responsible=e["responsible"],
                users_ja=e["usersJa"], responsible_ja=e["responsibleJa"], purpose_codes=e["purposes"],
                data_item_codes=e["dataItems"], effective_from=e["effectiveFrom"],
                today=min(e["effectiveFrom"], ctx.today) if replay else ctx.today)
        return create


def _q(text: str) -> str:
    """A name or title in a plan line: double-quoted, as JSON writes it."""
    return json.dumps(text, ensure_ascii=False)


def _assessed(entry: dict, n: int) -> tuple:
    return entry["assessments"][n]["assessedOn"], n


def _where(period: dict) -> str:
    basis = period["foreignTransferBasis"]
    return period["country"] + (f" ({basis})" if basis else "")


def _scope(entry: dict) -> str:
    return f"[{','.join(entry['purposes'])} x {','.join(entry['dataItems'])}]"


def _without_end(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "effectiveUntil"}


def _match_periods(wanted: list[dict], have: list[dict]):
    """(file index, registry index, problem) for each fact of either side: a registry fact the file
    does not hold (file index None), or holds with another end, is a problem; a file fact the
    registry does not hold is new (registry index None)."""
    taken: set[int] = set()
    found: list[tuple[int | None, int | None, str | None]] = []
    for n, e in enumerate(wanted):
        same = [m for m, h in enumerate(have) if m not in taken and _without_end(h) == _without_end(e)]
        best = next((m for m in same if have[m]["effectiveUntil"] == e["effectiveUntil"]), None)
        best = best if best is not None else next((m for m in same if have[m]["effectiveUntil"] is None),
                                                  same[0] if same else None)
        if best is None:
            found.append((n, None, None))
            continue
        taken.add(best)
        ended = have[best]["effectiveUntil"]
        if ended is not None and ended != e["effectiveUntil"]:
            found.append((n, best, f"ended on {ended} already: that day cannot change"))
        else:
            found.append((n, best, None))
    for m, h in enumerate(have):
        if m not in taken:
            found.append((None, m, "is missing from the file"))
    return found


def _multiset_diff(wanted: list[dict], have: list[dict]) -> tuple[list[int], list[int]]:
    """Indexes of `wanted` not in `have`, and of `have` not in `wanted`."""
    left = list(range(len(have)))
    added = []
    for n, entry in enumerate(wanted):
        match = next((m for m in left if have[m] == entry), None)
        if match is None:
            added.append(n)
        else:
            left.remove(match)
    return added, left


async def plan_changes(session: AsyncSession, document: Document, wanted: dict[str, Any], *, today: date) -> Plan:
    """The changes that make the registry hold what `wanted` (the normalized document) says,
    in the order they are made; FileRefused with every change no write can make."""
    current = await export_registry(session)
    return Planner(document, wanted, current, today).plan()


async def apply_plan(session: AsyncSession, plan: Plan, document: Document, *, actor: str, today: date) -> None:
    """Make each change through the registry's writes; the first refusal raises ApplyRefused
    (the caller's transaction is then rolled back whole)."""
    ctx = Context(session, actor, today)
    for change in plan.changes:
        try:
            await change.run(ctx)
        except RegistryError as error:
            raise ApplyRefused(error, document.line_of(change.path), change) from None


# --- finding by key what a change writes to ------------------------------------------------------


async def _one(session: AsyncSession, statement, what: str) -> Any:
    row = (await session.exec(statement)).first()
    if row is None:
        raise NotFound(f"no {what}")
    return row


async def _sub_id(session: AsyncSession, name: str) -> int:
    return await _one(session, select(Subcontractor.id).where(Subcontractor.name == name), f"subcontractor {_q(name)}")


async def _recipient_id(session: AsyncSession, name: str) -> int:
    return await _one(session, select(ThirdPartyRecipient.id).where(ThirdPartyRecipient.name == name),
                      f"recipient {_q(name)}")


async def _purpose_id(session: AsyncSession, code: str, pc: str) -> int:
    return await _one(session, select(Purpose.id).join(Business, Business.id == Purpose.business_id)
                      .where(Business.code == code, Purpose.code == pc), f"purpose {code}/{pc}")


async def _item_id(session: AsyncSession, code: str, ic: str) -> int:
    return await _one(session, select(DataItem.id).join(Business, Business.id == DataItem.business_id)
                      .where(Business.code == code, DataItem.code == ic), f"data item {code}/{ic}")


async def _contract_row(session: AsyncSession, code: str, ref: str) -> Contract:
    contract = await _one(session, select(Contract).join(Business, Business.id == Contract.business_id)
                          .where(Business.code == code, Contract.reference == ref), f"contract {code}/{ref}")
    await session.refresh(contract)  # its version as the writes before this one left it
    return contract


async def _open_entrustment(session: AsyncSession, contract: Contract, wanted: dict) -> int:
    rows = (await contracts.entrustments_of(session, [contract.id]))[contract.id]
    links = await contracts.entrustment_links(session, [r.id for r in rows])
    for row in rows:
        if row.effective_until is None and _matches(row, links, wanted, description=row.description):
            return row.id
    raise _gone("entrustment", wanted)


async def _open_periodic(session: AsyncSession, code: str, key: str, wanted: dict) -> int:
    business = await businesses.get_business(session, code)
    if key == "provisions":
        rows = (await session.exec(select(Provision).where(Provision.business_id == business.id,
                                                           Provision.effective_until.is_(None)))).all()
        links = await provisions.provision_links(session, [r.id for r in rows])
        recipients = await provisions.recipients_by_ids(session, [r.recipient_id for r in rows])
        fits = [r for r in rows if _matches(r, links, wanted, recipient=recipients[r.recipient_id].name,
                                            legalBasis=str(r.legal_basis), statedPurpose=r.stated_purpose,
                                            statedPurposeJa=r.stated_purpose_ja, method=r.method,
                                            methodJa=r.method_ja, ppcNotifiedOn=r.ppc_notified_on)]
    else:
        rows = [r for r in (await joint_uses.joint_uses_of(session, [business.id]))[business.id]
                if r.effective_until is None]
        links = await joint_uses.joint_use_links(session, [r.id for r in rows])
        fits = [r for r in rows if _matches(r, links, wanted, users=r.users, usersJa=r.users_ja,
                                            responsible=r.responsible, responsibleJa=r.responsible_ja)]
    if not fits:
        raise _gone(key, wanted)
    return fits[0].id


def _matches(row, links, wanted: dict, **fields: Any) -> bool:
    purposes, items = links
    entry = {**fields, "purposes": sorted(p.code for p in purposes[row.id]),
             "dataItems": sorted(i.code for i in items[row.id]), "effectiveFrom": row.effective_from}
    return entry == _without_end(wanted)


def _gone(what: str, wanted: dict) -> RegistryError:
    return NotFound(f"no open {what} {_scope(wanted)} from {wanted['effectiveFrom']} to end")


__all__ = ["ApplyRefused", "Change", "Plan", "apply_plan", "normalized", "plan_changes"]
