# Multi-stage: a static binary (CGO off) on distroless, running as nonroot.
# templ output and vendored htmx are committed, so no generation step here.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/switchboard ./cmd/switchboard

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchboard /switchboard
USER nonroot:nonroot
EXPOSE 8080
ENV LISTEN_ADDR=:8080 LOG_FORMAT=json
ENTRYPOINT ["/switchboard"]
CMD ["serve"]
