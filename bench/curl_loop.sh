#!/usr/bin/env bash
# Baseline (b) of the upload benchmark: what an operator would otherwise run.
#
# One curl process per file: a GET of the session page keeps the cookie in a
# jar, then each file is POSTed as multipart field "datafile" with the client
# certificate. Each process makes its own TCP connection and TLS handshake.
#
#   bash bench/curl_loop.sh BASE_URL CERT KEY CA COOKIE_JAR FILE...
#
# -q (first) ignores any ~/.curlrc, so the run is the same on every machine.
set -euo pipefail

base_url=$1 cert=$2 key=$3 ca=$4 jar=$5
shift 5

curl -q -sS --fail -o /dev/null --cacert "$ca" --cert "$cert" --key "$key" \
    -c "$jar" "$base_url/"

for file in "$@"; do
    curl -q -sS --fail -o /dev/null --cacert "$ca" --cert "$cert" --key "$key" \
        -b "$jar" -c "$jar" -F "datafile=@$file" "$base_url/uploadProcess.jsp"
done
