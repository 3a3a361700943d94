# The vedette server and CLI in a small image that runs as a non-root user.
#   docker build -t vedette .
#   docker run -p 8080:8080 -v vedette-data:/data vedette serve --listen 0.0.0.0:8080
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vedette-cli \
 && install -m 0755 target/release/vedette /usr/local/bin/vedette

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin vedette \
 && mkdir -p /data && chown vedette /data
COPY --from=build /usr/local/bin/vedette /usr/local/bin/vedette
USER 10001
WORKDIR /data
ENV VEDETTE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["vedette"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
