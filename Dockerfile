# codeteam's MCP server over HTTP, with bubblewrap sandboxing inside the container.
# Build with scripts/build-image.sh: it downloads the pinned wheels into build/image/wheelhouse
# on the host and picks the base; nothing inside this build talks to PyPI.
# Run: see the README's "Docker" section (the security options bubblewrap needs are there).
ARG BASE=debian:bookworm-slim

# ---- build: the two virtualenvs from the hash-checked wheelhouse, and the static launcher ----
FROM ${BASE} AS build
# marks this stage's images, so scripts/build-image.sh can prune old ones (not the image's)
LABEL org.codeteam.stage=build
ARG ARCH=x86_64
ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-venv gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY docker/requirements/ /build/requirements/
COPY build/image/wheelhouse/ /build/wheelhouse/
# The sandbox runtime: what model-written code runs with (pip + setuptools from Debian's
# ensurepip stay: the build tool makes wheels offline with them).
RUN python3 -m venv /opt/codeteam/runtime \
 && /opt/codeteam/runtime/bin/pip install -q --no-index --require-hashes \
      --find-links /build/wheelhouse -r /build/requirements/runtime.${ARCH}.txt
# the pre-started interpreter's wait (src/codeteam/toolchains/python_prestart.py says why);
# no setuptools distutils shim at every interpreter start (scripts/install.sh says why)
COPY src/codeteam/toolchains/python_prestart.pth /build/python_prestart.pth
RUN for site in /opt/codeteam/runtime/lib/python3*/site-packages; do \
      install -m 0644 /build/python_prestart.pth "$site/zzz-codeteam-prestart.pth" \
      && rm -f "$site/distutils-precedence.pth"; done
RUN python3 -m venv /opt/codeteam/venv \
 && /opt/codeteam/venv/bin/pip install -q --no-index --require-hashes \
      --find-links /build/wheelhouse -r /build/requirements/server.${ARCH}.txt
COPY src/codeteam/sandbox/launch.c /build/launch.c
RUN mkdir -p /opt/codeteam/libexec \
 && gcc -O2 -static -Wall -Wextra -Werror -o /opt/codeteam/libexec/codeteam-launch /build/launch.c \
 && /opt/codeteam/libexec/codeteam-launch --nofile=64 -- /bin/true
COPY docker/healthcheck.py /opt/codeteam/libexec/healthcheck.py
COPY pyproject.toml README.md /build/src/
COPY src/ /build/src/src/
RUN /opt/codeteam/venv/bin/pip install -q --no-index --no-deps --no-build-isolation /build/src \
 && /opt/codeteam/venv/bin/pip uninstall -q -y pip setuptools \
 && if find /opt/codeteam \( -type d ! -perm -o+rx \) -o ! -perm -o+r | grep .; then echo "not world-readable (above)"; exit 1; fi

# ---- the image: Python, bubblewrap, and gcc + libc6-dev for cgo (go test -race) ----
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 bubblewrap gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && mkdir -p /workspace /var/tmp/codeteam && chmod 0755 /var/tmp/codeteam
# Largest and most stable first: a source change rebuilds only the server's venv layer.
COPY --from=build /opt/codeteam/runtime /opt/codeteam/runtime
COPY --from=build /opt/codeteam/libexec /opt/codeteam/libexec
COPY --from=build /opt/codeteam/venv /opt/codeteam/venv
RUN ln -s /opt/codeteam/venv/bin/codeteam /usr/local/bin/codeteam

# Code runs on /workspace; the Go build cache persists in /var/tmp/codeteam (mount a volume).
WORKDIR /workspace
VOLUME ["/var/tmp/codeteam"]
EXPOSE 8080
# The server runs as root inside the container only to start each sandbox as its own
# unprivileged uid; the code itself never runs as root. A token is required off loopback.
# Sandbox uids are host uids (Docker does not remap them): a base far above a native
# install's (61000+) keeps a host server from counting or sweeping the container's processes.
ENV CODETEAM_HOST=0.0.0.0 CODETEAM_PORT=8080 CODETEAM_TRANSPORT=http CODETEAM_ROOT=/workspace \
    CODETEAM_SANDBOX_UID_BASE=2000000 PYTHONUNBUFFERED=1
# A ping over MCP with the container's token: proves the server answers, starts no sandbox.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/bin/python3", "-I", "/opt/codeteam/libexec/healthcheck.py"]
STOPSIGNAL SIGTERM
CMD ["codeteam", "serve"]
