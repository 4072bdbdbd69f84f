"""Mutation use cases: authorize, write through a writer port, refresh the request's
loaders, tell the caches. Each takes the request's Context and domain commands, and
returns the record as committed or raises a domain error (schema.mutation maps those
to its union members)."""

from resolvers.mutations.applications import advance_application, apply_to_job
from resolvers.mutations.candidates import create_candidate, update_candidate_profile
from resolvers.mutations.companies import create_company, update_company
from resolvers.mutations.jobs import close_job, post_job, publish_job, update_job

__all__ = [
    "advance_application",
    "apply_to_job",
    "close_job",
    "create_candidate",
    "create_company",
    "post_job",
    "publish_job",
    "update_candidate_profile",
    "update_company",
    "update_job",
]
