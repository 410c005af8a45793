# The router image: Debian 12's HAProxy (2.6, the version the cluster tests run)
# with no configuration of its own: deploy/haproxy/slabcache.cfg and a nodes file
# are mounted at /etc/slabcache (docker-compose.yml) or come from a ConfigMap
# (kubernetes/). Build from the repository root:
#   docker build -f deploy/docker/router.Dockerfile -t slabcache-router .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
ENV SLABCACHE_BIND=:7171 \
    SLABCACHE_ADMIN_SOCKET=/tmp/slabcache-router.sock
# nobody: HAProxy needs no privilege to listen on 7171 and write its socket in /tmp.
USER 65534:65534
EXPOSE 7171
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/etc/slabcache/slabcache.cfg", "-f", "/etc/slabcache/nodes.cfg"]
