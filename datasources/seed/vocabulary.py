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
    """A job title stem and the skills any posting with that title requires."""

    title: str
    core: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    weight: int
    roles: tuple[Role, ...]
    pool: tuple[str, ...]  # further skills a job or candidate of the family draws from
    salary_factor: float  # relative to a backend engineer of the same seniority and country


# fmt: off
FAMILIES: tuple[Family, ...] = (
    Family("backend", 30, (
        Role("Backend Engineer", ()),
        Role("Python Developer", ("python",)),
        Role("Java Backend Engineer", ("java", "spring boot")),
        Role("Go Engineer", ("go",)),
        Role("Software Engineer, Backend", ()),
    ), ("python", "java", "go", "rust", "kotlin", "node.js", "typescript", "fastapi", "django",
        "flask", "spring boot", "graphql", "grpc", "rest apis", "websockets", "asyncio",
        "celery", "postgresql", "mysql", "mongodb", "redis", "kafka", "rabbitmq", "docker",
        "kubernetes", "aws", "microservices", "distributed systems", "system design",
        "elixir", "ruby on rails", "ruby", ".net", "c#", "php", "dynamodb", "elasticsearch"),
        1.0),
    Family("frontend", 17, (
        Role("Frontend Engineer", ("javascript",)),
        Role("React Developer", ("react",)),
        Role("UI Engineer", ("css",)),
    ), ("typescript", "javascript", "react", "next.js", "vue.js", "angular", "html", "css",
        "tailwind css", "redux", "webpack", "jest", "playwright", "accessibility",
        "graphql", "rest apis", "node.js", "git"), 0.92),
    Family("fullstack", 13, (
        Role("Full Stack Engineer", ()),
        Role("Full Stack Developer", ("react",)),
    ), ("typescript", "react", "node.js", "express", "next.js", "python", "django",
        "postgresql", "mongodb", "graphql", "rest apis", "docker", "aws", "redis", "css",
        "ruby on rails"), 0.97),
    Family("data", 12, (
        Role("Data Engineer", ("sql",)),
        Role("Analytics Engineer", ("sql", "dbt")),
        Role("Big Data Engineer", ("spark",)),
    ), ("python", "scala", "sql", "spark", "airflow", "dbt", "snowflake", "bigquery",
        "kafka", "pandas", "databricks", "data modeling", "etl", "postgresql", "aws", "gcp",
        "tableau", "query optimization"), 1.03),
    Family("ml", 10, (
        Role("Machine Learning Engineer", ("python",)),
        Role("Data Scientist", ("python", "scikit-learn")),
        Role("MLOps Engineer", ("mlflow", "kubernetes")),
        Role("Applied Scientist, NLP", ("nlp",)),
    ), ("python", "pytorch", "tensorflow", "scikit-learn", "numpy", "pandas", "mlflow",
        "llms", "nlp", "computer vision", "hugging face", "spark", "sql", "docker", "aws",
        "gcp", "kubernetes"), 1.15),
    Family("devops", 10, (
        Role("DevOps Engineer", ("ci/cd",)),
        Role("Site Reliability Engineer", ("observability",)),
        Role("Platform Engineer", ("kubernetes",)),
        Role("Cloud Engineer", ("terraform",)),
    ), ("docker", "kubernetes", "terraform", "ansible", "helm", "aws", "gcp", "azure",
        "ci/cd", "github actions", "jenkins", "prometheus", "grafana", "linux", "go",
        "python", "observability", "distributed systems"), 1.05),
    Family("mobile", 8, (
        Role("Mobile Engineer", ()),
        Role("iOS Engineer", ("swift", "ios")),
        Role("Android Engineer", ("kotlin", "android")),
        Role("Flutter Developer", ("flutter",)),
        Role("React Native Developer", ("react native",)),
    ), ("swift", "swiftui", "ios", "kotlin", "jetpack compose", "android", "flutter",
        "react native", "typescript", "graphql", "rest apis", "ci/cd", "git"), 0.98),
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
