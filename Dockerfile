# syntax=docker/dockerfile:1
# Multi-stage: build the web app (scripts/tools.sh) and the server, ship a slim runtime image.

FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY . .
RUN bash -c 'source scripts/tools.sh && ensure_rust && ensure_wasm_tools && build_frontend /src/dist' \
 && cargo build --release -p allmetrics

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --create-home allmetrics
WORKDIR /app
COPY --from=build /src/target/release/allmetrics /usr/local/bin/allmetrics
COPY --from=build /src/dist /app/web
COPY backend/configuration /app/configuration
ENV APP_ENVIRONMENT=production \
    APP_APPLICATION__HOST=0.0.0.0 \
    APP_APPLICATION__PORT=8000 \
    APP_APPLICATION__STATIC_DIR=/app/web \
    APP_APPLICATION__DATA_DIR=/app/data \
    APP_CONFIG_DIR=/app/configuration
USER allmetrics
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]
ENTRYPOINT ["allmetrics"]
CMD ["serve"]
