# certgate's container image: a static binary (CGO_ENABLED=0) on an empty
# base, run as user and group 65532 (non-root).
#   podman build -t certgate .        (or docker build)
#   podman run --rm -v ./deploy-config:/etc/certgate:ro -p 9192:9192 certgate
# The image reads /etc/certgate/config.yaml (listen on 0.0.0.0 in it) and
# keeps the admin socket in /run/certgate (`podman exec NAME certgate status`).
# Every RUN is in exec form, so any image with a Go toolchain serves as the
# build stage (GO_IMAGE), and GOPROXY may name a proxy or a file:// mirror.

ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG GOPROXY
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOCACHE=/tmp/go-build GOMODCACHE=/tmp/go-mod
WORKDIR /src
# Modules first, so that a source change keeps the module layer.
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]
COPY . .
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/usr/local/bin/certgate", "./cmd/certgate"]
# The admin socket's directory, owned by the service's user below.
WORKDIR /out/run/certgate
# Check the binary runs before it is shipped.
RUN ["/out/usr/local/bin/certgate", "version"]

FROM scratch
COPY --from=build --chown=65532:65532 /out/ /
USER 65532:65532
# An ordinary user's admin socket is $XDG_RUNTIME_DIR/certgate/admin.sock:
# /run/certgate/admin.sock, as for root and in the Kubernetes manifests.
ENV XDG_RUNTIME_DIR=/run
WORKDIR /run/certgate
# ext_authz gRPC, NGINX auth_request HTTP, metrics (as set in config.yaml).
EXPOSE 9191 9192 9193
ENTRYPOINT ["/usr/local/bin/certgate"]
CMD ["serve", "--config", "/etc/certgate/config.yaml"]
