# The dranspose image: the CLI as its entry point, Node with the compiled package, and Debian's
# Python with numpy, pyzmq and cbor2 for Python payloads. A beamline builds its science image
# FROM it and adds its payload code to /payload (README: Container image).
ARG NODE_VERSION=20

# build: compile the TypeScript, pack the package, install its production dependencies from the lockfile
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /build
COPY package.json package-lock.json ./
# install scripts are not needed: zeromq and esbuild ship prebuilt binaries, cbor-x falls back to
# JavaScript; the native decoders are built once the package is in place, below
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY src ./src
COPY bin ./bin
COPY config ./config
COPY docs ./docs
COPY examples ./examples
COPY tango ./tango
COPY templates ./templates
COPY python ./python
COPY native ./native
COPY scripts/install-native.js scripts/build.js ./scripts/
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir -p /opt/dranspose \
 && tar -xzf /tmp/dranspose-*.tgz -C /opt/dranspose --strip-components=1 \
 && cp package-lock.json /opt/dranspose/ \
 && cd /opt/dranspose \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/install-native.js \
 && rm package-lock.json

# runtime: Node, the package, Debian's Python for Python payloads
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-numpy python3-zmq python3-cbor2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/dranspose /opt/dranspose
# `dranspose` on the PATH, and `import ... from 'dranspose'` resolving from any payload folder
RUN ln -s /opt/dranspose/bin/dranspose.js /usr/local/bin/dranspose \
 && mkdir -p /node_modules && ln -s /opt/dranspose /node_modules/dranspose \
 && mkdir -p /payload && chown node:node /payload
ENV NODE_ENV=production
WORKDIR /payload
USER node
ENTRYPOINT ["dranspose"]
CMD ["--help"]
