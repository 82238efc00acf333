from datetime import date

import pytest
from sqlmodel import func, select

from registry.enums import Certification, ContractStatus
from registry.errors import Duplicate, InvalidInput, VersionConflict
from registry.models import AuditEvent, Contract
from registry.validation import (
    COUNTRIES,
    check_corporate_number,
    check_version,
    insert_unique,
    require_codes,
    require_country,
    require_member,
    require_name,
    require_order,
    update_versioned,
)
from tests import factories


def test_a_name_is_stripped():
    assert require_name("  Acme  ", field="name") == "Acme"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_an_empty_name_is_invalid_input_naming_the_field(value):
    with pytest.raises(InvalidInput) as raised:
        require_name(value, field="displayName")
    assert raised.value.field == "displayName"


def test_an_overlong_name_is_invalid_input():
    assert require_name("x" * 10, field="code", max_length=10) == "x" * 10
    with pytest.raises(InvalidInput) as raised:
        require_name("x" * 11, field="code", max_length=10)
    assert raised.value.field == "code"


def test_every_officially_assigned_iso_3166_alpha_2_code_is_known():
    assert len(COUNTRIES) == 249
    assert {"JP", "US", "SS", "BQ", "AX"} <= COUNTRIES
    assert "XK" not in COUNTRIES  # user-assigned, not official


def test_a_country_is_upper_cased():
    assert require_country(" jp ") == "JP"


@pytest.mark.parametrize("value", ["XX", "JPN", "J", "", None, "UK"])
def test_a_country_outside_iso_3166_alpha_2_is_invalid_input(value):
    with pytest.raises(InvalidInput) as raised:
        require_country(value)
    assert raised.value.field == "country"


@pytest.mark.parametrize("number", ["7000012050002", "1180301018771"])
def test_a_corporate_number_with_a_right_check_digit_is_accepted(number):
    assert check_corporate_number(number) == number


@pytest.mark.parametrize(
    "number",
    ["8000012050002", "6000012050002", "700001205000", "70000120500021", "70000120500O2", "７000012050002"],
)
def test_a_malformed_corporate_number_is_invalid_input(number):
    with pytest.raises(InvalidInput) as raised:
        check_corporate_number(number)
    assert raised.value.field == "corporateNumber"


def test_no_corporate_number_is_allowed():
    assert check_corporate_number(None) is None
    assert check_corporate_number("  ") is None


def test_a_list_of_codes_needs_at_least_one_and_keeps_each_once():
    assert require_codes([" P1", "P2", "P1"], field="purposeCodes") == ["P1", "P2"]
    for bad in ([], ["P1", " "]):
        with pytest.raises(InvalidInput) as raised:
            require_codes(bad, field="purposeCodes")
        assert raised.value.field == "purposeCodes"


def test_an_end_before_its_start_is_invalid_input():
    require_order(date(2026, 1, 1), date(2026, 1, 1), field="expiresOn")
    with pytest.raises(InvalidInput) as raised:
        require_order(date(2026, 1, 2), date(2026, 1, 1), field="expiresOn")
    assert raised.value.field == "expiresOn"


def test_a_value_outside_its_vocabulary_is_invalid_input():
    assert require_member("SOC2", Certification, field="certifications") is Certification.SOC2
    with pytest.raises(InvalidInput) as raised:
        require_member("ISO_9001", Certification, field="certifications")
    assert raised.value.field == "certifications"


async def test_a_stale_expected_version_conflicts(session):
    sub = await factories.subcontractor(session)
    check_version(sub, 1)
    with pytest.raises(VersionConflict) as raised:
        check_version(sub, 2)
    assert raised.value.field == "expectedVersion"


async def test_a_versioned_update_bumps_the_version_by_one_only_from_the_expected_one(session):
    sub = await factories.subcontractor(session, name="Before")
    await session.commit()
    await update_versioned(session, sub, expected_version=1, name="After")
    assert (sub.version, sub.name) == (2, "After")
    await session.commit()
    with pytest.raises(VersionConflict):
        await update_versioned(session, sub, expected_version=1, name="Lost")
    await session.refresh(sub)
    assert (sub.version, sub.name) == (2, "After")


async def test_the_unique_constraint_backs_up_the_duplicate_check(session):
    biz = await factories.business(session)
    sub = await factories.subcontractor(session)
    await factories.contract(session, biz, sub, reference="C-1")
    await session.commit()
    ids = (biz.id, sub.id)
    twin = Contract(
        business_id=ids[0],
        subcontractor_id=ids[1],
        reference="C-1",
        status=ContractStatus.DRAFT,
        effective_from=date(2026, 1, 1),
        expires_on=date(2027, 1, 1),
    )
    with pytest.raises(Duplicate) as raised:
        await insert_unique(session, twin, Duplicate("taken", field="reference"))
    assert raised.value.field == "reference"
    assert (await session.exec(select(func.count()).select_from(Contract))).one() == 1
    assert (await session.exec(select(func.count()).select_from(AuditEvent))).one() == 0
