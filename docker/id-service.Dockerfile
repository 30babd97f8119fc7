# docker build -f docker/id-service.Dockerfile .
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /crucible
COPY package.json package-lock.json tsconfig.base.json ./
COPY apps ./apps
COPY packages ./packages
RUN npm ci --no-audit --no-fund
WORKDIR /crucible/apps/id-service
EXPOSE 8080
CMD ["node", "--conditions=@crucible/source", "--import", "tsx", "src/main.ts"]
