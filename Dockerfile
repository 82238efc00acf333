# pi-gateway: build the package into a virtual environment, then run it as a non-root user.
#   docker build -t pi-gateway .
#   docker run -p 8000:8000 -v pi-gateway-data:/data pi-gateway
# The database defaults to a SQLite file in the /data volume; set DATABASE_URL to
# postgresql+asyncpg://... for PostgreSQL. `serve` migrates the schema at start.

FROM node:20-slim AS web
# GraphiQL and the data map, bundled from the npm registry at build time (no CDN at run time)
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY registry ./registry
COPY schema ./schema
COPY gateway ./gateway
COPY --from=web /src/gateway/static/dist ./gateway/static/dist
# the notice's message catalogs (registry/locale/*/LC_MESSAGES/*.po) compiled into the package
RUN /opt/venv/bin/pip install "babel>=2.14" \
 && /opt/venv/bin/pybabel compile --statistics -d registry/locale -D notice
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install /wheels/*.whl

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin pigw \
 && mkdir /data && chown pigw:pigw /data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/pi-gateway.db
USER pigw
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["pi-gateway", "serve", "--host", "0.0.0.0"]
