#!/usr/bin/env bash
# The imaging pipeline (read → verify each block's SHA-256 → image SHA-256 + MD5 → part
# SHA-256 + MD5 → upload) without the network, against the sample's pipeline on the same raw
# image in the same run:
#
#   sample: dd if=IMAGE bs=1M | tee >(gzip) >(md5sum) | sha256sum      (every stage waited for)
#   irf:    examples/bench_imaging (blocks from memory, parts to a store keeping their checksums)
#
# The volume is IRF_BENCH_GIB GiB (default 1): every other 512 KiB block random, the rest sparse.
#
# Also measured: one core's SHA-256 and MD5 rates (openssl). The pipeline's hashing ceiling per
# core is the rate of the digest passes it makes per byte of the image: each allocated block's
# SHA-256 checked (half the bytes here), the image's SHA-256 and MD5, each part's SHA-256, i.e.
# 2.5 SHA-256 passes and one MD5 pass; the goal is 80 % of it per busy core.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
gib="${IRF_BENCH_GIB:-1}"
cargo build --locked -q --release -p irf-runtime --example bench_imaging --manifest-path "$root/Cargo.toml"
bench="${CARGO_TARGET_DIR:-$root/target}/release/examples/bench_imaging"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

read -r irf_wall irf_cores irf_sha < <("$bench" "$work/image" "$gib")
cat "$work/image" > /dev/null
mkfifo "$work/to-gzip" "$work/to-md5"
start=$(date +%s.%N)
gzip -c < "$work/to-gzip" > /dev/null &
g=$!
md5sum < "$work/to-md5" > /dev/null &
m=$!
sample_sha="$(dd if="$work/image" bs=1M status=none | tee "$work/to-gzip" "$work/to-md5" | sha256sum | cut -d' ' -f1)"
wait "$g" "$m"
end=$(date +%s.%N)
read -r sha_wall _ < <( { /usr/bin/time -f '%e %U' openssl dgst -sha256 "$work/image" > /dev/null; } 2>&1 | tail -1)
read -r md5_wall _ < <( { /usr/bin/time -f '%e %U' openssl dgst -md5 "$work/image" > /dev/null; } 2>&1 | tail -1)

python3 - "$gib" "$irf_wall" "$irf_cores" "$start" "$end" "$sha_wall" "$md5_wall" "$irf_sha" "$sample_sha" "$(nproc)" <<'PY'
import sys
gib, irf_wall, irf_cores, start, end, sha_wall, md5_wall = map(float, sys.argv[1:8])
irf_sha, sample_sha, cores = sys.argv[8], sys.argv[9], sys.argv[10]
mib = gib * 1024
sample_wall = end - start
irf, sample, sha, md5 = mib / irf_wall, mib / sample_wall, mib / sha_wall, mib / md5_wall
# Digest passes per image byte: half the blocks allocated, each checked; image SHA-256 and MD5;
# part SHA-256.
ceiling = 1 / (2.5 / sha + 1 / md5)
print(f"imaging pipeline benchmark: {gib:.0f} GiB volume (half allocated, random), {cores} cores")
print(f"  sample pipeline (dd | tee >(gzip) >(md5sum) | sha256sum): {sample_wall:.3f} s, {sample:.0f} MiB/s")
print(f"  irf imaging (verify + SHA-256/MD5 of image and parts):   {irf_wall:.3f} s, {irf:.0f} MiB/s, {irf_cores:.2f} cores busy")
print(f"  one core's SHA-256 (openssl dgst -sha256):               {sha_wall:.3f} s, {sha:.0f} MiB/s")
print(f"  one core's MD5 (openssl dgst -md5):                      {md5_wall:.3f} s, {md5:.0f} MiB/s")
print(f"  same SHA-256: {'yes' if irf_sha == sample_sha else 'NO: ' + irf_sha + ' vs ' + sample_sha}")
print(f"  ratio irf / sample: {irf / sample:.1f}x (goal: at least 3x)")
print(f"  irf per busy core / its hashing ceiling (2.5 SHA-256 + 1 MD5 passes per byte, {ceiling:.0f} MiB/s): {irf / max(irf_cores, 1.0) / ceiling * 100:.0f}% (goal: at least 80%)")
PY
