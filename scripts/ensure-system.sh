#!/usr/bin/env bash
# Make sure the system packages the project needs are on this machine:
# a Python 3 with venv, and PostgreSQL + PostGIS server binaries (for the embedded database).
# As root, missing Debian/Ubuntu packages are installed with apt-get; otherwise the exact
# command is printed and the script stops. A conda environment (environment.yml) with
# postgresql and postgis on PATH, or HAZARDS_PG_BIN, or HAZARDS_DATABASE_URL, also satisfies it.
set -euo pipefail

PYTHON=${PYTHON:-python3}
missing=()

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

have_postgis() {
  # A directory of server binaries plus a postgis.control in the matching share dir.
  local bindir=$1 v
  [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] || return 1
  v=$("$bindir/postgres" --version 2>/dev/null | sed -E 's/[^0-9]*([0-9]+).*/\1/')
  for share in "$bindir/../share/postgresql" "$bindir/../share" "/usr/share/postgresql/$v"; do
    [ -f "$share/extension/postgis.control" ] && return 0
  done
  return 1
}

pg_ok=no
if [ -n "${HAZARDS_DATABASE_URL:-}" ]; then
  pg_ok=yes
else
  candidates=()
  [ -n "${HAZARDS_PG_BIN:-}" ] && candidates+=("$HAZARDS_PG_BIN")
  [ -n "${CONDA_PREFIX:-}" ] && candidates+=("$CONDA_PREFIX/bin")
  command -v initdb >/dev/null 2>&1 && candidates+=("$(dirname "$(command -v initdb)")")
  for d in /usr/lib/postgresql/*/bin; do [ -d "$d" ] && candidates+=("$d"); done
  for d in "${candidates[@]}"; do
    if have_postgis "$d"; then pg_ok=yes; break; fi
  done
fi

if [ "$pg_ok" = no ]; then
  # Which PostgreSQL major version: the one installed, else the distribution's default.
  v=""
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && v=$(basename "$(dirname "$d")"); done
  if [ -z "$v" ] && command -v apt-cache >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
    v=$(apt-cache depends postgresql 2>/dev/null | sed -nE 's/.*Depends: postgresql-([0-9]+)$/\1/p' | head -n1)
  fi
  v=${v:-15}
  missing+=("postgresql-$v" "postgresql-$v-postgis-3")
fi

# Headless Chromium opens the generated maps in the browser tests.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)

# With --test: what only the tests use, installed when we can and skipped (with the reason, by
# the test itself) when we cannot: QGIS's Python bindings load the exported GeoPackage and project.
optional=()
if [ "${1:-}" = "--test" ]; then
  /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 || optional+=(python3-qgis)
fi
if [ ${#optional[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing+=("${optional[@]}")
elif [ ${#optional[@]} -gt 0 ]; then
  echo "Not installing ${optional[*]} (needs root and apt): the tests that use it will be skipped."
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
  exit 0
fi

cat >&2 <<MSG
Missing system packages: ${missing[*]}
Install them, then run make again:
    sudo apt-get install ${missing[*]}
or, with conda:
    conda env create -f environment.yml && conda activate hazards
or point the tool at an existing PostGIS with HAZARDS_DATABASE_URL=postgresql://user:pass@host/db
MSG
exit 1
