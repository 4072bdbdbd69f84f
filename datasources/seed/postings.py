"""Two real job postings, present at every scale as companies 1-2 and jobs 1-2.

Sources: /work/shared/data/seed-postings/. Facts are taken from the postings; the
descriptions are our own short summaries, not the postings' text.

1. "Backend Engineer" posted by Weekday AI for one of its clients: Mumbai, India,
   full-time, minimum 3 years (the posting asks for 3-4), INR 1,500,000-2,800,000 a year
   (15-28 LPA), posted 2026-04-27.
2. "Lead Backend Engineer", 10+ years. Its source names no employer, location, salary or
   posting date. It is attached to an "Undisclosed Employer" company with no website,
   HQ, size or founding year; its location is Mumbai, India as the product brief says;
   it has NO salary (min, max and currency are NULL); the posting date is our choice.

Both are open and posted. Neither states a work mode, and the lead role states no
employment type: both are recorded as onsite, and the lead role as full-time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datasources.seed.plan import JobPlan
from datasources.seed.rows import CompanyRow, JobRow
from datasources.seed.scale import ANCHOR
from datasources.seed.vocabulary import FAMILIES

_BACKEND = next(i for i, f in enumerate(FAMILIES) if f.name == "backend")
_COMPANY_CREATED = ANCHOR - timedelta(days=400)
WEEKDAY_POSTED = datetime(2026, 4, 27, tzinfo=UTC)
LEAD_POSTED = datetime(2026, 10, 12, tzinfo=UTC)

REAL_COMPANIES: tuple[CompanyRow, ...] = (
    CompanyRow(
        id=1,
        slug="weekday-ai",
        name="Weekday AI",
        industry="HR Tech",
        size_band=None,
        headquarters=None,
        website=None,
        founded_year=None,
        description="Hiring platform that publishes roles on behalf of its client companies.",
        created_at=_COMPANY_CREATED,
        updated_at=_COMPANY_CREATED,
    ),
    CompanyRow(
        id=2,
        slug="undisclosed-employer",
        name="Undisclosed Employer",
        industry="Undisclosed",
        size_band=None,
        headquarters=None,
        website=None,
        founded_year=None,
        description="The employer behind this posting is not named in its source.",
        created_at=_COMPANY_CREATED,
        updated_at=_COMPANY_CREATED,
    ),
)

WEEKDAY_SKILLS = [
    "python",
    "fastapi",
    "websockets",
    "rest apis",
    "asyncio",
    "rabbitmq",
    "kafka",
    "distributed systems",
    "docker",
    "aws",
    "gcp",
    "azure",
    "ci/cd",
    "observability",
]
LEAD_SKILLS = [
    "python",
    "fastapi",
    "system design",
    "distributed systems",
    "microservices",
    "event-driven architecture",
    "domain-driven design",
    "design patterns",
    "rest apis",
    "asyncio",
    "postgresql",
    "mysql",
    "mongodb",
    "dynamodb",
    "redis",
    "data modeling",
    "query optimization",
    "kafka",
    "rabbitmq",
    "aws sqs",
    "aws",
    "azure",
    "gcp",
    "docker",
    "kubernetes",
    "ci/cd",
    "observability",
]

_WEEKDAY_TEXT = """\
Weekday AI is hiring on behalf of a client in Mumbai: a Backend Engineer to build and run \
Python services, mostly on FastAPI, for a product with real-time features.

You will design APIs and services that stay up when parts of the system fail, push events \
to clients over WebSockets, and move background work through message queues such as \
RabbitMQ or Kafka. Expect to tune for concurrency and latency, review code, and work \
closely with frontend, DevOps and product.

We are looking for 3-4 years of production backend work, fluency with async Python, and a \
working grasp of HTTP, queues and distributed-systems failure modes. Docker, a public \
cloud, CI/CD and observability tooling are a plus."""

_LEAD_TEXT = """\
A Lead Backend Engineer to own the architecture of a Python and FastAPI backend while \
staying hands-on in the code.

You will set service boundaries and data ownership, choose between modular monolith, \
event-driven and microservice designs, write the ADRs and design documents, and lead the \
code reviews. The work spans relational and NoSQL schema design, brokers such as Kafka, \
RabbitMQ and SQS, idempotent retries and eventual consistency, and containerised \
deployments on a public cloud with Kubernetes.

We are looking for 10+ years in backend engineering, including several with FastAPI, deep \
Python, and a record of leading architecture decisions and mentoring engineers."""

REAL_JOB_PLANS: tuple[JobPlan, ...] = (
    JobPlan(1, 1, _BACKEND, "mid", "IN", "open", WEEKDAY_POSTED, ANCHOR - timedelta(minutes=1)),
    JobPlan(2, 2, _BACKEND, "lead", "IN", "open", LEAD_POSTED, ANCHOR - timedelta(minutes=1)),
)

REAL_JOBS: tuple[JobRow, ...] = (
    JobRow(
        id=1,
        company_id=1,
        title="Backend Engineer",
        description=_WEEKDAY_TEXT,
        location="Mumbai, India",
        city="Mumbai",
        country="IN",
        remote="onsite",
        employment_type="full_time",
        seniority="mid",
        experience_min=3,
        experience_max=4,
        salary_min=1_500_000,
        salary_max=2_800_000,
        salary_currency="INR",
        skills=WEEKDAY_SKILLS,
        status="open",
        posted_at=WEEKDAY_POSTED,
        created_at=WEEKDAY_POSTED,
        updated_at=WEEKDAY_POSTED,
    ),
    JobRow(
        id=2,
        company_id=2,
        title="Lead Backend Engineer",
        description=_LEAD_TEXT,
        location="Mumbai, India",
        city="Mumbai",
        country="IN",
        remote="onsite",
        employment_type="full_time",
        seniority="lead",
        experience_min=10,
        experience_max=None,
        salary_min=None,
        salary_max=None,
        salary_currency=None,
        skills=LEAD_SKILLS,
        status="open",
        posted_at=LEAD_POSTED,
        created_at=LEAD_POSTED,
        updated_at=LEAD_POSTED,
    ),
)
