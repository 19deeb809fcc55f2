# One image for every Leedrush service; docker-compose picks the service with SERVICE (or a command).
# Code runs with tsx, as in development: there is no build step to keep in sync.
FROM node:20-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    METRICS_PORT=9464
WORKDIR /app

# Dependencies first, so a code change does not reinstall them. tsx is a dev dependency but is the
# runtime here, so dev dependencies stay.
COPY package.json package-lock.json ./
RUN npm ci --include=dev --ignore-scripts && npm cache clean --force

COPY schemas ./schemas
COPY services ./services
COPY gateway ./gateway
COPY topology ./topology
COPY tsconfig.json ./

USER node
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}
EXPOSE 8080 9464
# gateway/main.ts for the gateway, services/<name>/main.ts for the pipeline phases.
CMD ["sh", "-c", "if [ \"$SERVICE\" = gateway ]; then exec npx tsx gateway/main.ts; else exec npx tsx \"services/$SERVICE/main.ts\"; fi"]
