"""One Settings object, read from the environment (prefix HIREGRAPH_).

Only the CLI constructs `Settings()`; everything else receives it explicitly.
A store URL left unset means "start the embedded server for it" (dev only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse as parse_rate_limit
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datasources.redis_client import cluster_key_prefix, parse_redis_url
from domain.viewer import Role
from gateway.settings_analytics import AnalyticsSettings as AnalyticsSettings
from gateway.settings_events import BrokerSettings as BrokerSettings
from gateway.settings_events import IdempotencySettings as IdempotencySettings
from gateway.settings_events import SubscriptionSettings as SubscriptionSettings
from gateway.settings_events import WebSocketSettings as WebSocketSettings
from gateway.settings_observability import ObservabilitySettings as ObservabilitySettings
from gateway.settings_resilience import ResilienceSettings as ResilienceSettings

STORES = ("postgres", "mongo", "redis")
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MIN_PROD_SECRET_BYTES = 32
MongoReadPreference = Literal[
    "primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"
]


class PoolSettings(BaseModel):
    """Connection pools and timeouts. Seconds unless the name says otherwise."""

    postgres_pool_size: int = Field(10, ge=1, le=200)
    postgres_max_overflow: int = Field(10, ge=0, le=200)
    postgres_pool_timeout: float = Field(5.0, gt=0)
    postgres_connect_timeout: float = Field(5.0, gt=0)
    postgres_statement_timeout_ms: int = Field(5000, ge=0)
    mongo_max_pool_size: int = Field(50, ge=1, le=1000)
    mongo_server_selection_timeout_ms: int = Field(5000, ge=100)
    mongo_connect_timeout_ms: int = Field(5000, ge=100)
    mongo_socket_timeout_ms: int = Field(10000, ge=100)
    # How long a Mongo call waits for a pooled connection before UPSTREAM_BUSY.
    mongo_wait_queue_timeout_ms: int = Field(2000, ge=1)
    redis_max_connections: int = Field(50, ge=1, le=10000)
    redis_socket_timeout: float = Field(2.0, gt=0)
    redis_connect_timeout: float = Field(2.0, gt=0)


class AuthSettings(BaseModel):
    """Bearer-token (JWT) and API-key authentication. Env: HIREGRAPH_AUTH__<NAME>.

    JWT is off until a secret (HS*) or a JWKS file/URL (RS*/ES*) is configured; then
    bearer tokens are verified with exactly `jwt_algorithms`. HS* and public-key
    algorithms are never mixed: with both accepted, a public key could be replayed as
    an HMAC secret (algorithm confusion).
    """

    jwt_secret: SecretStr | None = None
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwks_file: Path | None = None
    jwks_url: str | None = None
    jwks_cache_seconds: float = Field(300.0, gt=0)
    jwks_refresh_cooldown_seconds: float = Field(
        30.0, ge=0, description="Minimum gap between refetches triggered by an unknown kid."
    )
    jwks_timeout_seconds: float = Field(5.0, gt=0)
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: int = Field(30, ge=0, le=600)
    role_claim: str = "role"
    company_claim: str = "company_id"
    candidate_claim: str = "candidate_id"
    api_key_cache_seconds: float = Field(
        5.0, ge=0, description="How long a looked-up API key is trusted in process; 0: never."
    )

    @field_validator("jwt_algorithms", mode="after")
    @classmethod
    def _known_algorithms(cls, algorithms: tuple[str, ...]) -> tuple[str, ...]:
        if not algorithms:
            raise ValueError("jwt_algorithms must name at least one algorithm")
        for alg in algorithms:
            if alg.lower() == "none":
                raise ValueError("jwt_algorithms must never include 'none'")
            if alg not in HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"unknown JWT algorithm {alg!r}")
        if set(algorithms) & HMAC_ALGORITHMS and set(algorithms) & ASYMMETRIC_ALGORITHMS:
            raise ValueError("jwt_algorithms must not mix HS* with RS*/PS*/ES* (confusion)")
        return algorithms

    @model_validator(mode="after")
    def _keys_match_algorithms(self) -> AuthSettings:
        if self.jwks_file is not None and self.jwks_url is not None:
            raise ValueError("set jwks_file or jwks_url, not both")
        has_jwks = self.jwks_file is not None or self.jwks_url is not None
        if self.uses_hmac and has_jwks:
            raise ValueError("a JWKS is configured but jwt_algorithms are HS*: set RS256/ES256")
        if not self.uses_hmac and self.jwt_secret is not None:
            raise ValueError("jwt_secret is only used with HS* algorithms")
        if not self.uses_hmac and not has_jwks:
            raise ValueError("RS*/ES* algorithms need jwks_file or jwks_url")
        # Asking for JWT (algorithms, audience or issuer) without a key is a mistake,
        # not "JWT off": every bearer token would be refused.
        asked = {"jwt_algorithms", "audience", "issuer"} & self.model_fields_set
        if self.uses_hmac and self.jwt_secret is None and asked:
            raise ValueError("HS* algorithms need HIREGRAPH_AUTH__JWT_SECRET")
        return self

    @property
    def uses_hmac(self) -> bool:
        return bool(set(self.jwt_algorithms) & HMAC_ALGORITHMS)

    @property
    def jwt_enabled(self) -> bool:
        """Bearer tokens are accepted only once key material is configured."""
        return self.jwt_secret is not None or self.jwks_file is not None or bool(self.jwks_url)

    def check_prod(self) -> None:
        """Production refuses HMAC secrets short enough to brute-force offline."""
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else None
        if secret is not None and len(secret.encode()) < MIN_PROD_SECRET_BYTES:
            raise ValueError(
                f"HIREGRAPH_AUTH__JWT_SECRET must be at least {MIN_PROD_SECRET_BYTES} bytes in prod"
            )
        if self.jwks_url is not None and not self.jwks_url.startswith("https://"):
            raise ValueError("HIREGRAPH_AUTH__JWKS_URL must be https in prod")


class LimitSettings(BaseModel):
    """Request limits (issue 4). Env: HIREGRAPH_LIMITS__MAX_DEPTH=12 and so on; the
    dictionaries as JSON, e.g. HIREGRAPH_LIMITS__COST_BUDGETS='{"PUBLIC": 2000, ...}'."""

    # Deeper than any screen needs (the job board is 7); bounds the fan-out of nesting.
    max_depth: int = Field(10, ge=1, le=100)
    # Aliases are how one request asks for the same expensive field many times.
    max_aliases: int = Field(30, ge=0)
    # Bounds parse time and memory; the largest real operation is a few hundred tokens.
    max_tokens: int = Field(5000, ge=100)
    # A real operation uses a handful of @include/@skip; 50 leaves room for generated
    # queries while refusing the directive-spam that slows validation.
    max_directives: int = Field(50, ge=0)
    # Off until a client needs it: a batch multiplies every per-request limit.
    batching_enabled: bool = False
    max_batch_operations: int = Field(5, ge=1, le=100)
    # 1 MiB: a 5,000-token document with variables is far smaller.
    max_body_bytes: int = Field(1 << 20, ge=1024)
    # A store call that takes longer is stuck; free the worker and say so.
    execution_timeout_seconds: float = Field(10.0, gt=0)
    # Cost units per operation (schema.limits.cost): the job board of 50 costs ~150-550,
    # `first: 100` inside `first: 100` costs 10,201.
    cost_budgets: dict[Role, int] = Field(
        default_factory=lambda: {
            Role.PUBLIC: 1_000,
            Role.CANDIDATE: 2_000,
            Role.RECRUITER: 5_000,
            Role.ANALYST: 10_000,
            Role.ADMIN: 25_000,
        }
    )
    # Cost units per window, per API key, user or (PUBLIC) client IP.
    rate_limits: dict[Role, str] = Field(
        default_factory=lambda: {
            Role.PUBLIC: "20000/minute",
            Role.CANDIDATE: "20000/minute",
            Role.RECRUITER: "60000/minute",
            Role.ANALYST: "120000/minute",
            Role.ADMIN: "300000/minute",
        }
    )
    # A dead Redis must not add seconds per request (see gateway.limits.rate).
    # Where the counters live in Redis; gateways that share a budget share the prefix.
    rate_limit_key_prefix: str = "hiregraph:rate"
    rate_limit_redis_timeout: float = Field(0.25, gt=0)
    rate_limit_redis_retry_seconds: float = Field(5.0, ge=0)
    # Leases (gateway/limits/rate.py): a busy identity takes units ahead of use, at most
    # this fraction of its limit, spent in-process for at most `rate_lease_seconds`;
    # the limit still holds across processes. 0 turns leases off.
    rate_lease_fraction: float = Field(0.01, ge=0, le=0.1)
    rate_lease_seconds: float = Field(0.1, gt=0, le=5)

    @field_validator("cost_budgets", "rate_limits")
    @classmethod
    def _every_role(cls, value: dict[Role, object]) -> dict[Role, object]:
        missing = sorted(set(Role) - value.keys())
        if missing:
            raise ValueError(f"missing roles: {', '.join(missing)}")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _parseable(cls, value: dict[Role, str]) -> dict[Role, str]:
        for limit in value.values():
            parse_rate_limit(limit)  # ValueError on e.g. "5000 a minute"
        return value


CACHED_TYPES = ("Company", "Job", "Candidate")


class CacheSettings(BaseModel):
    """The Redis entity cache under the loaders (issue 5). Env: HIREGRAPH_CACHE__<NAME>;
    the TTLs as JSON, e.g. HIREGRAPH_CACHE__ENTITY_TTL_SECONDS='{"Job": 30, ...}'."""

    enabled: bool = True
    # Keys are `{key_prefix}:e:{Type}:{shape}:{id}` (datasources.cache.keys); gateways
    # that should share entries share the prefix.
    key_prefix: str = Field("hg", min_length=1)
    # How long an entry may outlive a write that failed to invalidate it. Companies
    # change rarely; jobs and profiles change more often.
    entity_ttl_seconds: dict[str, int] = Field(
        default_factory=lambda: {"Company": 300, "Job": 60, "Candidate": 60}
    )
    # 250 ms bounds every cache call. A healthy Redis answers in well under a
    # millisecond, but the bound is measured on the event loop, which on a saturated
    # worker is late by tens of milliseconds (100 ms fired under load in bench runs).
    # When Redis hangs, a request waits at most this long before reading the stores,
    # and after `redis_failures_to_trip` failures in a row the cache is skipped for
    # `redis_retry_seconds`.
    redis_timeout_seconds: float = Field(0.25, gt=0, le=5)
    redis_failures_to_trip: int = Field(3, ge=1, le=100)
    redis_retry_seconds: float = Field(5.0, ge=0)
    redis_max_connections: int = Field(50, ge=1, le=10000)
    # A cross-process miss lock lives this long: enough for a by-id store read, short
    # enough that a process whose leader died waits at most this long.
    lock_ms: int = Field(200, ge=10, le=10_000)
    # Query results (a page of job ids, application counts) live under the versions of
    # the types they read, so a write makes them unreachable at once; the TTL only
    # bounds memory and a write whose invalidation failed. 0: results are not cached.
    result_ttl_seconds: int = Field(60, ge=0)

    @field_validator("entity_ttl_seconds")
    @classmethod
    def _known_types(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(CACHED_TYPES))
        if unknown:
            raise ValueError(f"not cached types: {', '.join(unknown)} (use {CACHED_TYPES})")
        if any(ttl < 0 for ttl in value.values()):
            raise ValueError("TTLs must be >= 0 (0: that type is not cached)")
        return value

    def ttl_for(self, type_name: str) -> int:
        return self.entity_ttl_seconds.get(type_name, 0)


class ApqSettings(BaseModel):
    """Automatic persisted queries (gateway.apq). Env: HIREGRAPH_APQ__<NAME>."""

    enabled: bool = True
    # Refreshed on every hit (GETEX), so a query clients keep sending never expires and
    # one no client sends any more (an old app build) is gone after a week; a miss costs
    # the client one extra round trip, and the store stays bounded by what is in use.
    ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    # Redis, its timeouts and the key prefix are the cache's (`CacheSettings`): a slow
    # Redis costs a hash-only request at most that timeout, and a miss only means the
    # client resends the text.


class ResponseCacheSettings(BaseModel):
    """Whole-response cache (gateway.response_cache). Env: HIREGRAPH_RESPONSE_CACHE__ENABLED.
    Its Redis client, timeouts and key prefix are the caches' (`CacheSettings`): cached
    responses live next to the `{prefix}:v:{Type}` versions that writers bump."""

    enabled: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HIREGRAPH_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    env: Literal["dev", "prod"] = "dev"
    postgres_url: str | None = None
    mongo_url: str | None = None
    mongo_db: str = "hiregraph"
    redis_url: str | None = None
    broker_url: str | None = None
    # Scale-out (README "Scaling out"): a read replica for queries and aggregates (never
    # for a mutation's reads), and where MongoDB reads may go.
    postgres_read_url: str | None = None
    mongo_read_preference: MongoReadPreference = "primary"
    data_dir: Path = Path("./.hiregraph")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    readiness_timeout: float = Field(2.0, gt=0)
    gc_gen0_threshold: int = Field(
        25_000,
        ge=0,
        description="Young-generation GC threshold for serving processes; 0 keeps Python's.",
    )
    expose_round_trips: bool | None = Field(
        None, description="Report store round trips in `extensions`; defaults to on in dev."
    )
    compiled_operations: bool = Field(
        True,
        description="Answer covered queries with compiled programs instead of graphql-core.",
    )
    csrf_prevention: bool | None = Field(
        None,
        description="Refuse non-JSON POSTs and GETs without a preflight header (default: prod).",
    )
    pools: PoolSettings = PoolSettings()
    auth: AuthSettings = AuthSettings()
    limits: LimitSettings = LimitSettings()
    cache: CacheSettings = CacheSettings()
    apq: ApqSettings = ApqSettings()
    response_cache: ResponseCacheSettings = ResponseCacheSettings()
    idempotency: IdempotencySettings = IdempotencySettings()
    broker: BrokerSettings = BrokerSettings()
    websocket: WebSocketSettings = WebSocketSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    resilience: ResilienceSettings = ResilienceSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()

    @model_validator(mode="after")
    def _prod_needs_real_stores(self) -> Settings:
        if self.env == "prod":
            missing = [f"HIREGRAPH_{s.upper()}_URL" for s in STORES if self.url_for(s) is None]
            if missing:
                raise ValueError(
                    "HIREGRAPH_ENV=prod refuses embedded stores; set " + ", ".join(missing)
                )
            self.auth.check_prod()
        return self

    @model_validator(mode="after")
    def _lease_outlives_execution(self) -> Settings:
        if self.idempotency.lease_seconds <= self.limits.execution_timeout_seconds:
            raise ValueError(
                "HIREGRAPH_IDEMPOTENCY__LEASE_SECONDS must exceed "
                "HIREGRAPH_LIMITS__EXECUTION_TIMEOUT_SECONDS"
            )
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_topology(cls, url: str | None) -> str | None:
        if url is not None:
            parse_redis_url(url)  # ValueError naming what is wrong
        return url

    @model_validator(mode="after")
    def _broker_on_one_redis(self) -> Settings:
        """The event broker (Redis Streams through FastStream) takes one server's URL."""
        url = self.event_broker_url
        if url is not None and url.startswith(("redis+sentinel://", "redis+cluster://")):
            raise ValueError(
                "the Redis Streams event broker needs a redis:// or rediss:// URL: with a "
                "Sentinel or Cluster HIREGRAPH_REDIS_URL set HIREGRAPH_BROKER_URL as well"
            )
        return self

    def url_for(self, store: str) -> str | None:
        url: str | None = getattr(self, f"{store}_url")
        return url

    @property
    def event_broker_url(self) -> str | None:
        """HIREGRAPH_BROKER_URL, or else Redis Streams on the Redis server."""
        return self.broker_url or self.redis_url

    @property
    def embedded_stores(self) -> tuple[str, ...]:
        """Stores whose URL is unset and so run embedded under `data_dir`."""
        return tuple(s for s in STORES if self.url_for(s) is None)

    @property
    def csrf_prevention_enabled(self) -> bool:
        return self.env == "prod" if self.csrf_prevention is None else self.csrf_prevention

    @property
    def graphiql(self) -> bool:
        return self.env == "dev"

    @property
    def round_trips_in_responses(self) -> bool:
        return self.env == "dev" if self.expose_round_trips is None else self.expose_round_trips


def for_redis_topology(settings: Settings) -> Settings:
    """On a Redis Cluster the cache key prefix becomes a hash tag, so that the caches'
    multi-key commands and scripts touch one slot (datasources/redis_client.py)."""
    if settings.redis_url is None:
        return settings
    prefix = cluster_key_prefix(settings.redis_url, settings.cache.key_prefix)
    if prefix == settings.cache.key_prefix:
        return settings
    cache = settings.cache.model_copy(update={"key_prefix": prefix})
    return settings.model_copy(update={"cache": cache})
