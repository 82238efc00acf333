"""No process state at module level: what the gateway keeps across requests belongs to the
objects `create_app` builds (issue 11), so two apps in one process share nothing and a test's
app starts empty.

The scan imports every module of registry/, schema/ and gateway/, notes each module-level
container (dict, list, set, deque and the weak ones, held directly or by a module-level
object of the project's own classes), runs a workload that fills every cache
the gateway has (the data map, every customer's handlings twice, a breach, findings, the
notice, a write, then the reads again), and requires every container to be as it was:
constants pass, a cache hiding at module level does not.
"""

import collections
import importlib
import pkgutil
import weakref

from registry.enums import Role

CONTAINERS = (dict, list, set, collections.deque, weakref.WeakKeyDictionary, weakref.WeakValueDictionary,
              weakref.WeakSet)
SKIPPED = (".migrations", "__main__")  # Alembic's scripts; schema/__main__ prints the SDL when imported


def module_containers() -> dict[str, object]:
    found = {}
    for package in ("registry", "schema", "gateway"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if any(part in info.name for part in SKIPPED):
                continue
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if name.startswith("__"):
                    continue
                if isinstance(value, CONTAINERS):
                    found[f"{info.name}.{name}"] = value
                elif _ours(type(value)) and not isinstance(value, type):
                    # an object of ours at module level: the containers it holds
                    for attribute, held in vars(value).items() if hasattr(value, "__dict__") else ():
                        if isinstance(held, CONTAINERS):
                            found[f"{info.name}.{name}.{attribute}"] = held
    return found


def _ours(kind: type) -> bool:
    return kind.__module__.split(".")[0] in ("registry", "schema", "gateway")


def fingerprint(value) -> tuple:
    items = list(value.items()) if isinstance(value, (dict, weakref.WeakKeyDictionary,
                                                      weakref.WeakValueDictionary)) else list(value)
    return len(items), repr(items)[:20_000]


WORKLOAD = [
    "{ subcontractors(first: 100) { edges { node { name contracts { reference status entrustments "
    "{ purposes { code } dataItems { code } } } } } } }",
    "{ customers(first: 10) { edges { node { externalRef handlings(includeExcluded: true) "
    "{ role party { name } dataItems { code } purposes { code } contract { reference } } } } } }",
    '{ complianceFindings(businessCode: "loveinn-japan") { code } }',
    '{ privacyNotice(businessCode: "loveinn-japan") }',
    "{ businesses { code purposes { code } dataItems { code } } }",
]


async def test_serving_requests_changes_no_module_level_container(api):
    before = {name: fingerprint(value) for name, value in module_containers().items()}
    assert before, "the scan found no module-level container at all: it is not scanning"
    for _ in range(2):
        for query in WORKLOAD:
            assert "errors" not in await api.gql(query, role=Role.ADMIN)
    business = (await api.data('{ business(code: "loveinn-japan") { id } }'))["business"]["id"]
    assert "errors" not in await api.gql("query ($id: ID!) { breachImpact(partyId: $id) { affectedCustomers } }",
                                         {"id": business})
    await api.data('mutation { createSubcontractor(input: {name: "Scan K.K.", country: "JP"}) { errors { code } } }')
    for query in WORKLOAD:
        assert "errors" not in await api.gql(query, role=Role.VIEWER)
    after = {name: fingerprint(value) for name, value in module_containers().items()}
    changed = sorted(name for name in before if after.get(name) != before[name])
    assert changed == [], f"module-level state changed while serving: {changed}"
