"""Every failure a registry function reports to its caller.

    RegistryError                  one problem: an ErrorCode, the offending input field, a message
    ├── NotFound                   NOT_FOUND                      an ID or code that names nothing
    ├── InvalidInput               INVALID_INPUT                  malformed input (empty name, bad country...)
    ├── Duplicate                  DUPLICATE                      a unique fact registered twice
    ├── VersionConflict            VERSION_CONFLICT               expectedVersion differs from the stored one
    ├── InvalidTransition          INVALID_TRANSITION             a lifecycle move outside the allowed graph
    ├── PurposeOutOfScope          PURPOSE_OUT_OF_SCOPE           purposes or items of another business
    ├── ManagementSystemInadequate MANAGEMENT_SYSTEM_INADEQUATE   activation without an adequate assessment
    ├── MissingContractClauses     MISSING_CONTRACT_CLAUSES       activation without the required clauses
    ├── SubEntrustmentNotPermitted SUB_ENTRUSTMENT_NOT_PERMITTED  re-entrustment the parent may not make
    ├── ProvisionNotApplicable     PROVISION_NOT_APPLICABLE       a provision record the handlings that day do not show
    └── OptOutNotPermitted         OPT_OUT_NOT_PERMITTED          an opt-out provision APPI Art. 27(2) does not allow
    RegistryErrors                 several of the above at once (`.problems`), raised when a
                                   write fails more than one rule so the caller sees them all

A function that raises any of these has written nothing.
"""

from registry.enums import ErrorCode


class RegistryError(Exception):
    code: ErrorCode

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def problems(self) -> list["RegistryError"]:
        return [self]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


class NotFound(RegistryError):
    code = ErrorCode.NOT_FOUND


class InvalidInput(RegistryError):
    code = ErrorCode.INVALID_INPUT


class Duplicate(RegistryError):
    code = ErrorCode.DUPLICATE


class VersionConflict(RegistryError):
    code = ErrorCode.VERSION_CONFLICT


class InvalidTransition(RegistryError):
    code = ErrorCode.INVALID_TRANSITION


class PurposeOutOfScope(RegistryError):
    code = ErrorCode.PURPOSE_OUT_OF_SCOPE


class ManagementSystemInadequate(RegistryError):
    code = ErrorCode.MANAGEMENT_SYSTEM_INADEQUATE


class MissingContractClauses(RegistryError):
    code = ErrorCode.MISSING_CONTRACT_CLAUSES


class SubEntrustmentNotPermitted(RegistryError):
    code = ErrorCode.SUB_ENTRUSTMENT_NOT_PERMITTED


class ProvisionNotApplicable(RegistryError):
    code = ErrorCode.PROVISION_NOT_APPLICABLE


class OptOutNotPermitted(RegistryError):
    code = ErrorCode.OPT_OUT_NOT_PERMITTED


class RegistryErrors(RegistryError):
    """Several problems found in one write; `code` and `field` are the first one's."""

    def __init__(self, problems: list[RegistryError]):
        if not problems:
            raise ValueError("RegistryErrors needs at least one problem")
        first = problems[0]
        super().__init__("; ".join(p.message for p in problems), field=first.field)
        self.code = first.code
        self._problems = list(problems)

    @property
    def problems(self) -> list[RegistryError]:
        return list(self._problems)


def raise_all(problems: list[RegistryError]) -> None:
    """Raise the problems found, if any: one as itself, several together."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise RegistryErrors(problems)
