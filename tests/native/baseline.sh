#!/usr/bin/env bash
# manyfold-core's tests, built in release for x86_64 with rustc's default (baseline x86-64) CPU as
# the shipped library is, run under qemu-x86_64 emulating its `qemu64` CPU: SSE2 and SSE3 only,
# no SSSE3, SSE4, POPCNT, AVX or FMA. Code that used one of those without asking CPUID first
# would die with SIGILL. First checks that the emulator does trap such instructions.
# Usage: tests/native/baseline.sh [cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/../.."

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
for insn in 'vpxor %%ymm0, %%ymm0, %%ymm0' 'pshufb %%xmm0, %%xmm0' 'popcnt %%rax, %%rax'; do
  printf 'int main(void) { __asm__ volatile("%s" ::: "rax", "xmm0"); return 0; }\n' "$insn" \
    > "$probe/p.c"
  cc -O0 -o "$probe/p" "$probe/p.c"
  if qemu-x86_64 -cpu qemu64 "$probe/p" 2>/dev/null; then
    echo "baseline: qemu64 ran '${insn//%%/%}' without SIGILL; it cannot show baseline x86-64" >&2
    exit 1
  fi
done
echo "baseline: qemu64 traps AVX2, SSSE3 and POPCNT instructions"

CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="qemu-x86_64 -cpu qemu64" \
  cargo test --release --workspace "$@"
