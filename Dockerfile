# taskcollab images: one multi-stage build, Debian 12, every binary in one runtime image.
# BASE: debian:12 online; scripts/images --offline passes taskcollab/base:bookworm (debootstrap).
ARG BASE=debian:12

FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libzmq3-dev libczmq-dev libsodium-dev libmsgpack-dev libsqlite3-dev libcjson-dev \
      libpcap-dev libcrypt-dev libhiredis-dev libcurl4-openssl-dev libmicrohttpd-dev libjwt-dev \
      python3-minimal \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# the whole context: every source directory the top CMakeLists.txt adds (.dockerignore keeps
# out secret keys, build trees and .git); this stage is thrown away after the build
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target collab-broker collab-passwd collab-worker \
      collab-coordinator collab-observer collab-admin collab-client collab-sniff collab-replay \
      collab-attack collab-victim collab-audit collab-keygen collab-ping collab-web

# the same base for the runtime (no debian:12-slim offline); kept small by installing only the
# libraries, without recommends, and dropping apt's lists. No compiler: scripts/images checks.
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzmq5 libczmq4 libsodium23 libmsgpackc2 \
      libsqlite3-0 libcjson1 libpcap0.8 libcap2-bin libhiredis0.14 redis-server \
      libmicrohttpd12 libjwt0 libcurl4 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 collab \
 && mkdir -p /data && chown collab:collab /data
COPY --from=build /build/broker/collab-broker /build/broker/collab-passwd \
     /build/agents/worker/collab-worker /build/agents/coordinator/collab-coordinator \
     /build/agents/observer/collab-observer /build/agents/admin/collab-admin \
     /build/agents/client/collab-client /build/tools/sniff/collab-sniff \
     /build/tools/replay/collab-replay /build/tools/attack/collab-attack \
     /build/tools/attack/collab-victim /build/tools/audit/collab-audit \
     /build/tools/keygen/collab-keygen /build/tools/ping/collab-ping /build/web/collab-web \
     /usr/local/bin/
# the web console's pages (collab-web --static)
COPY --from=build /build/web/static /opt/taskcollab/web/static
# the instruments that capture get only the raw-socket capability, so the non-root user can
# sniff (in the attack profile's container, which compose gives NET_RAW)
RUN setcap cap_net_raw+eip /usr/local/bin/collab-sniff \
 && setcap cap_net_raw+eip /usr/local/bin/collab-attack
# the public sample data only: .dockerignore keeps every secret key out of the build context
COPY sample_data /opt/taskcollab/sample_data
USER collab
WORKDIR /home/collab
ENV COLLAB_CREDENTIALS=/opt/taskcollab/sample_data/valid_credentials.json
CMD ["collab-broker", "--help"]
