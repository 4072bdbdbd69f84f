"""How long a response may be cached, declared per type and field: the one mapping.

The response cache (`gateway.response_cache`) computes an operation's max-age as the
minimum over every type it touches and every field override it selects. Every object
type lists all its fields: a field missing here (a new field nobody classified) makes
the operation uncacheable (max-age 0) rather than silently cached for its parent's age,
and `tests/unit/test_cache_policy.py` fails until it is classified. Unknown types are 0.

- `max_age`: seconds, or None for a value type that adds no limit of its own (it lives
  inside an entity whose age already counts: Money inside Job, PageInfo in a connection).
- `entity`: the entity whose writes change this type's data; a cached response records
  the version of each (`datasources.cache.keys`), so a write makes it unreachable.
- `private`: personal fields (domain.policy.PERSONAL_FIELDS): an operation selecting one
  is cached per user, or not at all for a viewer with no identity.
- `field_max_age`: a field cached for less than its type (none needed yet).

Introspection fields and `__typename` describe the schema and never lower the age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TypeHint:
    max_age: int | None
    entity: str | None
    fields: frozenset[str]
    private: frozenset[str] = frozenset()
    field_max_age: Mapping[str, int] = field(default_factory=dict)


def _hint(max_age: int | None, entity: str | None, names: str, private: str = "") -> TypeHint:
    return TypeHint(max_age, entity, frozenset(names.split()), frozenset(private.split()))


COMPANY, JOB, CANDIDATE, APPLICATION = 300, 60, 30, 10  # seconds
ANALYTICS, ANALYTICS_FUNNEL = 60, 30
_CONNECTION, _EDGE, _VALUE = "edges pageInfo totalCount", "cursor node", None
_NEVER = 0  # mutation results

HINTS: dict[str, TypeHint] = {
    "Query": _hint(
        None, None, "node nodes company companies job jobs candidate candidates application "
        "analytics"
    ),
    "Company": _hint(
        COMPANY, "Company",
        "id slug name industry size headquarters website foundedYear description "
        "createdAt updatedAt jobs",
    ),
    "CompanyConnection": _hint(COMPANY, "Company", _CONNECTION),
    "CompanyEdge": _hint(COMPANY, "Company", _EDGE),
    "Job": _hint(
        JOB, "Job",
        "id title description location city country remote employmentType seniority "
        "experienceMin experienceMax salary skills status postedAt createdAt updatedAt "
        "company applications matchingCandidates",
    ),
    "JobConnection": _hint(JOB, "Job", _CONNECTION),
    "JobEdge": _hint(JOB, "Job", _EDGE),
    # Applicant counts (`Job.applications { totalCount }`) are the board's freshest part.
    "Application": _hint(
        APPLICATION, "Application",
        "id status source appliedAt updatedAt job candidate history",
    ),
    # Moves write history rows and bump the Application version, like any other change.
    "ApplicationStatusChange": _hint(_VALUE, None, "at by from note to"),
    "ApplicationConnection": _hint(APPLICATION, "Application", _CONNECTION),
    "ApplicationEdge": _hint(APPLICATION, "Application", _EDGE),
    "Candidate": _hint(
        CANDIDATE, "Candidate",
        "id name headline summary location skills experience education links preferences "
        "yearsExperience version createdAt updatedAt applications matchingJobs "
        "email phone attributes",
        private="email phone attributes",
    ),
    "CandidateConnection": _hint(CANDIDATE, "Candidate", _CONNECTION),
    "CandidateEdge": _hint(CANDIDATE, "Candidate", _EDGE),
    "Preferences": _hint(
        _VALUE, None, "remote locations employmentTypes salaryExpectation",
        private="salaryExpectation",
    ),
    "PageInfo": _hint(_VALUE, None, "hasNextPage hasPreviousPage startCursor endCursor"),
    "SalaryRange": _hint(_VALUE, None, "min max currency"),
    "Money": _hint(_VALUE, None, "amount currency"),
    "Location": _hint(_VALUE, None, "city country"),
    "Skill": _hint(_VALUE, None, "name level years"),
    "Experience": _hint(_VALUE, None, "company title start end highlights"),
    "Education": _hint(_VALUE, None, "institution degree field startYear endYear"),
    "Link": _hint(_VALUE, None, "kind url"),
    # Mutation results: never cached (only a query is), classified all the same.
    "Mutation": _hint(
        _NEVER, None,
        "createCompany updateCompany postJob updateJob publishJob closeJob createCandidate "
        "updateCandidateProfile applyToJob advanceApplication",
    ),
    # Subscriptions: a stream, never a cached response.
    "Subscription": _hint(
        _NEVER, None,
        "jobPosted jobUpdated applicationSubmitted applicationStatusChanged "
        "candidateProfileUpdated",
    ),
    "CompanyPayload": _hint(_NEVER, None, "company"),
    "JobPayload": _hint(_NEVER, None, "job"),
    "CandidatePayload": _hint(_NEVER, None, "candidate"),
    "ApplicationPayload": _hint(_NEVER, None, "application"),
    "InvalidInput": _hint(_NEVER, None, "message code fieldErrors"),
    "FieldError": _hint(_NEVER, None, "path message"),
    "NotFound": _hint(_NEVER, None, "message code"),
    "Conflict": _hint(_NEVER, None, "message code"),
    "AlreadyApplied": _hint(_NEVER, None, "message code applicationId"),
    "Forbidden": _hint(_NEVER, None, "message code"),
    "InvalidTransition": _hint(_NEVER, None, "message code from allowed"),
    # Aggregates expire by TTL only (no entity: no type version in their keys). Every
    # job write bumps the Job version, so version-keyed aggregates would be invalidated
    # by each posting or edit anywhere on a busy board, and recomputed for a figure that
    # moved by one row; a dashboard tolerates a minute. The funnel moves with each
    # status change of one company's applications: 30 s.
    "Analytics": TypeHint(
        ANALYTICS, None,
        frozenset({"jobStats", "postingsTimeseries", "candidateStats", "skillsGap",
                   "applicationFunnel"}),
        field_max_age={"applicationFunnel": ANALYTICS_FUNNEL},
    ),
    "JobStatsBucket": _hint(
        _VALUE, None,
        "companyId companyName industry country city remote employmentType seniority skill "
        "postedWeek postedMonth currency count salary",
    ),
    "SalaryStats": _hint(_VALUE, None, "count min max avg p50 p90"),
    "TimeseriesPoint": _hint(_VALUE, None, "start count"),
    "ApplicationFunnel": _hint(_VALUE, None, "total stages rejected withdrawn"),
    "FunnelStage": _hint(_VALUE, None, "status count conversion medianDays p90Days"),
    "CandidateStatsBucket": _hint(
        _VALUE, None, "skill country city yearsBucket openToRemote count avgYearsExperience"
    ),
    "SkillGap": _hint(_VALUE, None, "skill demand supply ratio medianSalary"),
    "MedianSalary": _hint(_VALUE, None, "currency median"),
}  # fmt: skip
