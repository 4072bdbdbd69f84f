"""Static limits on a document: depth, aliases and directives per operation.

One validation rule scans each operation once and reports each limit with its own
`extensions.code` (QUERY_TOO_DEEP, ALIAS_LIMIT, DIRECTIVE_LIMIT).

Counting, deliberately:
- depth counts fields with a selection set (`{ jobs { totalCount } }` has depth 1), as
  Strawberry's QueryDepthLimiter did; introspection fields (`__schema`, `__type`) do not
  add depth, since the standard introspection query nests `ofType` deeper than any
  business query and is answered from memory;
- aliases and directives are counted in the operation as executed: a fragment spread
  twice counts its aliases twice (a fragment of 60 aliases spread twice is 120), because
  that is the work the executor does;
- each fragment is summarised once and spreads reuse the summary, so a "fragment bomb"
  (F1 spreads F2 twice, F2 spreads F3 twice, ...) costs linear time while its counts
  grow exponentially and are rejected; fragments are resolved without recursion, so a
  long chain of spreads cannot exhaust the stack; a spread that closes a cycle counts
  nothing here (graphql-core's NoFragmentCycles rejects the document anyway).
Nesting inside one selection set is bounded by graphql-core's parser (200 levels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
ALIAS_LIMIT = "ALIAS_LIMIT"
DIRECTIVE_LIMIT = "DIRECTIVE_LIMIT"
TOKEN_LIMIT = "TOKEN_LIMIT"  # noqa: S105 (an error code, not a secret)


@dataclass(frozen=True, slots=True)
class StaticLimits:
    max_depth: int = 10
    max_aliases: int = 30
    max_directives: int = 50
    max_tokens: int = 5000


@dataclass(slots=True)
class _Summary:
    """What one selection set (an operation's or a fragment's) contributes."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    # (fragment name, field depth at the spread, or None inside introspection)
    spreads: list[tuple[str, int | None]] = field(default_factory=list)


def _scan(selection_set: SelectionSetNode, summary: _Summary, depth: int | None) -> None:
    for selection in selection_set.selections:
        summary.directives += len(selection.directives or ())
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                summary.aliases += 1
            if selection.selection_set is not None:
                inner = None
                if depth is not None and not selection.name.value.startswith("__"):
                    inner = depth + 1
                    summary.depth = max(summary.depth, inner)
                _scan(selection.selection_set, summary, inner)
        elif isinstance(selection, InlineFragmentNode):
            _scan(selection.selection_set, summary, depth)
        elif isinstance(selection, FragmentSpreadNode):
            summary.spreads.append((selection.name.value, depth))


def _local(node: OperationDefinitionNode | FragmentDefinitionNode) -> _Summary:
    summary = _Summary(directives=len(node.directives or ()))
    _scan(node.selection_set, summary, 0)
    return summary


def _resolve_fragments(document: DocumentNode) -> dict[str, _Summary]:
    """Each fragment's totals including what it spreads, in dependency order."""
    local = {
        d.name.value: _local(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    done: dict[str, _Summary] = {}
    for root in local:
        stack, entered = [root], set()
        while stack:
            name = stack[-1]
            if name in done:
                stack.pop()
                continue
            pending = [s for s, _ in local[name].spreads if s in local and s not in done]
            if name not in entered:
                entered.add(name)
                # a pending fragment already entered on this walk closes a cycle: skip it
                stack.extend(s for s in pending if s not in entered)
                continue
            stack.pop()
            done[name] = _total(local[name], done)
    return done


def _total(summary: _Summary, resolved: dict[str, _Summary]) -> _Summary:
    total = _Summary(summary.depth, summary.aliases, summary.directives)
    for name, at in summary.spreads:
        inner = resolved.get(name)
        if inner is None:  # unknown fragment or a cycle: other rules report it
            continue
        total.aliases += inner.aliases
        total.directives += inner.directives
        if at is not None:
            total.depth = max(total.depth, at + inner.depth)
    return total


def operation_summaries(document: DocumentNode) -> dict[OperationDefinitionNode, _Summary]:
    fragments = _resolve_fragments(document)
    return {
        d: _total(_local(d), fragments)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def _error(
    code: str, what: str, operation: OperationDefinitionNode, actual: int, limit: int
) -> GraphQLError:
    name = operation.name.value if operation.name else "anonymous"
    return GraphQLError(
        f"Operation '{name}' has {what} {actual}; the limit is {limit}.",
        operation,
        extensions={"code": code, "limit": limit, "actual": actual},
    )


def parse_error_code(error: GraphQLError) -> str | None:
    """The limit code of a graphql-core parse error that is a limit (not a typo)."""
    if "Document contains more than" in error.message:
        return TOKEN_LIMIT
    if "nested too deeply" in error.message:  # the parser's own 200-level guard
        return QUERY_TOO_DEEP
    return None


def limits_rule(limits: StaticLimits) -> type[ValidationRule]:
    """A validation rule for these limits. Build it once: the validation cache is keyed
    by the rule classes, so a class per request would never hit."""

    class OperationLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for operation, s in operation_summaries(context.document).items():
                checks = (
                    (QUERY_TOO_DEEP, "depth", s.depth, limits.max_depth),
                    (ALIAS_LIMIT, "aliases", s.aliases, limits.max_aliases),
                    (DIRECTIVE_LIMIT, "directives", s.directives, limits.max_directives),
                )
                for code, what, actual, limit in checks:
                    if actual > limit:
                        context.report_error(_error(code, what, operation, actual, limit))

    return OperationLimits
