# codeteam's MCP server over HTTP, with bubblewrap sandboxing inside the container.
# Build: docker build -t codeteam .      Run: docker compose up   (see docker-compose.yml)
FROM debian:bookworm-slim

COPY . /src/codeteam
RUN apt-get update -qq \
 && bash /src/codeteam/scripts/install.sh \
 && rm -rf /var/lib/apt/lists/* /root/.cache

# Code runs in /workspace; the Go build cache persists in /var/tmp/codeteam (mount a volume).
WORKDIR /workspace
VOLUME ["/var/tmp/codeteam", "/workspace"]
EXPOSE 8080
# The server runs as root inside the container only to start each sandbox as its own
# unprivileged uid; the code itself never runs as root. A token is required off loopback.
ENV CODETEAM_HOST=0.0.0.0 CODETEAM_PORT=8080 CODETEAM_TRANSPORT=http CODETEAM_ROOT=/workspace
STOPSIGNAL SIGTERM
CMD ["codeteam", "serve"]
