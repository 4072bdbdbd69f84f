"""Prose templates: job descriptions, candidate summaries and experience highlights.

Plain `str.format` over small template tuples: cheap enough for hundreds of thousands of
records, varied enough that full-text search has something to rank.
"""

from __future__ import annotations

import random

from datasources.seed.vocabulary import DISPLAY

# fmt: off
MISSIONS: dict[str, tuple[str, ...]] = {
    "backend": ("build the APIs and services behind our core product",
                "scale the platform that processes millions of requests a day",
                "design reliable, event-driven services"),
    "frontend": ("build fast, accessible interfaces our customers love",
                 "own the web app from design system to production"),
    "fullstack": ("ship features end to end, from database to UI",
                  "build product features across the stack"),
    "data": ("build the pipelines and models that power analytics",
             "own our warehouse and the data contracts feeding it"),
    "ml": ("take models from notebook to production",
           "build ranking and recommendation systems"),
    "devops": ("run the infrastructure every team ships on",
               "make deployments boring and outages rare"),
    "mobile": ("build our iOS and Android apps", "ship a mobile experience used daily"),
}
DUTIES: tuple[str, ...] = (
    "Design, build and operate services using {a} and {b}",
    "Own features end to end, from technical design to production monitoring",
    "Improve performance and reliability with {a}",
    "Write clean, tested code and review your teammates' work",
    "Work with product and design to shape the roadmap",
    "Automate builds, tests and releases",
    "Mentor engineers and raise the bar for engineering practices",
    "Debug production issues and write blameless post-mortems",
    "Evolve our architecture as the product and team grow",
    "Build integrations using {b}",
)
PERKS: tuple[str, ...] = (
    "Health insurance for you and your family", "Learning budget", "Flexible hours",
    "Stock options", "Home-office allowance", "Generous parental leave",
    "Annual team offsite", "Wellness allowance",
)
HIGHLIGHTS: tuple[str, ...] = (
    "Cut p95 latency of a core product flow by {n}% working in {a}",
    "Led the migration of a legacy codebase to {a}",
    "Owned a {a} codebase used by {m} million people",
    "Mentored {k} engineers and introduced design reviews",
    "Reduced infrastructure costs by {n}%",
    "Shipped {k} major features built with {a} and {b}",
    "Raised test coverage to 9{k}% and automated releases",
    "Designed the {a} architecture for a new product line",
    "Cut build and deploy times by {n}%",
)
SUMMARIES: tuple[str, ...] = (
    "{role} with {y} years of experience, most recently building with {a} and {b}.",
    "{y} years building products as a {role_l}; strongest in {a}, comfortable with {b}.",
    "Pragmatic {role_l} ({y} yrs) who enjoys {a}, {b} and mentoring.",
    "{role} focused on {a}. Looking for a team that values ownership and craft.",
)
REMOTE_LINES: dict[str, str] = {
    "onsite": "This role is based in our {city} office.",
    "hybrid": "Hybrid: three days a week in our {city} office.",
    "remote": "Fully remote within {country}.",
}
# fmt: on


def job_description(
    rng: random.Random,
    *,
    company: str,
    industry: str,
    family: str,
    title: str,
    skills: list[str],
    experience: str,
    remote_line: str,
) -> str:
    """A five-paragraph posting: about us, the role, duties, requirements, perks."""
    shown = [DISPLAY[s] for s in skills]
    split = max(2, len(shown) - 2)  # the last (up to) two skills are nice-to-haves
    a, b = shown[0], shown[1]
    musts, nice = ", ".join(shown[:split]), ", ".join(shown[split:]) or "open-source work"
    duties = rng.sample(DUTIES, 5)
    return "\n\n".join(
        (
            f"{company} ({industry}) is hiring a {title} to {rng.choice(MISSIONS[family])}.",
            "What you'll do:\n" + "\n".join(f"- {d.format(a=a, b=b)}" for d in duties),
            f"What we're looking for:\n- {experience} of professional experience\n"
            f"- Strong skills in {musts}\n- Clear written communication",
            f"Nice to have: {nice}.",
            f"{remote_line} Benefits: {', '.join(rng.sample(PERKS, 3)).lower()}.",
        )
    )


def summary(rng: random.Random, role: str, years: int, skills: list[str]) -> str:
    a = DISPLAY[skills[0]]
    b = DISPLAY[skills[1]] if len(skills) > 1 else a
    return rng.choice(SUMMARIES).format(role=role, role_l=role.lower(), y=years, a=a, b=b)


def highlights(rng: random.Random, stack: list[str], count: int) -> list[str]:
    """`count` achievements naming skills from `stack` (the candidate's core skills)."""
    return [
        t.format(
            a=DISPLAY[rng.choice(stack)],
            b=DISPLAY[rng.choice(stack)],
            n=rng.randint(15, 70),
            m=rng.randint(1, 40),
            k=rng.randint(2, 6),
        )
        for t in rng.sample(HIGHLIGHTS, count)
    ]
