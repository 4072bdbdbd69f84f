"""The gateway's limits on an operation, checked before any store is touched.

Error codes (`extensions.code`), each with `limit` and `actual` (or `cost`/`budget`):
- TOKEN_LIMIT      the document has more lexical tokens than `max_tokens`
- QUERY_TOO_DEEP   an operation nests fields deeper than `max_depth`
- ALIAS_LIMIT      an operation (fragments expanded) has more aliases than `max_aliases`
- DIRECTIVE_LIMIT  an operation (fragments expanded) uses more directives than allowed
- COST_LIMIT       the operation's cost exceeds the viewer's budget
The HTTP layer adds BODY_TOO_LARGE, BATCHING_DISABLED, BATCH_LIMIT, RATE_LIMITED and
TIMEOUT (gateway.limits).

Modules: `static` (the validation rule and parse-error codes), `cost` (the cost model),
`check` (`OperationLimits`, the entry point that runs them in order). This package
imports nothing at import time so that `schema.operation` can use `static`.
"""
