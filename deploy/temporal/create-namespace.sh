#!/bin/sh
# One-shot job of the temporal-namespace service (temporalio/admin-tools image): waits until the
# Temporal frontend answers, then registers NAMESPACE (with RETENTION) unless it exists.
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${NAMESPACE:=default}"
: "${RETENTION:=720h}"

host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}
# The server binds IPv4 only (BIND_ON_IP=0.0.0.0); dial the IPv4 address so the CLI does not
# try an IPv6 one first.
ip=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }') || true
address=${ip:-$host}:$port

i=0
until temporal operator cluster health --address "$address"; do
	i=$((i + 1))
	if [ "$i" -ge 30 ]; then
		echo "Temporal at $TEMPORAL_ADDRESS did not become healthy" >&2
		exit 1
	fi
	sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$address" >/dev/null 2>&1; then
	echo "namespace $NAMESPACE exists"
else
	temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$address"
	echo "namespace $NAMESPACE created"
fi
