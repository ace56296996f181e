# syntax=docker/dockerfile:1
# One image for Perennial's worker, model server and CLI; deploy/entrypoint.sh picks the role:
#   docker run IMAGE worker | model-server | perennial <command>
# The Node version is the one the tests run on (package.json engines: >= 20.18.1).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS deps
# better-sqlite3 is a native module: it is compiled here, so the final stage has no compiler.
RUN apt-get update \
  && apt-get install -y --no-install-recommends g++=4:12.2.0-3 make=4.3-4.1 python3=3.11.2-1+b1 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script downloads anything at build time. Only better-sqlite3's is
# needed, and it is built from source against this Node's own headers. tfjs-node (optional, whose
# script would download libtensorflow) goes: the image trains and predicts on the wasm backend.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 --build-from-source --nodedir=/usr/local \
  && rm -rf node_modules/@tensorflow/tfjs-node \
  && npm cache clean --force

FROM ${NODE_IMAGE}
# HOST: in a container the model server listens on every interface, not loopback.
ENV HOST=0.0.0.0 \
  PORT=8080 \
  PERENNIAL_DATA_DIR=/var/lib/perennial \
  PERENNIAL_TF_BACKEND=wasm
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY adapters ./adapters
COPY client ./client
COPY codec ./codec
COPY config ./config
COPY core ./core
COPY examples ./examples
COPY ml ./ml
COPY serving ./serving
COPY worker ./worker
COPY workflows ./workflows
COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/perennial-entrypoint
# The code stays root's and read-only; the image's node user writes only its data folder. Its
# uid, not its name: Kubernetes' runAsNonRoot can check a number only.
RUN mkdir -p /var/lib/perennial && chown 1000:1000 /var/lib/perennial
USER 1000:1000
# 8080: model server; 9464, 9465: the worker's metrics when PERENNIAL_WORKER_METRICS / PERENNIAL_TEMPORAL_METRICS ask.
EXPOSE 8080 9464 9465
ENTRYPOINT ["perennial-entrypoint"]
CMD ["worker"]
