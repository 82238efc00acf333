"""Issue 12's "Why" scenarios, asked through HTTP of whichever pi-gateway is on sys.path.

Each scenario starts on its own copy of a freshly seeded demo registry (SQLite, or PostgreSQL
with --postgres SERVER_URL: databases made from a template and dropped at the end), on the
tests' fixed clock (today = 2026-11-25, Asia/Tokyo), and sends the same GraphQL operations to
the app in process (httpx over ASGITransport, as the tests' `api` fixture does). An operation
the version does not have answers with GraphQL validation errors, which are recorded as its
answer. Prints one block per scenario; --json also writes them as JSON.

From /work/main, each version in a worktree put first on sys.path (ahead of the venv's editable
install; docs/valid-time-before-after.md has the answers of both):

    git worktree add /work/wt-before 49ac53f   # before valid time
    git worktree add /work/wt-after 19c7b84    # after (or leave PYTHONPATH out to run the checkout)
    PYTHONPATH=/work/wt-before nice -n 19 .venv/bin/python docs/valid-time-scenarios.py --json /tmp/before.json
    PYTHONPATH=/work/wt-after nice -n 19 .venv/bin/python docs/valid-time-scenarios.py --json /tmp/after.json
    # add --postgres postgresql+asyncpg://USER@HOST:PORT/postgres for PostgreSQL (it creates and drops databases)
    git worktree remove --force /work/wt-before; git worktree remove --force /work/wt-after
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

import registry
from gateway.app import create_app
from gateway.settings import load_settings
from registry import migrate, tokens
from registry.clock import Clock
from registry.db import Database
from registry.demo import seed_demo
from registry.enums import Role

CLOCK = Clock(timezone="Asia/Tokyo", fixed=datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
TODAY, YESTERDAY, LAST_MONTH, NEXT_MONTH = "2026-11-25", "2026-11-24", "2026-10-25", "2026-12-25"
BEFORE_REGISTRATION = "2025-10-01"  # the after-demo registers its customers on 2025-10-21
ADMIN, OFFICER = Role.ADMIN, Role.PRIVACY_OFFICER

# --- operations -----------------------------------------------------------------------------

HANDLINGS = """query ($ref: String!, $asOf: Date) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  handlings(asOf: $asOf, includeExcluded: true) { party { name } contract { reference } excluded exclusionReasons
  dataItems { code } purposes { code } } } }"""
CUSTOMER = """query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  id status cancelledOn displayName dataItems { code } } }"""
STATUS_THEN = """query ($ref: String!, $asOf: Date) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  statusThen: status(asOf: $asOf) } }"""
ITEMS_THEN = """query ($ref: String!, $asOf: Date) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  itemsThen: dataItems(asOf: $asOf) { code } } }"""
ITEM_HISTORY = """query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  itemHistory { dataItem { code } heldFrom heldUntil } } }"""
REGISTERED_ON = """query ($ref: String!) { customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
  registeredOn } }"""
REGISTER = """mutation ($ref: String!, $items: [String!]!) { registerCustomer(input: {businessCode: "loveinn-japan",
  externalRef: $ref, displayName: "Scenario customer", dataItemCodes: $items}) { customer { id } errors { code field message } } }"""
CONTRACTS = """query ($name: String!) { subcontractors(filter: {nameContains: $name}) { edges { node { id
  contracts { id reference version status entrustments { id description } } } } } }"""
ENTRUSTMENTS_ALL = """query ($name: String!) { subcontractors(filter: {nameContains: $name}) { edges { node {
  contracts { reference entrustments(includeEnded: true) { description effectiveFrom effectiveUntil } } } } } }"""
CONTRACT_THEN = """query ($id: ID!, $asOf: Date) { node(id: $id) { ... on Contract { then: status(asOf: $asOf)
  statusHistory { status effectiveOn } } } }"""
TRANSITION = """mutation ($id: ID!, $v: Int!, $to: ContractStatus!) { transitionContract(input: {id: $id, expectedVersion: $v,
  to: $to}) { contract { status version } errors { code field message } } }"""
REMOVE_ENTRUSTMENT = """mutation ($id: ID!) { removeEntrustment(input: {id: $id}) { errors { code field message } } }"""
CREATE_CONTRACT = """mutation ($sub: ID!) { createContract(input: {subcontractorId: $sub, businessCode: "loveinn-japan",
  reference: "LIJ-SUR-003", effectiveFrom: "2026-11-01", expiresOn: "2027-11-30", clauses: [CONFIDENTIALITY,
  PURPOSE_LIMITATION, SECURITY_MEASURES, BREACH_NOTIFICATION, RETURN_OR_DELETION]}) {
  contract { id version } errors { code field message } } }"""
ADD_ENTRUSTMENT = """mutation ($c: ID!) { addEntrustment(input: {contractId: $c, purposeCodes: ["P3"],
  dataItemCodes: ["name", "email"]}) { entrustment { id } errors { code field message } } }"""
FINDINGS = """{ complianceFindings(businessCode: "loveinn-japan") { code severity message } }"""
CHANGE_ITEMS = """mutation ($id: ID!, $add: [String!], $remove: [String!], $on: Date) { changeCustomerItems(input: {id: $id,
  addDataItemCodes: $add, removeDataItemCodes: $remove, effectiveOn: $on}) { customer { id } errors { code field message } } }"""
SUBMIT = """mutation ($c: ID!, $kind: RequestKind!, $detail: String) { submitRequest(input: {customerId: $c, kind: $kind,
  detail: $detail}) { request { id } errors { code field message } } }"""
SUBMIT_ITEMS = """mutation ($c: ID!, $kind: RequestKind!, $items: [String!]) { submitRequest(input: {customerId: $c,
  kind: $kind, dataItemCodes: $items}) { request { id dataItems { code } } errors { code field message } } }"""
SUBMIT_PURPOSES = """mutation ($c: ID!, $kind: RequestKind!, $purposes: [String!]) { submitRequest(input: {customerId: $c,
  kind: $kind, purposeCodes: $purposes}) { request { id purposes { code } } errors { code field message } } }"""
MOVE = """mutation ($id: ID!, $to: RequestStatus!) { transitionRequest(input: {id: $id, to: $to}) {
  request { status } errors { code field message } } }"""
CANCEL = """mutation ($id: ID!, $on: Date!) { cancelCustomer(input: {id: $id, cancelledOn: $on}) {
  customer { status cancelledOn } errors { code field message } } }"""
RECORD = """mutation ($p: ID!, $c: ID!, $on: Date!, $items: [String!]!) { recordProvision(input: {provisionId: $p,
  customerId: $c, providedOn: $on, dataItemCodes: $items}) { record { id } errors { code field message } } }"""
BREACH = """query ($p: ID!, $codes: [String!]) { breachImpact(partyId: $p, dataItemCodes: $codes) {
  affectedCustomers reportable reasons dataItems { code } } }"""
BREACH_IN_USE = """query ($p: ID!) { breachImpact(partyId: $p) { affectedCustomers customersInUse } }"""
BREACH_CAUSE = """query ($p: ID!, $codes: [String!], $cause: BreachCause, $found: Date) { breachImpact(partyId: $p,
  dataItemCodes: $codes, cause: $cause, discoveredOn: $found) { affectedCustomers reportable reasons cause
  preliminaryReportDueOn finalReportDueOn } }"""
MOVE_SUBCONTRACTOR = """mutation ($id: ID!, $v: Int!, $country: String) { updateSubcontractor(input: {id: $id,
  expectedVersion: $v, country: $country}) { subcontractor { country foreignTransferBasis version }
  errors { code field message } } }"""
MOVE_SUBCONTRACTOR_ON = """mutation ($id: ID!, $v: Int!, $country: String, $on: Date) { updateSubcontractor(input: {
  id: $id, expectedVersion: $v, country: $country, effectiveOn: $on}) { subcontractor { country version }
  errors { code field message } } }"""
SUBCONTRACTOR = """query ($name: String!) { subcontractors(filter: {nameContains: $name}) { edges { node { id version
  } } } }"""


# --- the app, and answers trimmed to what matters --------------------------------------------


class Api:
    def __init__(self, client, issued, log):
        self.client, self.issued, self.log = client, issued, log

    async def ask(self, query: str, variables: dict | None = None, role: Role = ADMIN) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                          headers={"Authorization": f"Bearer {self.issued[role]}"})
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, role: Role = ADMIN) -> dict:
        """The data of a query that both versions have (setup and plain reads)."""
        body = await self.ask(query, variables, role)
        assert "errors" not in body, body
        return body["data"]

    def record(self, step: str, answer) -> None:
        self.log.append({"step": step, "answer": answer})

    async def step(self, step: str, query: str, variables: dict | None = None, role: Role = ADMIN, trim=None):
        """Ask, record the answer (trimmed) or the GraphQL errors, and return the data (None on errors)."""
        body = await self.ask(query, variables, role)
        if body.get("errors"):
            self.record(step, {"graphql_errors": [
                {"code": (e.get("extensions") or {}).get("code"), "message": e["message"]} for e in body["errors"]]})
            return None
        data = body["data"]
        self.record(step, trim(data) if trim else data)
        return data


def party(name: str) -> str:
    return name.split(" (")[0]


def summarise(handlings: list[dict]) -> dict[str, str]:
    """One line per party: 'handles P1,P2 | name,email' or 'excluded REASON,... | would: ...'."""
    lines = {}
    for h in handlings:
        purposes = ",".join(p["code"] for p in h["purposes"])
        items = ",".join(i["code"] for i in h["dataItems"])
        head = "excluded " + ",".join(h["exclusionReasons"]) if h["excluded"] else "handles"
        key = party(h["party"]["name"]) + (f" [{h['contract']['reference']}]" if h["contract"] else "")
        lines[key] = f"{head} | purposes {purposes or '-'} | items {items or '-'}"
    return lines


def handlings_of(data: dict) -> dict[str, str]:
    return summarise(data["customerByRef"]["handlings"])


def only(*names):
    def trim(data):
        lines = handlings_of(data)
        return {k: v for k, v in lines.items() if k.split(" [")[0] in names}
    return trim


def payload(name: str):
    return lambda data: data[name]


def customer_view(data: dict) -> dict:
    c = data["customerByRef"]
    return {"status": c["status"], "cancelledOn": c["cancelledOn"], "displayName": c["displayName"],
            "dataItems": [i["code"] for i in c["dataItems"]]}


async def handlings(api: Api, step: str, ref: str, as_of: str | None = None, trim=handlings_of):
    return await api.step(step, HANDLINGS, {"ref": ref, "asOf": as_of}, trim=trim)


async def customer_id(api: Api, ref: str) -> str:
    return (await api.data(CUSTOMER, {"ref": ref}))["customerByRef"]["id"]


async def contracts_of(api: Api, name: str) -> tuple[str, dict[str, dict]]:
    [edge] = (await api.data(CONTRACTS, {"name": name}))["subcontractors"]["edges"]
    return edge["node"]["id"], {c["reference"]: c for c in edge["node"]["contracts"]}


async def complete(api: Api, label: str, request_id: str) -> None:
    for status in ("IN_PROGRESS", "COMPLETED"):
        await api.step(f"{label}: transitionRequest to {status}", MOVE, {"id": request_id, "to": status}, OFFICER,
                       trim=payload("transitionRequest"))


async def business_id(api: Api) -> str:
    return (await api.data('{ business(code: "loveinn-japan") { id } }'))["business"]["id"]


# --- the scenarios, in the order of the "Why" ---------------------------------------


async def s1_before_registration_demo(api: Api):
    """Bullet 1, on the demo: LIJ-0001 asked about a day before it registered."""
    await api.step("customer LIJ-0001: registeredOn", REGISTERED_ON, {"ref": "LIJ-0001"},
                   trim=lambda d: d["customerByRef"])
    await handlings(api, f"handlings(LIJ-0001, asOf: {BEFORE_REGISTRATION})", "LIJ-0001", BEFORE_REGISTRATION)


async def s1_before_registration_new_customer(api: Api):
    """Bullet 1, set up alike in both versions: a customer registered today, asked about last month."""
    await api.step("registerCustomer LIJ-9001 today (name, email, amount, credit_card_number)", REGISTER,
                   {"ref": "LIJ-9001", "items": ["name", "email", "amount", "credit_card_number"]}, OFFICER,
                   trim=lambda d: d["registerCustomer"]["errors"])
    await handlings(api, f"handlings(LIJ-9001, asOf: {LAST_MONTH})", "LIJ-9001", LAST_MONTH)
    await handlings(api, "handlings(LIJ-9001) today", "LIJ-9001")


async def s2_suspended_contract(api: Api):
    """Bullet 2a: suspend Sakura's payment contract today, ask about last month."""
    _, contracts = await contracts_of(api, "Sakura")
    [pay] = contracts.values()
    await api.step("transitionContract LIJ-PAY-001 to SUSPENDED", TRANSITION,
                   {"id": pay["id"], "v": pay["version"], "to": "SUSPENDED"}, trim=payload("transitionContract"))
    trim = only("Sakura Payment Services K.K.")
    await handlings(api, f"handlings(LIJ-0001, asOf: {LAST_MONTH}): Sakura", "LIJ-0001", LAST_MONTH, trim)
    await handlings(api, "handlings(LIJ-0001) today: Sakura", "LIJ-0001", None, trim)
    await api.step(f"LIJ-PAY-001 status(asOf: {LAST_MONTH}), statusHistory", CONTRACT_THEN,
                   {"id": pay["id"], "asOf": LAST_MONTH}, trim=lambda d: d["node"])


async def s2_removed_entrustment(api: Api):
    """Bullet 2b: remove Hikari's inquiries entrustment today, ask about last month."""
    _, contracts = await contracts_of(api, "Hikari")
    support = contracts["LIJ-SUP-001"]
    [inquiries] = [e for e in support["entrustments"] if e["description"] == "Answering customers' inquiries"]
    await api.step("removeEntrustment 'Answering customers' inquiries' (LIJ-SUP-001)", REMOVE_ENTRUSTMENT,
                   {"id": inquiries["id"]}, trim=payload("removeEntrustment"))
    trim = only("Hikari Support Center Co., Ltd.")
    await handlings(api, f"handlings(LIJ-0001, asOf: {LAST_MONTH}): Hikari", "LIJ-0001", LAST_MONTH, trim)
    await handlings(api, "handlings(LIJ-0001) today: Hikari", "LIJ-0001", None, trim)
    await api.step("LIJ-SUP-001 entrustments (default)", CONTRACTS, {"name": "Hikari"},
                   trim=lambda d: [e["description"] for e in
                                   d["subcontractors"]["edges"][0]["node"]["contracts"][0]["entrustments"]])
    await api.step("LIJ-SUP-001 entrustments(includeEnded: true)", ENTRUSTMENTS_ALL, {"name": "Hikari"},
                   trim=lambda d: d["subcontractors"]["edges"][0]["node"]["contracts"][0]["entrustments"])


async def s3_phone_withdrawn_and_given(api: Api):
    """Bullet 3a: LIJ-0001 withdraws the voluntary phone from 2026-11-01 and gives it again from 2026-11-20."""
    lij = await customer_id(api, "LIJ-0001")
    await api.step("changeCustomerItems(LIJ-0001, remove phone, effectiveOn 2026-11-01)", CHANGE_ITEMS,
                   {"id": lij, "remove": ["phone"], "on": "2026-11-01"}, OFFICER, trim=payload("changeCustomerItems"))
    await api.step("changeCustomerItems(LIJ-0001, add phone, effectiveOn 2026-11-20)", CHANGE_ITEMS,
                   {"id": lij, "add": ["phone"], "on": "2026-11-20"}, OFFICER, trim=payload("changeCustomerItems"))
    await api.step("LIJ-0001 dataItems(asOf: 2026-11-10)", ITEMS_THEN, {"ref": "LIJ-0001", "asOf": "2026-11-10"},
                   trim=lambda d: [i["code"] for i in d["customerByRef"]["itemsThen"]])
    await api.step("LIJ-0001 itemHistory: the phone's periods", ITEM_HISTORY, {"ref": "LIJ-0001"},
                   trim=lambda d: [(p["heldFrom"], p["heldUntil"]) for p in d["customerByRef"]["itemHistory"]
                                   if p["dataItem"]["code"] == "phone"])
    await api.step("LIJ-0001 dataItems (today)", CUSTOMER, {"ref": "LIJ-0001"},
                   trim=lambda d: [i["code"] for i in d["customerByRef"]["dataItems"]])
    trim = only("Kumo Hosting K.K.")
    await handlings(api, "handlings(LIJ-0001, asOf: 2026-11-10): Kumo Hosting", "LIJ-0001", "2026-11-10", trim)
    await handlings(api, "handlings(LIJ-0001) today: Kumo Hosting", "LIJ-0001", None, trim)


async def s3_phone_nearest_old_request(api: Api):
    """Bullet 3a, the nearest request the old API has: a CORRECTION asking to withdraw the phone, completed."""
    lij = await customer_id(api, "LIJ-0001")
    submitted = await api.step("submitRequest(LIJ-0001, CORRECTION, detail: 'please withdraw my phone number')",
                               SUBMIT, {"c": lij, "kind": "CORRECTION", "detail": "please withdraw my phone number"},
                               OFFICER, trim=lambda d: d["submitRequest"]["errors"])
    await complete(api, "CORRECTION", submitted["submitRequest"]["request"]["id"])
    await api.step("LIJ-0001 dataItems", CUSTOMER, {"ref": "LIJ-0001"}, trim=customer_view)
    await handlings(api, "handlings(LIJ-0001) today: Kumo Hosting", "LIJ-0001", None, only("Kumo Hosting K.K."))


async def s3_deletion_of_phone(api: Api):
    """Bullet 3b: a DELETION naming the phone only, completed today."""
    lij = await customer_id(api, "LIJ-0001")
    submitted = await api.step("submitRequest(LIJ-0001, DELETION, dataItemCodes: [phone])", SUBMIT_ITEMS,
                               {"c": lij, "kind": "DELETION", "items": ["phone"]}, OFFICER,
                               trim=payload("submitRequest"))
    if submitted:
        await complete(api, "DELETION [phone]", submitted["submitRequest"]["request"]["id"])
    await api.step("LIJ-0001 dataItems, displayName", CUSTOMER, {"ref": "LIJ-0001"}, trim=customer_view)
    await api.step(f"LIJ-0001 dataItems(asOf: {YESTERDAY})", ITEMS_THEN, {"ref": "LIJ-0001", "asOf": YESTERDAY},
                   trim=lambda d: [i["code"] for i in d["customerByRef"]["itemsThen"]])
    await handlings(api, "handlings(LIJ-0001) today: Hikari", "LIJ-0001", None,
                    only("Hikari Support Center Co., Ltd."))


async def s3_deletion_whole(api: Api):
    """Bullet 3b, the request both versions have: an unscoped DELETION of LIJ-0002, completed today."""
    lij = await customer_id(api, "LIJ-0002")
    submitted = await api.step("submitRequest(LIJ-0002, DELETION)", SUBMIT, {"c": lij, "kind": "DELETION"}, OFFICER,
                               trim=lambda d: d["submitRequest"]["errors"])
    await complete(api, "DELETION", submitted["submitRequest"]["request"]["id"])
    await api.step("LIJ-0002 dataItems, displayName", CUSTOMER, {"ref": "LIJ-0002"}, trim=customer_view)
    await handlings(api, "handlings(LIJ-0002) today", "LIJ-0002")


async def _resume_mail(api: Api) -> None:
    _, contracts = await contracts_of(api, "Nami")
    mail = contracts["LIJ-MAIL-001"]  # SUSPENDED in both demos: resumed, so that P2 (newsletters) is in use
    await api.step("transitionContract LIJ-MAIL-001 (Nami, newsletters P2) SUSPENDED to ACTIVE", TRANSITION,
                   {"id": mail["id"], "v": mail["version"], "to": "ACTIVE"}, trim=payload("transitionContract"))


STOP_USE_PARTIES = ("Loveinn Japan", "Financial institutions", "Sakura Payment Services K.K.",
                    "Nami Mailing Services G.K.")


async def s3_stop_use_marketing_only(api: Api):
    """Bullet 3c: LIJ-0002 asks to stop marketing mail (P2) only."""
    await _resume_mail(api)
    lij = await customer_id(api, "LIJ-0002")
    submitted = await api.step("submitRequest(LIJ-0002, STOP_USE, purposeCodes: [P2])", SUBMIT_PURPOSES,
                               {"c": lij, "kind": "STOP_USE", "purposes": ["P2"]}, OFFICER,
                               trim=payload("submitRequest"))
    if submitted:
        await complete(api, "STOP_USE [P2]", submitted["submitRequest"]["request"]["id"])
    await handlings(api, "handlings(LIJ-0002) today", "LIJ-0002", None, only(*STOP_USE_PARTIES))


async def s3_stop_use_whole(api: Api):
    """Bullet 3c, the request both versions have: an unscoped STOP_USE of LIJ-0002."""
    await _resume_mail(api)
    lij = await customer_id(api, "LIJ-0002")
    submitted = await api.step("submitRequest(LIJ-0002, STOP_USE)", SUBMIT, {"c": lij, "kind": "STOP_USE"}, OFFICER,
                               trim=lambda d: d["submitRequest"]["errors"])
    await complete(api, "STOP_USE", submitted["submitRequest"]["request"]["id"])
    await handlings(api, "handlings(LIJ-0002) today", "LIJ-0002", None, only(*STOP_USE_PARTIES))


async def s4_re_entrustment_without_consent(api: Api):
    """Bullet 4: Tsubame moves to a new contract without SUB_ENTRUSTMENT_CONSENT and ends the old one today."""
    sub, contracts = await contracts_of(api, "Tsubame")
    old = contracts["LIJ-SUR-001"]
    created = await api.step("createContract LIJ-SUR-003 (Tsubame, from 2026-11-01, no SUB_ENTRUSTMENT_CONSENT)",
                             CREATE_CONTRACT, {"sub": sub}, trim=lambda d: d["createContract"]["errors"])
    new_id = created["createContract"]["contract"]["id"]
    await api.step("addEntrustment(LIJ-SUR-003, P3 x name, email)", ADD_ENTRUSTMENT, {"c": new_id},
                   trim=lambda d: d["addEntrustment"]["errors"])
    for to in ("UNDER_REVIEW", "ACTIVE"):
        version = (await api.data("query ($id: ID!) { node(id: $id) { ... on Contract { version } } }",
                                  {"id": new_id}))["node"]["version"]
        await api.step(f"transitionContract LIJ-SUR-003 to {to}", TRANSITION, {"id": new_id, "v": version, "to": to},
                       trim=payload("transitionContract"))
    await api.step("transitionContract LIJ-SUR-001 (with consent) to TERMINATED", TRANSITION,
                   {"id": old["id"], "v": old["version"], "to": "TERMINATED"}, trim=payload("transitionContract"))
    trim = only("Tsubame Research Inc.", "Panelist Hub Pte. Ltd.")
    await handlings(api, "handlings(LIJ-0001) today: Tsubame, Panelist Hub", "LIJ-0001", None, trim)
    await handlings(api, f"handlings(LIJ-0001, asOf: {YESTERDAY}): Tsubame, Panelist Hub", "LIJ-0001", YESTERDAY,
                    trim)
    await api.step("complianceFindings: SUB_ENTRUSTMENT_WITHOUT_CONSENT", FINDINGS, trim=lambda d: [
        f"{f['severity']} {f['code']}: {f['message']}" for f in d["complianceFindings"]
        if f["code"] == "SUB_ENTRUSTMENT_WITHOUT_CONSENT"])


async def s5_record_provision(api: Api):
    """Bullet 5: provision records the handlings do not show (the demo's LIJ-0003, -0005, -0006, a future day)."""
    [bank] = (await api.data("{ thirdPartyRecipients { provisions { id } } }"))["thirdPartyRecipients"]
    provision = bank["provisions"][0]["id"]
    cases = [
        ("LIJ-0003", TODAY, "cancelled 60 days ago"),
        ("LIJ-0005", TODAY, "STOP_USE completed"),
        ("LIJ-0006", TODAY, "DELETION completed"),
        ("LIJ-0001", "2029-11-25", "three years ahead"),
        ("LIJ-0001", TODAY, "active customer, today: a record the handlings show"),
    ]
    count = "{ provisionRecords { totalCount } }"
    await api.step("provisionRecords.totalCount", count, trim=lambda d: d["provisionRecords"]["totalCount"])
    for ref, day, why in cases:
        variables = {"p": provision, "c": await customer_id(api, ref), "on": day, "items": ["name"]}
        await api.step(f"recordProvision(billing, {ref}, providedOn {day}, [name]) - {why}", RECORD, variables, OFFICER,
                       trim=lambda d: {"record": "written" if d["recordProvision"]["record"] else None,
                                       "errors": d["recordProvision"]["errors"]})
        await api.step("provisionRecords.totalCount", count, trim=lambda d: d["provisionRecords"]["totalCount"])


async def s6_breach_stop_use(api: Api):
    """Bullet 6a: a breach at the business, before and after LIJ-0002's (unscoped) STOP_USE."""
    business = await business_id(api)
    trim = lambda d: d["breachImpact"]["affectedCustomers"]
    await api.step("breachImpact(business).affectedCustomers", BREACH, {"p": business}, trim=trim)
    await api.step("breachImpact(business) affectedCustomers, customersInUse", BREACH_IN_USE, {"p": business},
                   trim=lambda d: d["breachImpact"])
    lij = await customer_id(api, "LIJ-0002")
    submitted = await api.step("submitRequest(LIJ-0002, STOP_USE)", SUBMIT, {"c": lij, "kind": "STOP_USE"}, OFFICER,
                               trim=lambda d: d["submitRequest"]["errors"])
    await complete(api, "STOP_USE", submitted["submitRequest"]["request"]["id"])
    await api.step("after: breachImpact(business).affectedCustomers", BREACH, {"p": business}, trim=trim)
    await api.step("after: breachImpact(business) affectedCustomers, customersInUse", BREACH_IN_USE, {"p": business},
                   trim=lambda d: d["breachImpact"])


async def s6_breach_reportable(api: Api):
    """Bullets 6b and 6c: which items make a breach reportable, and a malicious cause."""
    business = await business_id(api)
    trim = lambda d: {k: d["breachImpact"][k] for k in ("affectedCustomers", "reportable", "reasons")}
    for codes in (["amount"], ["credit_card_number"], ["email"]):
        await api.step(f"breachImpact(business, dataItemCodes: {codes})", BREACH, {"p": business, "codes": codes},
                       trim=trim)
    for codes in (["amount"], ["email"]):
        await api.step(f"breachImpact(business, dataItemCodes: {codes}, cause: MALICIOUS, discoveredOn: 2026-11-20)",
                       BREACH_CAUSE, {"p": business, "codes": codes, "cause": "MALICIOUS", "found": "2026-11-20"},
                       trim=lambda d: d["breachImpact"])


async def s7_cancel_next_month(api: Api):
    """Bullet 7a: LIJ-0002 cancels with a date next month."""
    lij = await customer_id(api, "LIJ-0002")
    await api.step(f"cancelCustomer(LIJ-0002, cancelledOn: {NEXT_MONTH})", CANCEL, {"id": lij, "on": NEXT_MONTH},
                   OFFICER, trim=payload("cancelCustomer"))
    await api.step("LIJ-0002 status, cancelledOn (today)", CUSTOMER, {"ref": "LIJ-0002"},
                   trim=lambda d: {k: d["customerByRef"][k] for k in ("status", "cancelledOn")})
    for day in ("2026-12-24", NEXT_MONTH):
        await api.step(f"LIJ-0002 status(asOf: {day})", STATUS_THEN, {"ref": "LIJ-0002", "asOf": day},
                       trim=lambda d: d["customerByRef"]["statusThen"])
    trim = only("Loveinn Japan", "Financial institutions")
    await handlings(api, "handlings(LIJ-0002) today", "LIJ-0002", None, trim)
    await handlings(api, f"handlings(LIJ-0002, asOf: {NEXT_MONTH})", "LIJ-0002", NEXT_MONTH, trim)


async def s7_cancel_before_registration(api: Api):
    """Bullet 7b: a cancellation dated before registration (a customer registered today; the demo's LIJ-0001)."""
    await api.step("registerCustomer LIJ-9002 today", REGISTER, {"ref": "LIJ-9002", "items": ["name", "email"]},
                   OFFICER, trim=lambda d: d["registerCustomer"]["errors"])
    for ref, day in (("LIJ-9002", LAST_MONTH), ("LIJ-0001", BEFORE_REGISTRATION)):
        await api.step(f"cancelCustomer({ref}, cancelledOn: {day})", CANCEL,
                       {"id": await customer_id(api, ref), "on": day}, OFFICER, trim=payload("cancelCustomer"))
        await api.step(f"{ref} status, cancelledOn", CUSTOMER, {"ref": ref},
                       trim=lambda d: {k: d["customerByRef"][k] for k in ("status", "cancelledOn")})


async def _kumo(api: Api) -> dict:
    [edge] = (await api.data(SUBCONTRACTOR, {"name": "Kumo"}))["subcontractors"]["edges"]
    return edge["node"]


async def s8_moved_abroad_today(api: Api):
    """Not in issue 12: Kumo Hosting moved to the US today, with no APPI Art. 28 basis."""
    kumo = await _kumo(api)
    await api.step("updateSubcontractor(Kumo, country: US)", MOVE_SUBCONTRACTOR,
                   {"id": kumo["id"], "v": kumo["version"], "country": "US"}, trim=payload("updateSubcontractor"))
    trim = only("Kumo Hosting K.K.")
    await handlings(api, f"handlings(LIJ-0001, asOf: {LAST_MONTH}): Kumo", "LIJ-0001", LAST_MONTH, trim)
    await handlings(api, "handlings(LIJ-0001) today: Kumo", "LIJ-0001", None, trim)


async def s8_moved_abroad_from_a_past_day(api: Api):
    """Not in issue 12: Kumo Hosting's move to the US recorded as of 2026-11-01 (a correction of the past)."""
    kumo = await _kumo(api)
    await api.step("updateSubcontractor(Kumo, country: US, effectiveOn: 2026-11-01)", MOVE_SUBCONTRACTOR_ON,
                   {"id": kumo["id"], "v": kumo["version"], "country": "US", "on": "2026-11-01"},
                   trim=payload("updateSubcontractor"))
    trim = only("Kumo Hosting K.K.")
    await handlings(api, f"handlings(LIJ-0001, asOf: {LAST_MONTH}): Kumo", "LIJ-0001", LAST_MONTH, trim)
    await handlings(api, "handlings(LIJ-0001, asOf: 2026-11-10): Kumo", "LIJ-0001", "2026-11-10", trim)


SCENARIOS = [
    s1_before_registration_demo, s1_before_registration_new_customer,
    s2_suspended_contract, s2_removed_entrustment,
    s3_phone_withdrawn_and_given, s3_phone_nearest_old_request, s3_deletion_of_phone, s3_deletion_whole,
    s3_stop_use_marketing_only, s3_stop_use_whole,
    s4_re_entrustment_without_consent,
    s5_record_provision,
    s6_breach_stop_use, s6_breach_reportable,
    s7_cancel_next_month, s7_cancel_before_registration,
    s8_moved_abroad_today, s8_moved_abroad_from_a_past_day,
]


# --- running ---------------------------------------------------------------------------------


async def demo_template(url: str) -> dict[Role, str]:
    migrate.upgrade(url)
    database = Database.connect(url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=CLOCK)
        issued = {role: (await tokens.create_token(session, name=f"scenarios-{role.lower()}", role=role))[1]
                  for role in Role}
    await database.dispose()
    return issued


async def postgres_admin(server_url: str, *statements: str) -> None:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await admin.dispose()


async def run(args) -> dict:
    import sqlalchemy as sa
    folder = Path(tempfile.mkdtemp(prefix="pigw-scenarios-"))
    made: list[str] = []
    try:
        if args.postgres:
            template = f"pigw_scen_{os.getpid()}_t"
            await postgres_admin(args.postgres, f'CREATE DATABASE "{template}"')
            made.append(template)
            template_url = sa.make_url(args.postgres).set(database=template).render_as_string(hide_password=False)
        else:
            template_url = f"sqlite+aiosqlite:///{folder / 'template.db'}"
        issued = await demo_template(template_url)
        results = {}
        for n, scenario in enumerate(SCENARIOS):
            if args.only and scenario.__name__ not in args.only:
                continue
            if args.postgres:
                name = f"pigw_scen_{os.getpid()}_{n}"
                await postgres_admin(args.postgres, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                made.append(name)
                url = sa.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            else:
                path = folder / f"{scenario.__name__}.db"
                shutil.copy(folder / "template.db", path)
                url = f"sqlite+aiosqlite:///{path}"
            database = Database.connect(url)
            app = create_app(load_settings(database_url=url), database=database, clock=CLOCK)
            log: list[dict] = []
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
                await scenario(Api(c, issued, log))
            await database.dispose()
            results[scenario.__name__] = {"doc": scenario.__doc__, "steps": log}
        return results
    finally:
        if made:
            await postgres_admin(args.postgres, *(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in made[::-1]))
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the answers here as JSON as well")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (postgresql+asyncpg://...); default SQLite")
    parser.add_argument("--only", nargs="*", help="scenario function names")
    args = parser.parse_args()
    source = Path(registry.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"], check=False,
                            capture_output=True, text=True).stdout.strip()
    results = asyncio.run(run(args))
    out = {"source": str(source), "commit": commit, "backend": "postgresql" if args.postgres else "sqlite",
           "today": TODAY, "scenarios": results}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(f"# pi-gateway at {source} ({commit}), {out['backend']}, today {TODAY}")
    for name, scenario in results.items():
        print(f"\n## {name}: {scenario['doc']}")
        for step in scenario["steps"]:
            print(f"- {step['step']}")
            answer = step["answer"]
            if isinstance(answer, dict) and answer and all(isinstance(v, str) for v in answer.values()):
                for key, value in answer.items():
                    print(f"    {key}: {value}")
            else:
                print(f"    {json.dumps(answer, ensure_ascii=False)}")


if __name__ == "__main__":
    sys.exit(main())
