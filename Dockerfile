# syntax=docker/dockerfile:1
# Multi-stage image on Debian bookworm and Node 20. Both stages run the project's one setup recipe
# (scripts/setup.sh), the same script the README's commands and CI use.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
# System build packages, the mediasoup worker built from its npm sources, npm ci, tsc, the SDK bundle.
RUN bash scripts/setup.sh --no-test-packages \
 && npm prune --omit=dev \
 && rm -rf /root/.cache /root/.npm

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY scripts/ scripts/
# Only the shared libraries the worker links against (libabsl, libsrtp2, libuv, libusrsctp, libssl).
RUN bash scripts/setup.sh --runtime-packages && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/client-sdk/demo ./client-sdk/demo
COPY --from=build /app/docs/openapi ./docs/openapi
COPY --from=build /app/docs/registry-mappings ./docs/registry-mappings
ENV NODE_ENV=production \
    PLENUM_HOST=0.0.0.0 \
    PLENUM_PORT=3000 \
    PLENUM_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
# HTTP + signaling, and one UDP+TCP port per mediasoup worker (PLENUM_MEDIA_PORT_BASE + index).
EXPOSE 3000 40000-40015/udp 40000-40015/tcp
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server/main.js"]
