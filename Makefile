# The two commands of the README, and a few helpers.
.PHONY: run test soak openapi fmt

## Build the web app and the server, serve both on http://127.0.0.1:8000 (SQLite).
run:
	./scripts/run.sh

## Every check and every test, on SQLite and PostgreSQL.
test:
	./scripts/test.sh

## The reliability suite in full (release builds): 50 users for 60 s on SQLite and PostgreSQL while syncs run
## against a faulty provider, a database restart, a SIGKILL mid-sync (`make test` runs it short).
soak:
	./scripts/reliability.sh

## Regenerate openapi.yaml from the server's annotations.
openapi:
	cargo run -q -p allmetrics -- openapi > openapi.yaml

fmt:
	cargo fmt --all
