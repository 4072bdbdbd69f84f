"""Curated skill vocabulary, role families and job titles.

Skills are stored under lower-case canonical names (`jobs.skills` and the candidates'
`skills.name` use the same spellings, so a skill filter matches both stores);
`DISPLAY` gives the spelling used in prose (headlines, descriptions).
"""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off
# canonical name -> display spelling
DISPLAY: dict[str, str] = {
    # languages
    "python": "Python", "java": "Java", "go": "Go", "rust": "Rust",
    "typescript": "TypeScript", "javascript": "JavaScript", "kotlin": "Kotlin",
    "swift": "Swift", "scala": "Scala", "c++": "C++", "c#": "C#", "ruby": "Ruby",
    "elixir": "Elixir", "php": "PHP", "sql": "SQL",
    # backend
    "fastapi": "FastAPI", "django": "Django", "flask": "Flask", "spring boot": "Spring Boot",
    "node.js": "Node.js", "express": "Express", "ruby on rails": "Ruby on Rails",
    ".net": ".NET", "graphql": "GraphQL", "grpc": "gRPC", "rest apis": "REST APIs",
    "websockets": "WebSockets", "asyncio": "asyncio", "celery": "Celery",
    # data stores and messaging
    "postgresql": "PostgreSQL", "mysql": "MySQL", "mongodb": "MongoDB", "redis": "Redis",
    "elasticsearch": "Elasticsearch", "cassandra": "Cassandra", "dynamodb": "DynamoDB",
    "kafka": "Kafka", "rabbitmq": "RabbitMQ", "aws sqs": "AWS SQS",
    # infrastructure
    "docker": "Docker", "kubernetes": "Kubernetes", "terraform": "Terraform",
    "ansible": "Ansible", "helm": "Helm", "aws": "AWS", "gcp": "GCP", "azure": "Azure",
    "ci/cd": "CI/CD", "github actions": "GitHub Actions", "jenkins": "Jenkins",
    "prometheus": "Prometheus", "grafana": "Grafana", "linux": "Linux",
    "observability": "observability",
    # frontend
    "react": "React", "next.js": "Next.js", "vue.js": "Vue.js", "angular": "Angular",
    "html": "HTML", "css": "CSS", "tailwind css": "Tailwind CSS", "redux": "Redux",
    "webpack": "Webpack", "jest": "Jest", "playwright": "Playwright",
    "accessibility": "accessibility",
    # mobile
    "react native": "React Native", "flutter": "Flutter", "swiftui": "SwiftUI",
    "jetpack compose": "Jetpack Compose", "android": "Android", "ios": "iOS",
    # data
    "spark": "Spark", "airflow": "Airflow", "dbt": "dbt", "snowflake": "Snowflake",
    "bigquery": "BigQuery", "pandas": "pandas", "databricks": "Databricks",
    "data modeling": "data modeling", "etl": "ETL", "tableau": "Tableau",
    # machine learning
    "pytorch": "PyTorch", "tensorflow": "TensorFlow", "scikit-learn": "scikit-learn",
    "numpy": "NumPy", "mlflow": "MLflow", "llms": "LLMs", "nlp": "NLP",
    "computer vision": "computer vision", "hugging face": "Hugging Face",
    # practices
    "system design": "system design", "distributed systems": "distributed systems",
    "microservices": "microservices", "event-driven architecture": "event-driven architecture",
    "domain-driven design": "domain-driven design", "design patterns": "design patterns",
    "query optimization": "query optimization", "git": "Git",
}
# fmt: on
SKILLS: tuple[str, ...] = tuple(DISPLAY)


@dataclass(frozen=True, slots=True)
class Role:
    """A job title stem; `key`, if set, is a skill every stack for this title contains."""

    title: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Family:
    """A role family. A job or candidate takes one coherent stack (language, framework,
    store...) and a few of the family's tools, so skills never mix five languages."""

    name: str
    weight: int
    roles: tuple[Role, ...]
    stacks: tuple[tuple[str, ...], ...]
    tools: tuple[str, ...]
    salary_factor: float  # relative to a backend engineer of the same seniority and country

    def stacks_for(self, role: Role) -> tuple[tuple[str, ...], ...]:
        return tuple(s for s in self.stacks if role.key is None or role.key in s)


# fmt: off
FAMILIES: tuple[Family, ...] = (
    Family("backend", 30, (
        Role("Backend Engineer"), Role("Software Engineer, Backend"),
        Role("Python Developer", "python"), Role("Java Backend Engineer", "java"),
        Role("Go Engineer", "go"), Role("Node.js Backend Engineer", "node.js"),
    ), (
        ("python", "fastapi", "asyncio"), ("python", "django", "celery"), ("python", "flask"),
        ("java", "spring boot"), ("kotlin", "spring boot"), ("go", "grpc"),
        ("node.js", "typescript", "express"), ("ruby", "ruby on rails"), ("c#", ".net"),
        ("elixir",), ("rust",), ("php",), ("c++", "grpc"),
    ), ("postgresql", "mysql", "mongodb", "redis", "kafka", "rabbitmq", "docker",
        "kubernetes", "aws", "gcp", "graphql", "rest apis", "websockets", "microservices",
        "distributed systems", "elasticsearch", "dynamodb", "aws sqs", "sql", "cassandra"), 1.0),
    Family("frontend", 17, (
        Role("Frontend Engineer"), Role("UI Engineer"), Role("React Developer", "react"),
    ), (
        ("typescript", "react", "redux"), ("typescript", "react", "next.js"),
        ("javascript", "vue.js"), ("typescript", "angular"), ("javascript", "react"),
    ), ("html", "css", "tailwind css", "webpack", "jest", "playwright", "accessibility",
        "graphql", "rest apis", "git", "node.js"), 0.92),
    Family("fullstack", 13, (
        Role("Full Stack Engineer"), Role("Full Stack Developer"),
    ), (
        ("typescript", "react", "node.js", "express"), ("python", "django", "react"),
        ("ruby", "ruby on rails", "react"), ("typescript", "next.js", "node.js"),
        ("java", "spring boot", "angular"),
    ), ("postgresql", "mongodb", "redis", "graphql", "rest apis", "docker", "aws", "css",
        "git", "jest"), 0.97),
    Family("data", 12, (
        Role("Data Engineer"), Role("Analytics Engineer", "dbt"),
        Role("Big Data Engineer", "spark"),
    ), (
        ("python", "airflow", "dbt"), ("scala", "spark"), ("python", "spark", "databricks"),
        ("sql", "dbt", "snowflake"), ("python", "pandas", "bigquery"),
    ), ("sql", "kafka", "data modeling", "etl", "postgresql", "aws", "gcp", "tableau",
        "query optimization", "airflow", "snowflake", "docker"), 1.03),
    Family("ml", 10, (
        Role("Machine Learning Engineer"), Role("Data Scientist", "scikit-learn"),
        Role("MLOps Engineer", "mlflow"), Role("Applied Scientist, NLP", "nlp"),
    ), (
        ("python", "pytorch"), ("python", "tensorflow"), ("python", "scikit-learn", "pandas"),
        ("python", "pytorch", "hugging face", "llms"), ("python", "mlflow", "kubernetes"),
        ("python", "pytorch", "nlp"),
    ), ("numpy", "pandas", "mlflow", "llms", "computer vision", "spark", "sql", "docker",
        "aws", "gcp", "kubernetes"), 1.15),
    Family("devops", 10, (
        Role("DevOps Engineer"), Role("Site Reliability Engineer"),
        Role("Platform Engineer", "kubernetes"), Role("Cloud Engineer", "terraform"),
    ), (
        ("aws", "terraform"), ("gcp", "terraform"), ("azure", "ansible"),
        ("kubernetes", "helm", "aws"), ("kubernetes", "helm", "gcp"),
    ), ("docker", "kubernetes", "ci/cd", "github actions", "jenkins", "prometheus",
        "grafana", "linux", "go", "python", "observability", "terraform"), 1.05),
    Family("mobile", 8, (
        Role("Mobile Engineer"), Role("iOS Engineer", "ios"), Role("Android Engineer", "android"),
        Role("Flutter Developer", "flutter"), Role("React Native Developer", "react native"),
    ), (
        ("swift", "swiftui", "ios"), ("kotlin", "jetpack compose", "android"), ("flutter",),
        ("react native", "typescript"),
    ), ("graphql", "rest apis", "ci/cd", "git", "accessibility", "jest"), 0.98),
)
FAMILY_WEIGHTS: tuple[int, ...] = tuple(f.weight for f in FAMILIES)
PRACTICES: tuple[str, ...] = (
    "system design", "distributed systems", "microservices", "event-driven architecture",
    "domain-driven design", "design patterns", "ci/cd", "git", "observability",
)

# Seniority (enum value) -> the word a title starts with; "" means no prefix.
TITLE_PREFIX: dict[str, tuple[str, ...]] = {
    "intern": ("",), "junior": ("Junior", "Associate"), "mid": ("",),
    "senior": ("Senior",), "lead": ("Lead",), "principal": ("Staff", "Principal"),
}
SENIORITY_WEIGHTS: dict[str, int] = {
    "intern": 4, "junior": 16, "mid": 32, "senior": 30, "lead": 12, "principal": 6,
}
# Years-of-experience bands a posting asks for, per seniority: (min, max | None).
EXPERIENCE_BANDS: dict[str, tuple[tuple[int, int | None], ...]] = {
    "intern": ((0, 0), (0, 1)),
    "junior": ((0, 2), (1, 2), (1, 3)),
    "mid": ((2, 4), (2, 5), (3, 4), (3, 5), (3, None)),
    "senior": ((5, 8), (5, 10), (6, 10), (5, None), (7, None)),
    "lead": ((8, 12), (8, None), (10, None), (10, 15)),
    "principal": ((12, None), (12, 20), (15, None)),
}
# fmt: on


def title_for(seniority: str, role: Role, prefix: str) -> str:
    if seniority == "intern":
        return f"{role.title} Intern"
    return f"{prefix} {role.title}" if prefix else role.title
