# The Kubernetes operator in a small image that runs as a non-root user.
#   docker build -f deploy/operator.Dockerfile -t vedette-operator .
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p vedette-operator \
 && install -m 0755 target/release/vedette-operator /usr/local/bin/vedette-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/vedette-operator /usr/local/bin/vedette-operator
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["vedette-operator"]
CMD ["run"]
