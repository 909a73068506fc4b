#!/usr/bin/env bash
# Smoke test of the container image's binary, without a container engine.
#
# Builds flowmask exactly as deploy/Dockerfile does (same env and flags; the
# Go test TestSmokeBuildMatchesDockerfile keeps the two in step), runs it
# with a fleet-like config (inbound auth, known secrets, one route) on
# loopback, in front of a second flowmask in report mode as the sink (it
# prints bodies unchanged), and checks: /healthz and /readyz answer, a
# request without a token is refused, a secret sent through the proxy never
# reaches the sink while the same secret sent to the sink directly does,
# SIGTERM makes the process exit 0 within the grace period,
# and `flowmask version` prints the stamped version.
#
# Usage: bash deploy/smoke.sh   (from anywhere; needs go and curl)
# Env:   VERSION (default v0.0.0-smoke), COMMIT (default: git rev-parse HEAD), GRACE seconds (default 45, the
#        fleet's terminationGracePeriodSeconds).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-v0.0.0-smoke}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
GRACE=${GRACE:-45}
command -v curl >/dev/null || { echo "smoke: curl not found" >&2; exit 3; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "smoke: FAIL: $*" >&2
	for f in "$work"/*.err; do echo "--- $f" >&2; cat "$f" >&2; done
	exit 1
}

# The Dockerfile's build, byte for byte (env CGO_ENABLED=0 GOFLAGS=-mod=readonly).
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o "$work/flowmask" ./cmd/flowmask
bin=$work/flowmask

got=$("$bin" version)
# "flowmask v1.2.3 (commit 0123456789ab, go1.26.8 linux/amd64)"
[ "${got%% (*}" = "flowmask $VERSION" ] || fail "version printed '$got', want 'flowmask $VERSION (commit ...)'"
[ -z "$COMMIT" ] || [[ "$got" == *"(commit ${COMMIT:0:12}, go"* ]] || fail "version printed '$got', want commit ${COMMIT:0:12}"
[ "$("$bin" --version)" = "$got" ] || fail "--version and version differ"
echo "smoke: $got"

# addr FILE KEY: wait for the "listening" log line and print its KEY field.
addr() {
	local i
	for i in $(seq 1 100); do
		if grep -q '"msg":"listening"' "$1" 2>/dev/null; then
			grep '"msg":"listening"' "$1" | head -n1 | grep -o "\"$2\":\"[^\"]*\"" | cut -d'"' -f4
			return
		fi
		sleep 0.1
	done
	fail "no listening line in $1"
}

# The sink: a second flowmask in report mode prints each body unchanged.
"$bin" proxy --listen 127.0.0.1:0 --admin off --mode report >"$work/sink.out" 2>"$work/sink.err" &
pids+=($!)
sink=$(addr "$work/sink.err" addr)

token=smoke-token-$RANDOM$RANDOM$RANDOM
known=known-secret-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$token" >"$work/tokens"
printf '%s\n' "$known" >"$work/known"
# Like kubernetes/fleet/configmap.yaml, on loopback with free ports.
cat >"$work/config.yaml" <<YAML
listen: 127.0.0.1:0
admin: 127.0.0.1:0
auth:
  tokens_file: $work/tokens
  header: Proxy-Authorization
limits:
  max_concurrent: 256
  shutdown_timeout: 25s
audit:
  output: stderr
secrets:
  files: [$work/known]
routes:
  - name: ingest
    upstream: http://$sink
    profile: generic
YAML
# Known secrets come from the config's secrets: section, as in the ConfigMap.
"$bin" proxy --config "$work/config.yaml" >"$work/proxy.out" 2>"$work/proxy.err" &
proxy_pid=$!
pids+=($proxy_pid)
listen=$(addr "$work/proxy.err" addr)
admin=$(addr "$work/proxy.err" admin)
[ -n "$admin" ] || fail "no admin address"

for i in $(seq 1 100); do
	curl -fsS "http://$admin/readyz" >/dev/null 2>&1 && break
	[ "$i" = 100 ] && fail "/readyz never answered 200"
	sleep 0.1
done
curl -fsS "http://$admin/healthz" >/dev/null || fail "/healthz"
echo "smoke: ready (listen $listen, admin $admin)"

password=hunter2-$RANDOM$RANDOM-Sm0ke!
body="{\"user\":\"alice\",\"password\":\"$password\",\"note\":\"db key $known\"}"

code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "http://$listen/ingest")
[ "$code" = 401 ] || fail "request without token: status $code, want 401"

code=$(curl -sS -o "$work/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H "Proxy-Authorization: Bearer $token" -d "$body" "http://$listen/ingest")
[ "$code" = 200 ] || fail "request with token: status $code, want 200: $(cat "$work/resp")"
# Control: the sink prints what it gets, secrets included.
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "{\"control\":\"$password\"}" "http://$sink/control"

for i in $(seq 1 50); do
	[ "$(wc -l <"$work/sink.out")" -ge 2 ] && break
	sleep 0.1
done
grep -q '"control"' "$work/sink.out" || fail "the sink did not print the control request"
grep -F -q "$password" "$work/sink.out" || fail "the sink hides secrets: the check below would prove nothing"
grep -F '"alice"' "$work/sink.out" >"$work/forwarded" || fail "the proxied request did not reach the sink"
grep -F -q "$password" "$work/forwarded" && fail "the password reached the sink"
grep -F -q "$known" "$work/forwarded" && fail "the known secret reached the sink"
grep -F -q "$token" "$work/sink.out" && fail "the inbound token reached the sink"
grep -q 'REDACTED' "$work/forwarded" || fail "no mask in the forwarded body"
for f in proxy.out proxy.err; do
	grep -F -q -e "$password" -e "$known" -e "$token" "$work/$f" && fail "a secret is in the proxy's $f"
done
echo "smoke: secrets redacted: $(cat "$work/forwarded")"

kill -TERM "$proxy_pid"
deadline=$((SECONDS + GRACE))
while kill -0 "$proxy_pid" 2>/dev/null; do
	[ "$SECONDS" -ge "$deadline" ] && fail "still running ${GRACE}s after SIGTERM"
	sleep 0.1
done
status=0
wait "$proxy_pid" || status=$?
[ "$status" = 0 ] || fail "exit status $status after SIGTERM, want 0"
grep -q '"msg":"stopped"' "$work/proxy.err" || fail "no 'stopped' log line"
echo "smoke: clean exit after SIGTERM"
echo "smoke: PASS"
