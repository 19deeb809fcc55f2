#!/usr/bin/env bash
# Plays Stripe's part for the local stack: stripe-mock answers API calls but sends no webhooks, so this
# wraps an object in a Stripe event, signs it as Stripe does (Stripe-Signature: t=<unix>,v1=<hex
# HMAC-SHA256 of "<t>.<body>" keyed with the endpoint secret) and POSTs it to the gateway's receiver.
# Needs only curl, jq and openssl.
#   scripts/stripe-event.sh <event type> '<data.object JSON>'
#   e.g. scripts/stripe-event.sh checkout.session.completed \
#     '{"id":"cs_test_...","object":"checkout.session","mode":"payment","payment_status":"paid",
#       "payment_intent":"pi_123","metadata":{"order_id":"ord_..."}}'
# BASE_URL (default http://127.0.0.1:8080/api) and STRIPE_WEBHOOK_SECRET (default: the gateway's local
# default) must match the gateway's. Prints the receiver's answer; exits non-zero unless it is 2xx.
set -euo pipefail
BASE_URL=${BASE_URL:-http://127.0.0.1:8080/api}
SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_leedrush_local}
TYPE=${1:?event type}
OBJECT=${2:?data.object as JSON}

NOW=$(date +%s)
ID="evt_$(openssl rand -hex 12)"
BODY=$(jq -cn --arg id "$ID" --arg type "$TYPE" --argjson created "$NOW" --argjson object "$OBJECT" \
  '{id: $id, object: "event", type: $type, created: $created, livemode: false, pending_webhooks: 1, data: {object: $object}}')
SIG=$(printf '%s.%s' "$NOW" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //')

curl -sS --fail-with-body -X POST "$BASE_URL/billing/stripe-webhook" -H 'Content-Type: application/json' \
  -H "Stripe-Signature: t=$NOW,v1=$SIG" --data-binary "$BODY"
echo
