#!/usr/bin/env bash
# The fuzz targets (crates/zhanqun/tests/suite/fuzz.rs), optimised and for longer than
# `cargo test` gives them: the sanitiser, the Markdown renderer, public text in Markdown,
# the import parser and every code validator.
#
#   bench/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
ZHANQUN_FUZZ_SECONDS="${1:-60}" cargo test --release --locked -p zhanqun --test suite -- --nocapture --test-threads 2 fuzz::
