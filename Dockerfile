# Builds every binary (api, worker-*, and later the scheduler) into one slim image; compose
# picks the binary per service with `command`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release -p api -p workers --bins \
 && mkdir -p /out \
 && find target/release -maxdepth 1 -type f -executable -exec cp {} /out/ \;

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app switchyard \
 && mkdir -p /var/lib/switchyard/media \
 && chown switchyard /var/lib/switchyard/media
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
# The clustering model (checked against its SHA-256 at load; see workers/src/clustering/semantic.rs).
COPY --from=build /src/workers/models/ /usr/share/switchyard/models/
USER switchyard
ENV API_ADDR=0.0.0.0:8080 RUST_LOG=info LOG_FORMAT=json
EXPOSE 8080
CMD ["api"]
