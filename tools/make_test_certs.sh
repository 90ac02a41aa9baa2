#!/bin/sh
# Makes the TLS test fixtures in tests/fixtures/tls/: a test CA and leaf certificates signed by
# it (rustls refuses a self-signed certificate used as a server certificate), valid for 100 years
# so the tests never need openssl. Run from anywhere: sh tools/make_test_certs.sh
set -eu
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/tls"
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
days=36500

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=jabberd test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tmp/ca.key" -out "$dir/ca.pem"

# leaf NAME SAN: a key and a certificate for NAME with the given subjectAltName.
leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$dir/$1.key" -out "$tmp/$1.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$tmp/$1.ext"
  printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$3" >>"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -CAserial "$tmp/ca.srl" -days "$days" -extfile "$tmp/$1.ext" -out "$dir/$1.pem"
}

leaf localhost localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf wildcard "*.example.test" "DNS:*.example.test"
# Federation interop (tests/federation/): our two domains, and the Prosody and ejabberd peers.
leaf jabberd.test jabberd.test "DNS:jabberd.test,DNS:jabberd2.test"
leaf prosody.test prosody.test "DNS:prosody.test"
leaf ejabberd.test ejabberd.test "DNS:ejabberd.test"
# The CA key is thrown away: nobody can sign more certificates with this test CA.
