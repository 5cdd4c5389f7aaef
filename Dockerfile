# syntax=docker/dockerfile:1
# eventrouter in a container (docs/operations.md, "Docker"):
#   docker build -t eventrouter .
#   docker run -d --name eventrouter -p 127.0.0.1:8088:8088 \
#     -v eventrouter-state:/var/lib/eventrouter eventrouter
# Inside the container the API listens on 0.0.0.0:8088 so that published ports reach it; the
# -p above publishes it on the host's loopback only. Anything wider needs auth (and TLS):
# see docs/security.md.

# Build stage: the README's steps on Debian 12 (scripts/deps.sh, then scripts/build.sh), then
# `cmake --install` into /out with the system layout the systemd unit uses.
FROM debian:12 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
# deps.sh alone first, so the package layer is rebuilt only when the package list changes.
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN BUILD_DIR=build scripts/build.sh -DEVENTROUTER_TESTS=OFF -DEVENTROUTER_BENCH=OFF
RUN DESTDIR=/out cmake --install build --prefix /usr \
 && sed -i 's/^listen: .*/listen: 0.0.0.0:8088/' /out/etc/eventrouter/eventrouter.yaml \
 && grep -q '^listen: 0.0.0.0:8088$' /out/etc/eventrouter/eventrouter.yaml \
# eventrouter refuses a non-loopback listen address without auth. In the container that
# address is the container's own interface, which only the ports published with -p reach, so
# the image says so explicitly; mount a config with auth (and tls) to publish it more widely.
 && printf '%s\n' '' \
      '# Container: every interface of the container, reached only through published ports' \
      '# (publish on the host loopback: -p 127.0.0.1:8088:8088). To publish wider, set' \
      '# auth.tokens_file and tls, and remove this line.' \
      'allow_unauthenticated: true' >> /out/etc/eventrouter/eventrouter.yaml
# The runtime packages are whatever the binary links against, as Debian names them.
RUN ldd /out/usr/bin/eventrouter | awk '$3 ~ /^\// {print $3}' \
  | while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"; done \
  | cut -d: -f1 | sort -u > /out/runtime-packages \
 && test -s /out/runtime-packages

# Runtime stage: the binary, the example config, rules and runbooks, a non-root user.
FROM debian:12-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# curl: the HEALTHCHECK; bash and jq: the example runbooks (those that call AWS also need the
# aws CLI, which this image leaves out: add it in an image built FROM this one).
RUN apt-get update \
 && xargs -a /tmp/runtime-packages apt-get install -y --no-install-recommends \
      ca-certificates curl jq \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && groupadd --system --gid 10001 eventrouter \
 && useradd --system --uid 10001 --gid eventrouter --home-dir /var/lib/eventrouter \
      --shell /usr/sbin/nologin eventrouter \
 && install -d -o eventrouter -g eventrouter -m 0750 /var/lib/eventrouter
COPY --from=build /out/usr/bin/eventrouter /usr/bin/eventrouter
COPY --from=build /out/etc/eventrouter /etc/eventrouter
USER 10001:10001
WORKDIR /var/lib/eventrouter
# The journal, the archive and dead letters: keep them across container replacements.
VOLUME ["/var/lib/eventrouter"]
EXPOSE 8088
# /healthz needs no token. With tls: in the config, use --health-cmd with https (curl -k).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8088/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/eventrouter"]
CMD ["serve", "-c", "/etc/eventrouter/eventrouter.yaml"]
