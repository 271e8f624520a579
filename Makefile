# The two commands of the README, and a few helpers.
.PHONY: run test openapi fmt

## Build the web app and the server, serve both on http://127.0.0.1:8000 (SQLite).
run:
	./scripts/run.sh

## Every check and every test, on SQLite and PostgreSQL.
test:
	./scripts/test.sh

## Regenerate openapi.yaml from the server's annotations.
openapi:
	cargo run -q -p allmetrics -- openapi > openapi.yaml

fmt:
	cargo fmt --all
