# syntax=docker/dockerfile:1
# The one redress binary (`redress migrate | api | worker | import | token | calendar | pii`), pure Go. docker-compose.yml builds it;
# by hand: docker build -t redress .
#
# The Go image follows go.mod's go directive (GOTOOLCHAIN=local: the image's toolchain must be at
# least that version; deploy/composetest checks it).

FROM golang:1.27.3 AS build
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# -tags noembed: the production binary leaves out `redress dev`'s embedded Temporal server
# (229 MB → 64 MB unstripped; README, "Production build").
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -tags noembed -ldflags="-s -w" -o /out/redress ./cmd/redress

# Alpine rather than distroless: busybox wget serves the api's compose healthcheck (/readyz) and
# tzdata carries Asia/Shanghai for deadline arithmetic. Runs as an unprivileged user.
FROM alpine:3.24
RUN apk add --no-cache ca-certificates tzdata && \
    addgroup -S -g 10001 redress && \
    adduser -S -D -H -u 10001 -G redress -h /var/lib/redress redress && \
    install -d -o redress -g redress /var/lib/redress
COPY --from=build /out/redress /redress
WORKDIR /var/lib/redress
USER 10001:10001
ENV REDRESS_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/redress"]
CMD ["api"]
