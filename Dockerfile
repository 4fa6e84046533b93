# The worker only (src/worker/main.ts); docker-compose.yml runs it next to Temporal and Flink.
# Debian rather than Alpine: the Temporal core bridge ships glibc binaries only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json stays: src/config/repo-root.ts finds the repository root by it.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# The worker's heap limits: WORKER_MAX_OLD_SPACE_MB and WORKER_MAX_SEMI_SPACE_MB in src/worker/worker.ts say why (same values).
CMD ["node", "--max-old-space-size=192", "--max-semi-space-size=4", "dist/src/worker/main.js"]
