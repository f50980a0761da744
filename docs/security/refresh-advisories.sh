#!/usr/bin/env bash
# Refresh docs/security/advisories from the PyPA advisory database, then audit the lock file with it.
# Needs network access to GitHub (or pass the path of an existing checkout as the first argument).
# Run from the repository root; commit the result with the date it prints.
set -euo pipefail
cd "$(dirname "$0")/../.."
checkout=${1:-}
if [ -z "$checkout" ]; then
    checkout=$(mktemp -d)
    trap 'rm -rf "$checkout"' EXIT
    git clone --quiet --depth 1 https://github.com/pypa/advisory-database "$checkout"
fi
GOV21_DATA_DIR=${GOV21_DATA_DIR:-$(mktemp -d)} "${GOV21:-.venv/bin/gov21}" audit_deps --refresh "$checkout"
