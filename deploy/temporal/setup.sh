#!/bin/sh
# Once Temporal answers: the namespace and Perennial's search attributes (core/messages.ts
# SEARCH_ATTRIBUTES; a lifecycle upserting an unknown one fails its workflow tasks). Both commands
# leave what exists alone, so this runs on every start.
set -eu
address=temporal:7233
tries=0
until temporal operator cluster health --address "$address"; do
  tries=$((tries + 1))
  [ "$tries" -lt 90 ] || { echo "Temporal at $address not healthy after 3 minutes" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --address "$address" --namespace default >/dev/null 2>&1 ||
  temporal operator namespace create --address "$address" --namespace default
temporal operator search-attribute create --address "$address" --namespace default \
  --name ModelName --type Keyword --name Stage --type Keyword --name TriggerReason --type Keyword \
  --name ChampionVersion --type Keyword --name LastVerdict --type Keyword --name StatusChangedAt --type Datetime
