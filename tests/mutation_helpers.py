"""What the unit tests of mutations share: viewers, the UserError selection, and running
an operation through the real schema over in-memory datasources."""

from __future__ import annotations

from typing import Any

from strawberry import Schema

from domain.viewer import Role, Viewer
from resolvers.context import Context
from schema.ids import to_global_id

RECRUITER = Viewer(Role.RECRUITER, user_id="r1", company_id=1)
OTHER_RECRUITER = Viewer(Role.RECRUITER, user_id="r2", company_id=2)
ERRORS = "... on UserError { __typename message code }"


async def run(schema: Schema, ds: Any, viewer: Viewer, query: str, **variables: Any) -> Any:
    """The operation's data; fails the test on any top-level GraphQL error."""
    result = await schema.execute(
        query, variable_values=variables, context_value=Context(ds, viewer=viewer)
    )
    assert result.errors is None, result.errors
    return result.data


def gid(type_name: str, key: object) -> str:
    return to_global_id(type_name, key)
