"""Fixtures shared by the unit tests of the Kubernetes manifests."""

from __future__ import annotations

import pytest

from tests.deploy import KUSTOMIZATIONS
from tests.kustomize import Resource, build


@pytest.fixture(scope="session", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> list[Resource]:
    """Each kustomization (base, prod), rendered."""
    return build(KUSTOMIZATIONS[request.param])


@pytest.fixture(scope="session")
def prod() -> list[Resource]:
    return build(KUSTOMIZATIONS["prod"])
