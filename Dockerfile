# syntax=docker/dockerfile:1
#
# Production image of the HireGraph gateway.
#   docker build -t hiregraph .
#   docker run --rm hiregraph migrate        # then: serve (the default), seed, worker
#
# The builder and the runtime must share one base image: the venv's interpreter
# symlink points at the base image's /usr/local/bin/python3, so both stages use
# PYTHON_IMAGE and uv is told never to download a Python of its own.
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

# uv pinned to the release that writes this repo's uv.lock (revision 5).
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, from the lockfile alone, so source edits keep this layer cached.
# No --extra: the `embedded` servers never enter this image; --no-dev drops the dev group.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:${PATH}" \
    HIREGRAPH_ENV=prod \
    HIREGRAPH_DATA_DIR=/var/lib/hiregraph

# A fixed uid/gid so volume ownership and runAsUser policies can name it.
RUN groupadd --system --gid 10001 hiregraph \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hiregraph \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/hiregraph

# The venv and the source only, owned by root: the app user can read but not rewrite them.
COPY --from=builder /app /app

WORKDIR /app
USER 10001:10001

EXPOSE 8000

# Liveness only (/readyz is for orchestrators that gate traffic); slim has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

ENTRYPOINT ["hiregraph"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
