"""domain.profile_patch / domain.profile_rules: validation paths and patch building (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.commands import NewCandidate, ProfilePatch, ValidationFailed
from domain.profile_patch import (
    apply_patch,
    created_parts,
    merge_skills,
    validate_new,
    validate_patch,
    years_of_experience,
)
from domain.records import Education, Experience, Link, Location, Money, Preferences, Skill
from tests.factories import candidate

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def errors_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[tuple[str, ...], str]:
    return {e.path: e.message for e in exc.value.errors}


def new(**over: Any) -> NewCandidate:
    return NewCandidate(**{"name": "Asha Rao", "email": "asha@example.com", **over})


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def test_validate_new_normalizes_email_name_and_skill_names() -> None:
    got = validate_new(
        new(name="  Asha  ", email=" Asha@Example.COM ", skills=(Skill(" go ", 3, 1),))
    )
    assert (got.name, got.email) == ("Asha", "asha@example.com")
    assert got.skills == (Skill("go", 3, 1),)


def test_validate_new_reports_every_problem_at_its_input_path() -> None:
    bad = new(
        name=" ",
        email="not-an-email",
        skills=(Skill("python", 0, 1.0), Skill("go", 6, -1.0), Skill("python", 3, 61.0)),
        attributes={"ok": 1, "bad-key": 2, "nested": {"a.b": 1, "$where": 2}},
    )
    with pytest.raises(ValidationFailed) as exc:
        validate_new(bad)
    assert errors_of(exc) == {
        ("input", "name"): "must not be empty",
        ("input", "email"): "is not an email address",
        ("input", "skills", "0", "level"): "must be between 1 and 5",
        ("input", "skills", "1", "level"): "must be between 1 and 5",
        ("input", "skills", "1", "years"): "must be between 0 and 60",
        ("input", "skills", "2", "years"): "must be between 0 and 60",
        ("input", "skills", "2", "name"): "appears more than once",
        ("input", "attributes", "bad-key"): "must be letters, digits or _ (at most 64)",
        ("input", "attributes", "nested", "a.b"): "must not contain '$', '.' or NUL",
        ("input", "attributes", "nested", "$where"): "must not contain '$', '.' or NUL",
    }


@pytest.mark.parametrize(
    ("email", "ok"),
    [("a@b.co", True), ("a.b+c@x.example.org", True), ("a@b", False), ("a b@c.de", False),
     ("@c.de", False), ("a@@c.de", False), ("", False)],
)  # fmt: skip
def test_email_format(email: str, ok: bool) -> None:
    if ok:
        validate_new(new(email=email))
    else:
        with pytest.raises(ValidationFailed):
            validate_new(new(email=email))


@pytest.mark.parametrize(
    ("skill", "ok"),
    [(Skill("a", 1, 0.0), True), (Skill("a", 5, 60.0), True), (Skill("a", 0, 1.0), False),
     (Skill("a", 6, 1.0), False), (Skill("a", 3, -0.5), False), (Skill("a", 3, 60.5), False),
     (Skill("a", 3, float("nan")), False), (Skill(" ", 3, 1.0), False)],
)  # fmt: skip
def test_skill_bounds(skill: Skill, ok: bool) -> None:
    if ok:
        validate_patch(ProfilePatch(skills_upsert=(skill,)))
    else:
        with pytest.raises(ValidationFailed) as exc:
            validate_patch(ProfilePatch(skills_upsert=(skill,)))
        assert all(e.path[:3] == ("input", "skillsUpsert", "0") for e in exc.value.errors)


def test_at_most_100_skills_new_and_after_merge() -> None:
    hundred = tuple(Skill(f"s{i}", 3, 1.0) for i in range(100))
    validate_new(new(skills=hundred))
    with pytest.raises(ValidationFailed) as exc:
        validate_new(new(skills=(*hundred, Skill("one-more", 3, 1.0))))
    assert ("input", "skills") in errors_of(exc)
    profile = candidate(skills=hundred)
    apply_patch(profile, ProfilePatch(skills_upsert=(Skill("s1", 5, 2.0),)), NOW)  # replaces
    with pytest.raises(ValidationFailed) as exc:
        apply_patch(profile, ProfilePatch(skills_upsert=(Skill("new", 5, 2.0),)), NOW)
    assert errors_of(exc) == {("input", "skillsUpsert"): "a profile has at most 100 skills"}


@pytest.mark.parametrize(
    ("key", "ok"),
    [("_x", True), ("a" * 64, True), ("Ab_9", True), ("a" * 65, False), ("1abc", False),
     ("foo-bar", False), ("a.b", False), ("$set", False), ("", False), ("é", False)],
)  # fmt: skip
def test_top_level_attribute_keys(key: str, ok: bool) -> None:
    patch = ProfilePatch(attributes_set={key: 1})
    if ok:
        validate_patch(patch)
    else:
        with pytest.raises(ValidationFailed) as exc:
            validate_patch(patch)
        assert [e.path for e in exc.value.errors] == [("input", "attributesSet", key)]


def test_attribute_nesting_depth_is_at_most_4() -> None:
    validate_patch(ProfilePatch(attributes_set={"deep": nested(4)}))
    validate_patch(ProfilePatch(attributes_set={"deep": [[[[1]]]]}))
    with pytest.raises(ValidationFailed) as exc:
        validate_patch(ProfilePatch(attributes_set={"deep": nested(5)}))
    assert errors_of(exc) == {
        ("input", "attributesSet", "deep", "k", "k", "k", "k"): "nests deeper than 4 levels"
    }
    with pytest.raises(ValidationFailed):
        validate_patch(ProfilePatch(attributes_set={"deep": [[[[[1]]]]]}))


def test_attribute_values_must_be_json_like_and_finite() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_patch(
            ProfilePatch(attributes_set={"when": NOW, "inf": float("inf"), "list": [1, {2}]})
        )
    assert errors_of(exc) == {
        ("input", "attributesSet", "when"): "must be a JSON value",
        ("input", "attributesSet", "inf"): "must be a finite number",
        ("input", "attributesSet", "list", "1"): "must be a JSON value",
    }


def test_attributes_size_and_key_count_limits() -> None:
    # {"a":"xxx..."} is 8 bytes of JSON around the value: exactly 16 KiB is allowed.
    validate_new(new(attributes={"a": "x" * (16 * 1024 - 8)}))
    assert len(json.dumps({"a": "x" * (16 * 1024 - 8)}, separators=(",", ":"))) == 16 * 1024
    with pytest.raises(ValidationFailed) as exc:
        validate_new(new(attributes={"a": "x" * (16 * 1024 - 7)}))
    assert errors_of(exc) == {("input", "attributes"): "attributes exceed 16384 bytes"}
    validate_new(new(attributes={f"k{i}": i for i in range(64)}))
    with pytest.raises(ValidationFailed) as exc:
        validate_new(new(attributes={f"k{i}": i for i in range(65)}))
    assert errors_of(exc) == {("input", "attributes"): "at most 64 attributes"}


def test_attribute_limits_apply_to_the_merged_profile() -> None:
    profile = candidate(attributes={f"k{i}": i for i in range(63)})
    apply_patch(profile, ProfilePatch(attributes_set={"k0": 9, "new": 1}), NOW)  # 64 keys
    with pytest.raises(ValidationFailed) as exc:
        apply_patch(profile, ProfilePatch(attributes_set={"new": 1, "new2": 2}), NOW)
    assert errors_of(exc) == {("input", "attributesSet"): "at most 64 attributes"}
    # unsetting in the same patch makes room
    patch = ProfilePatch(attributes_set={"new": 1, "new2": 2}, attributes_unset=("k1",))
    apply_patch(profile, patch, NOW)
    big = candidate(attributes={"blob": "x" * 16_000})
    with pytest.raises(ValidationFailed):
        apply_patch(big, ProfilePatch(attributes_set={"more": "y" * 1000}), NOW)


def test_empty_patch_is_nothing_to_change() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_patch(ProfilePatch())
    assert errors_of(exc) == {("input",): "nothing to change"}


def test_patch_field_checks() -> None:
    patch = ProfilePatch(
        set_fields={"name": "", "email": "x", "headline": "h" * 201, "version": 3},
        skills_upsert=(Skill("go", 3, 1.0),),
        skills_remove=("go", ""),
        experience=(Experience("Acme", "Dev", start=NOW, end=datetime(2020, 1, 1, tzinfo=UTC)),),
        education=(Education("IIT", "BTech", None, 2015, 2011),),
        links=(Link("github", ""),),
        preferences=Preferences(True, (), Money(-1, "rupees")),
        attributes_set={"a": 1},
        attributes_unset=("a", "b.c"),
    )
    with pytest.raises(ValidationFailed) as exc:
        validate_patch(patch)
    assert set(errors_of(exc)) == {
        ("input", "set", "name"),
        ("input", "set", "email"),
        ("input", "set", "headline"),
        ("input", "set", "version"),
        ("input", "skillsRemove", "0"),
        ("input", "skillsRemove", "1"),
        ("input", "experience", "0", "end"),
        ("input", "education", "0", "endYear"),
        ("input", "links", "0", "url"),
        ("input", "preferences", "salaryExpectation", "amount"),
        ("input", "preferences", "salaryExpectation", "currency"),
        ("input", "attributesUnset", "a"),
        ("input", "attributesUnset", "b.c"),
    }


def test_apply_patch_values_and_changed_parts_in_order() -> None:
    profile = candidate(skills=(Skill("python", 4, 5.0), Skill("sql", 2, 1.0)))
    history = (
        Experience(
            "Acme", "Dev", datetime(2020, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
        ),
        Experience("Beta", "Dev", datetime(2022, 6, 1, tzinfo=UTC), None),
    )
    patch = ProfilePatch(
        set_fields={
            "email": " New@Example.com", "name": " Asha R ", "location": Location("Pune", "IN")
        },
        skills_upsert=(Skill("go", 3, 1.0), Skill("python", 5, 6.0)),
        skills_remove=("sql",),
        experience=history,
        attributes_unset=("notice_period_days",),
    )  # fmt: skip
    change = apply_patch(profile, patch, NOW)
    assert change.values == {
        "email": "new@example.com",
        "name": "Asha R",
        "location": Location("Pune", "IN"),
        "skills": (Skill("python", 5, 6.0), Skill("go", 3, 1.0)),
        "experience": history,
        "years_experience": 6,  # 2020-01 .. 2026-11, overlap counted once
    }
    assert change.attributes_set == {}
    assert change.attributes_unset == ("notice_period_days",)
    assert change.changed == ("name", "email", "location", "skills", "experience", "attributes")


def test_merge_skills_replaces_in_place_appends_and_removes() -> None:
    current = (Skill("a", 1, 1.0), Skill("b", 2, 2.0), Skill("c", 3, 3.0))
    got = merge_skills(current, (Skill("d", 4, 4.0), Skill("b", 5, 5.0)), ("a", "missing"))
    assert got == (Skill("b", 5, 5.0), Skill("c", 3, 3.0), Skill("d", 4, 4.0))


def test_years_of_experience_counts_months_once() -> None:
    def d(y: int, m: int, day: int = 1) -> datetime:
        return datetime(y, m, day, tzinfo=UTC)

    assert years_of_experience((), NOW) == 0
    # the seed's layout: consecutive stints from the first of a month, the last one current
    seeded = (Experience("A", "x", d(2019, 11), d(2022, 3)), Experience("B", "y", d(2022, 3), None))
    assert years_of_experience(seeded, NOW) == 7
    overlapping = (
        Experience("A", "x", d(2010, 1), d(2015, 1)),
        Experience("B", "y", d(2012, 1), d(2013, 1)),
    )
    assert years_of_experience(overlapping, NOW) == 5
    gap = (
        Experience("A", "x", d(2010, 1), d(2011, 7)),
        Experience("B", "y", d(2015, 1), d(2016, 7)),
    )
    assert years_of_experience(gap, NOW) == 3
    assert years_of_experience((Experience("A", "x", d(2020, 1, 15), d(2021, 1, 14)),), NOW) == 0


def test_created_parts_lists_what_a_new_profile_fills_in() -> None:
    assert created_parts(new()) == ("name", "email")
    filled = new(headline="Dev", skills=(Skill("go", 3, 1.0),), attributes={"a": 1})
    assert created_parts(filled) == ("name", "email", "headline", "skills", "attributes")
