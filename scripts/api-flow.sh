#!/usr/bin/env bash
# A client of the public API written only with curl and jq, exactly as ../shared/API.md documents it:
# register, login, buy a plan (checkout + Stripe's confirmation), upload, process, poll GET /api/batches
# until completed, download the qualified leads, then billing: usage, a top-up, invoices and a PDF.
#   scripts/api-flow.sh [file] [output]        (BASE_URL defaults to http://127.0.0.1:8080/api)
# Stripe's confirmations come from scripts/stripe-event.sh (+ openssl): against stripe-mock nobody pays
# and Stripe sends no webhooks. STRIPE_WEBHOOK_SECRET must be the gateway's. Prints a billing summary
# line, then the batch summary line (stdout); progress goes to stderr.
set -euo pipefail
BASE_URL=${BASE_URL:-http://127.0.0.1:8080/api}
FILE=${1:-test/fixtures/samples/leads.csv}
OUT=${2:-qualified.csv}
EMAIL=${EMAIL:-flow-$(date +%s)-$RANDOM@example.com}
PASSWORD=${PASSWORD:-correct horse battery staple}
TIMEOUT_S=${TIMEOUT_S:-300}
PLAN=${PLAN:-starter}
INVOICE_PDF=${INVOICE_PDF:-invoice.pdf}
STRIPE_EVENT="$(dirname "$0")/stripe-event.sh"

curl -sS --fail-with-body -X POST "$BASE_URL/auth/register" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p, company: "Flow Test Inc"}')" >/dev/null

TOKEN=$(curl -sS --fail-with-body -X POST "$BASE_URL/auth/login" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg e "$EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" | jq -r '.access_token')

AUTH=(-H "Authorization: Bearer $TOKEN")
JSON=(-H 'Content-Type: application/json')

# A plan: Stripe Checkout, then Stripe's checkout.session.completed (signed) activates it with its credits.
CHECKOUT=$(curl -sS --fail-with-body -X POST "$BASE_URL/billing/checkout" "${AUTH[@]}" "${JSON[@]}" \
  -d "$(jq -n --arg p "$PLAN" '{plan_id: $p}')")
echo "checkout: $(echo "$CHECKOUT" | jq -r '.checkout_url')" >&2
"$STRIPE_EVENT" checkout.session.completed "$(echo "$CHECKOUT" | jq -c '{id: .session_id, object: "checkout.session",
  mode: "subscription", payment_status: "paid", subscription: ("sub_" + .order_id), metadata: {order_id}}')" >/dev/null
curl -sS --fail-with-body "$BASE_URL/billing/subscription" "${AUTH[@]}" | jq -c '{plan_id, credits_total, credits_remaining, status}' >&2

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

# Usage is recorded within seconds of the leads entering the pipeline.
TODAY=$(date -u +%F)
for _ in $(seq 1 60); do
  CONSUMED=$(curl -sS --fail-with-body "$BASE_URL/billing/usage?start=$TODAY&end=$TODAY" "${AUTH[@]}" | jq '.total_consumed')
  [ "$CONSUMED" -gt 0 ] && break
  sleep 1
done

# A top-up: a one-time checkout, credited when Stripe confirms the payment.
TOPUP=$(curl -sS --fail-with-body -X POST "$BASE_URL/billing/topup" "${AUTH[@]}" "${JSON[@]}" -d '{"credits": 1000}')
"$STRIPE_EVENT" checkout.session.completed "$(echo "$TOPUP" | jq -c '{id: .session_id, object: "checkout.session",
  mode: "payment", payment_status: "paid", payment_intent: ("pi_" + .order_id), metadata: {order_id}}')" >/dev/null

INVOICES=$(curl -sS --fail-with-body "$BASE_URL/billing/invoices" "${AUTH[@]}")
NUMBER=$(echo "$INVOICES" | jq -r '.[0].invoice_number')
curl -sS --fail-with-body "$BASE_URL/billing/invoices/$NUMBER/pdf" "${AUTH[@]}" -o "$INVOICE_PDF"
echo "invoice $NUMBER written to $INVOICE_PDF" >&2
curl -sS --fail-with-body "$BASE_URL/billing/subscription" "${AUTH[@]}" |
  jq -c --argjson consumed "$CONSUMED" --argjson invoices "$INVOICES" \
    '{plan_id, credits_total, credits_remaining, total_consumed: $consumed, invoices: $invoices}'
curl -sS --fail-with-body "$BASE_URL/batches/$BATCH_ID" -H "Authorization: Bearer $TOKEN" |
  jq -c '{batch_id, status, rows_total, rows_qualified, rows_failed, quality_yield}'
echo "qualified leads written to $OUT" >&2
