# pipeline-canary: `canary serve` for Cloud Run (service), or `canary run` (Cloud Run job).
# Build:  docker build -t us-west2-docker.pkg.dev/nba-props-platform/canary/pipeline-canary:$(git rev-parse --short HEAD) .
# Deploy: see deploy/cloud-run.md.

# Every package comes from the lock (requirements/*.txt: exact versions, hashes checked), never from
# whatever resolves on the day of the build. scripts/lock refreshes the lock.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements/build.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY pipeline_canary ./pipeline_canary
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GX_ANALYTICS_ENABLED=False \
    CANARY_CONFIG=/app/canary.toml
RUN useradd --create-home --uid 10001 canary
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/runtime.txt && rm /tmp/runtime.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels && pip check
WORKDIR /app
# Only the reviewed GX project (suites, validation definitions, checkpoints), never gx/uncommitted.
COPY --chown=canary gx/great_expectations.yml gx/.gitignore ./gx/
COPY --chown=canary gx/expectations ./gx/expectations
COPY --chown=canary gx/checkpoints ./gx/checkpoints
COPY --chown=canary gx/validation_definitions ./gx/validation_definitions
COPY --chown=canary gx/plugins ./gx/plugins
COPY --chown=canary deploy/canary.cloud-run.toml ./canary.toml
USER canary
EXPOSE 8080
# Cloud Run sends SIGTERM, then SIGKILL 10 s later: `canary serve` stops taking runs, lets the
# current one finish within [schedule] shutdown_grace_s, flushes the alert outbox and exits 0.
STOPSIGNAL SIGTERM
# exec: canary is PID 1 and receives the signal itself. Cloud Run passes the port in $PORT.
CMD ["sh", "-c", "exec canary serve --host 0.0.0.0 --port \"${PORT:-8080}\""]
