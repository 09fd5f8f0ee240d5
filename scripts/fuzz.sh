#!/usr/bin/env bash
# Builds the libFuzzer targets in Tests/Fuzz/ and runs each for a fixed time on a copy of its checked-in corpus.
#
#   scripts/fuzz.sh [SECONDS [TARGET...]]     (default 30 per target, every target)
#
# Each target is compiled with swiftc straight from the sources of the pure decoders it exercises (no SwiftPM,
# no .build), into .build-fuzz/. Prints, per target, the runs executed and the coverage reached; exits non-zero
# when a target crashes, leaks, runs out of memory or hangs, keeping the input that did it under
# .build-fuzz/artifacts/<target>/ and printing its path, its bytes and the stack.
set -euo pipefail

seconds="${1:-30}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS [TARGET...]]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.build-fuzz"
mkdir -p "$out/bin" "$out/logs" "$out/artifacts"

swiftc="$(command -v swiftc || true)"
if [[ -z "$swiftc" ]]; then
    echo "fuzz: swiftc not found on PATH" >&2
    exit 2
fi
toolchain_bin="$(dirname "$(readlink -f "$swiftc")")"
# ASan names the frames of a stack only when it finds the toolchain's symbolizer.
if [[ -x "$toolchain_bin/llvm-symbolizer" ]]; then export ASAN_SYMBOLIZER_PATH="$toolchain_bin/llvm-symbolizer"; fi
# A failed check traps; Swift's own crash reporter would then read the stack under ASan and be reported in its
# place, so libFuzzer is left to report the trap and keep the input.
export SWIFT_BACKTRACE=enable=no
demangle() {
    if [[ -x "$toolchain_bin/swift-demangle" ]]; then "$toolchain_bin/swift-demangle" --simplified; else cat; fi
}

# Coverage-guided and address-checked, optimised like the product; -g keeps stacks readable.
flags=(-swift-version 6 -parse-as-library -O -g -sanitize=fuzzer,address)

# The sources each target compiles, beside its own Tests/Fuzz/<Target>Fuzz.swift and Tests/Fuzz/Support.
websocket=("$root"/Sources/WebSocket/*.swift)
websocket_models=("$root"/Tests/Fuzz/Models/WebSocket/*.swift)
http_models=("$root"/Tests/Fuzz/Models/HTTP/*.swift)
upstream=(
    "$root/Sources/MCP/Upstream/HTTPResponseHead.swift"
    "$root/Sources/MCP/Upstream/HTTPBodyDecoder.swift"
    "$root/Sources/MCP/Upstream/ServerSentEventParser.swift"
    "$root/Sources/MCP/Upstream/ServerSentEventLimitError.swift"
)
json=("$root"/Sources/MCP/JSONRPC/*.swift)
core=("$root"/Sources/RecoveryCore/*.swift)

targets=(WebSocketFrame HTTPHead WebSocketURL UpstreamBody JSONRPC PoolMessages Configuration)
if [[ $# -gt 1 ]]; then
    shift
    for wanted in "$@"; do
        [[ " ${targets[*]} " == *" $wanted "* ]] || { echo "fuzz: no target '$wanted' (targets: ${targets[*]})" >&2; exit 2; }
    done
    targets=("$@")
fi
sources_of() {
    case "$1" in
        WebSocketFrame) printf '%s\n' "${websocket[@]}" "${websocket_models[@]}" ;;
        HTTPHead | WebSocketURL) printf '%s\n' "${websocket[@]}" ;;
        UpstreamBody) printf '%s\n' "${upstream[@]}" "${http_models[@]}" ;;
        JSONRPC) printf '%s\n' "${json[@]}" ;;
        PoolMessages | Configuration) printf '%s\n' "${core[@]}" ;;
    esac
    printf '%s\n' "$root"/Tests/Fuzz/Support/*.swift "$root/Tests/Fuzz/$1Fuzz.swift"
}
# WebSocket (SHA-1 for the accept value, redaction) and RecoveryCore (redaction) import ClientSupport, and
# MCP's JSON-RPC and RecoveryCore (stored states) import JSON, so those modules are built first and linked.
needs_client_support() { [[ "$1" == WebSocketFrame || "$1" == HTTPHead || "$1" == WebSocketURL || "$1" == PoolMessages || "$1" == Configuration ]]; }
needs_json() { [[ "$1" == JSONRPC || "$1" == PoolMessages || "$1" == Configuration ]]; }

# Rebuilds `output` only when a source is newer (or the script changed the flags).
stale() {
    local output="$1"; shift
    [[ ! -e "$output" || "$0" -nt "$output" ]] && return 0
    local source
    for source in "$@"; do [[ "$source" -nt "$output" ]] && return 0; done
    return 1
}

# Builds one library module the targets link: its static library and its .swiftmodule in $out/<Module>.
build_module() {
    local module="$1"; shift
    local dir="$out/$module"
    mkdir -p "$dir"
    if stale "$dir/lib$module.a" "$@"; then
        echo "fuzz: building $module"
        "$swiftc" "${flags[@]}" -module-name "$module" -emit-module -emit-module-path "$dir/$module.swiftmodule" \
            -emit-library -static -o "$dir/lib$module.a" "$@" 2>"$out/logs/$module.build.log" || {
            cat "$out/logs/$module.build.log" >&2
            exit 2
        }
    fi
}
build_module ClientSupport "$root"/Sources/ClientSupport/*.swift
build_module JSON "$root"/Sources/JSON/*.swift

for target in "${targets[@]}"; do
    mapfile -t sources < <(sources_of "$target")
    binary="$out/bin/$target"
    extra=()
    sources_for_staleness=("${sources[@]}")
    if needs_client_support "$target"; then
        extra+=(-I "$out/ClientSupport" -L "$out/ClientSupport" -lClientSupport)
        sources_for_staleness+=("$out/ClientSupport/libClientSupport.a")
    fi
    if needs_json "$target"; then
        extra+=(-I "$out/JSON" -L "$out/JSON" -lJSON)
        sources_for_staleness+=("$out/JSON/libJSON.a")
    fi
    if stale "$binary" "${sources_for_staleness[@]}"; then
        echo "fuzz: building $target"
        # ld.gold warns about the sanitizer's symbols; the warnings are kept in the build log only.
        "$swiftc" "${flags[@]}" -module-name "Fuzz$target" "${extra[@]}" "${sources[@]}" -o "$binary" \
            2>"$out/logs/$target.build.log" || {
            grep -v 'warning' "$out/logs/$target.build.log" >&2 || true
            echo "fuzz: $target did not build (log: $out/logs/$target.build.log)" >&2
            exit 2
        }
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failed=()
printf '\n%-16s %12s %8s %8s  %s\n' target runs cov ft result
for target in "${targets[@]}"; do
    corpus="$work/$target"
    mkdir -p "$corpus"
    # A copy: what the fuzzer finds worth keeping must not grow the checked-in corpus.
    cp -R "$root/Tests/Fuzz/corpus/$target/." "$corpus/"
    artifacts="$out/artifacts/$target"
    mkdir -p "$artifacts"
    log="$out/logs/$target.log"
    status=0
    "$out/bin/$target" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?

    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    last="$(grep 'cov: ' "$log" | tail -n 1 || true)"
    cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    if [[ "$status" -eq 0 ]]; then
        printf '%-16s %12s %8s %8s  %s\n' "$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" ok
        continue
    fi
    printf '%-16s %12s %8s %8s  %s\n' "$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" "FAILED (exit $status)"
    failed+=("$target")
    input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    echo "  log: $log"
    if [[ -n "$input" && -f "$input" ]]; then
        echo "  input kept: $input ($(wc -c <"$input") bytes)"
        echo "  input hex: $(od -An -v -tx1 "$input" | tr -d ' \n' | cut -c1-2048)"
    fi
    # The reason and the stack: from the first error line to the end of the first stack.
    awk '/invariant broken|Fatal error|==ERROR|ERROR: libFuzzer|ERROR: AddressSanitizer|LeakSanitizer/ { on = 1 }
         on { print "  | " $0; if (/^ *$/ && seen) exit; if (/#[0-9]+ /) seen = 1 }' "$log" | head -n 60 | demangle
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a crash or leak"
