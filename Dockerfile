# The gatekeeper GitHub App (`gatekeeper serve`, docs/app.md).
#
#   docker build -t gatekeeper-app .
#   docker run -p 8080:8080 -e GATEKEEPER_APP_ID=... -e GATEKEEPER_WEBHOOK_SECRET=... \
#     -e GATEKEEPER_APP_PRIVATE_KEY_FILE=/run/secrets/app.pem -v "$PWD/app.pem:/run/secrets/app.pem:ro" \
#     gatekeeper-app
#
# The base image is pinned by digest, so a rebuild gets the same bytes; update the tag and the
# digest together (`docker buildx imagetools inspect python:3.12.7-slim-bookworm`).
FROM python:3.12.7-slim-bookworm@sha256:032c52613401895aa3d418a4c563d2d05f993bc3ecc065c8f4e2280978acd249

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /opt/gatekeeper
# Dependencies first (a layer that changes only with the lock), every wheel checked by hash;
# then gatekeeper itself from this folder, taking nothing else from the index.
COPY requirements/app.lock requirements/app.lock
RUN python -m pip install --require-hashes --no-deps -r requirements/app.lock
COPY pyproject.toml README.md LICENSE ./
COPY gatekeeper gatekeeper
RUN python -m pip install --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin gatekeeper

# Not root: the service needs no file of its own (evaluations use a temporary folder).
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["gatekeeper", "serve", "--host", "0.0.0.0", "--port", "8080"]
