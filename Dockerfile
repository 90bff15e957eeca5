# syntax=docker/dockerfile:1
# Stratus container image: a static binary on a distroless base, run as nobody.
#
#   make docker            (passes VERSION, REVISION and BRANCH from git)
#   docker run -p 9893:9893 stratus:<version>

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS builder
WORKDIR /src

# No `go mod download`: go.mod also pins the Prometheus server as a test tool,
# and its dependency tree is far larger than what stratus links. The build
# fetches only what it needs; the cache mounts keep it between builds.
COPY . .
ARG VERSION=unknown
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out/data \
 && CGO_ENABLED=0 go build -trimpath -o /out/stratus \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=${BUILD_USER} \
        -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      ./cmd/stratus

# distroless/static has CA certificates (for cloud price APIs), tzdata and an
# /etc/passwd with nobody, and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12
LABEL org.opencontainers.image.title="stratus" \
      org.opencontainers.image.description="Prometheus exporter and rule generator for cost, dependencies, scaling, deployments and IaC coverage" \
      org.opencontainers.image.source="https://github.com/stratus-monitoring/stratus" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /out/stratus /bin/stratus
COPY LICENSE /LICENSE
# State kept between restarts (price cache, webhook journal, watermarks).
COPY --from=builder --chown=65534:65534 /out/data /stratus

# nobody, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 65534:65534
WORKDIR /stratus
VOLUME ["/stratus"]
EXPOSE 9893
ENTRYPOINT ["/bin/stratus"]
CMD ["serve", "--storage.path=/stratus"]
