#!/usr/bin/env bash
# A client of the public API written only with curl and jq, exactly as ../shared/API.md documents it:
# register, login, upload, process, poll GET /api/batches until completed, download the qualified leads.
#   scripts/api-flow.sh [file] [output]        (BASE_URL defaults to http://127.0.0.1:8080/api)
set -euo pipefail
BASE_URL=${BASE_URL:-http://127.0.0.1:8080/api}
FILE=${1:-test/fixtures/samples/leads.csv}
OUT=${2:-qualified.csv}
EMAIL=${EMAIL:-flow-$(date +%s)-$RANDOM@example.com}
PASSWORD=${PASSWORD:-correct horse battery staple}
TIMEOUT_S=${TIMEOUT_S:-300}

curl -sS --fail-with-body -X POST "$BASE_URL/auth/register" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p, company: "Flow Test Inc"}')" >/dev/null

TOKEN=$(curl -sS --fail-with-body -X POST "$BASE_URL/auth/login" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" | jq -r '.access_token')

UPLOAD=$(curl -sS --fail-with-body -X POST "$BASE_URL/upload" -H "Authorization: Bearer $TOKEN" -F "file=@$FILE")
FILENAME=$(echo "$UPLOAD" | jq -r '.filename')
echo "uploaded $FILENAME: $(echo "$UPLOAD" | jq -r '.rows_detected') rows" >&2

BATCH_ID=$(curl -sS --fail-with-body -X POST "$BASE_URL/process" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d "$(jq -n --arg f "$FILENAME" '{filename: $f}')" | jq -r '.batch_id')
echo "batch $BATCH_ID queued" >&2

deadline=$((SECONDS + TIMEOUT_S))
while :; do
  STATUS=$(curl -sS --fail-with-body "$BASE_URL/batches" -H "Authorization: Bearer $TOKEN" |
    jq -r --arg id "$BATCH_ID" '.[] | select(.batch_id==$id) | .status')
  case "$STATUS" in
    completed) break ;;
    failed) echo "batch $BATCH_ID failed" >&2; exit 1 ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then echo "batch $BATCH_ID still $STATUS after ${TIMEOUT_S}s" >&2; exit 1; fi
  sleep 1
done

curl -sS --fail-with-body "$BASE_URL/batches/$BATCH_ID/download" -H "Authorization: Bearer $TOKEN" -o "$OUT"
curl -sS --fail-with-body "$BASE_URL/batches/$BATCH_ID" -H "Authorization: Bearer $TOKEN" |
  jq -c '{batch_id, status, rows_total, rows_qualified, rows_failed, quality_yield}'
echo "qualified leads written to $OUT" >&2
