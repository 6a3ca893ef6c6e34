#!/usr/bin/env bash
# In a real-kernel guest (Debian's 6.1 cloud kernel under QEMU, scripts/guest-kit), the memory
# capture as IRF does it against the sample's pipeline, on the same guest in the same boot:
#
#   sample: insmod lime.ko path=FILE format=lime, then gzip -c FILE, md5sum FILE, sha256sum FILE
#           (the sample's capture script: dump to a file, then compress and hash it)
#   irf:    irf-memdump capture --source kcore --out FILE   (SHA-256 while writing, one pass)
#
# Then, on the host, the Volatility 3 ISF built from the symbol bundle the guest's kernel gave
# (`irf-memdump symbols`; release build of irf-isf's build_isf example), timed with its peak RSS.
#
# Both write to the guest's output disk; times come from the guest's own clock (/proc/uptime).
# Software emulation (TCG) makes every figure slower than on EC2; the ratio is the measurement.
# IRF_BENCH_GUEST_MIB sets the guest RAM (default 512).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mib="${IRF_BENCH_GUEST_MIB:-512}"
"$root/scripts/setup" > /dev/null
kit="$("$root/scripts/guest-kit" amd64 | tail -n 1)"
"$root/scripts/streamers" x86_64 2> /dev/null
cargo build --locked -q --release -p irf-isf --example build_isf --manifest-path "$root/Cargo.toml"
build_isf="${CARGO_TARGET_DIR:-$root/target}/release/examples/build_isf"
tool="${CARGO_TARGET_DIR:-$root/target}/x86_64-unknown-linux-musl/lambda/irf-memdump"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/job"
cp "$tool" "$work/job/irf-memdump"
cp "$kit/lime.ko" "$work/job/lime.ko"
cat > "$work/job/job.sh" <<'EOF'
set -eu
now() { cut -d ' ' -f 1 /proc/uptime; }
chmod +x /job/irf-memdump
t0=$(now)
insmod /job/lime.ko "path=$IRF_OUT/lime.lime" format=lime
rmmod lime
t1=$(now)
gzip -c "$IRF_OUT/lime.lime" > "$IRF_OUT/lime.lime.gz"
t2=$(now)
md5sum "$IRF_OUT/lime.lime" > /dev/null
t3=$(now)
sha256sum "$IRF_OUT/lime.lime" > /dev/null
t4=$(now)
rm -f "$IRF_OUT/lime.lime.gz"
/job/irf-memdump symbols --out "$IRF_OUT/symbols" > /dev/null
/job/irf-memdump capture --source kcore --out "$IRF_OUT/kcore.lime" > "$IRF_OUT/kcore.json"
t5=$(now)
echo "lime_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
echo "gzip_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
echo "md5_s=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')"
echo "sha256_s=$(awk -v a="$t3" -v b="$t4" 'BEGIN { print b - a }')"
echo "irf_s=$(awk -v a="$t4" -v b="$t5" 'BEGIN { print b - a }')"
echo "lime_bytes=$(wc -c < "$IRF_OUT/lime.lime")"
echo "irf_bytes=$(wc -c < "$IRF_OUT/kcore.lime")"
EOF
"$root/scripts/guest-run" --kit "$kit" --append no5lvl --memory "$mib" \
  --out-size "$((mib * 3 + 256))" --timeout 1800 "$work/job" "$work/out" > /dev/null
read -r isf_wall isf_rss < <(/usr/bin/time -f '%e %M' "$build_isf" build "$work/out/symbols" \
  "$work/isf.json.xz" 2>&1 > /dev/null | tail -n 1)
python3 - "$work/out/stdout" "$mib" "$isf_wall" "$isf_rss" "$(wc -c < "$work/isf.json.xz")" \
  "$(wc -c < "$work/out/symbols/btf")" <<'PY'
import sys
isf_wall, isf_rss_kib, isf_bytes, btf_bytes = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
v = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
f = {k: float(x) for k, x in v.items()}
sample = f["lime_s"] + f["gzip_s"] + f["md5_s"] + f["sha256_s"]
irf = f["irf_s"]
mib = lambda b: b / (1 << 20)
print(f"in-guest capture benchmark: {sys.argv[2]} MiB guest (Debian 6.1 cloud kernel, QEMU TCG, 1 vCPU)")
print(f"  sample: LiME to a file {f['lime_s']:.2f} s, gzip {f['gzip_s']:.2f} s, md5sum {f['md5_s']:.2f} s, "
      f"sha256sum {f['sha256_s']:.2f} s: {sample:.2f} s for {mib(f['lime_bytes']):.0f} MiB")
print(f"  irf-memdump capture --source kcore (SHA-256 while writing): {irf:.2f} s for {mib(f['irf_bytes']):.0f} MiB")
print(f"  ratio sample / irf: {sample / irf:.1f}x (goal: at least 3x)")
print(f"ISF from the guest kernel's bundle ({btf_bytes / 1e6:.1f} MB of BTF; release build_isf, load, build, JSON, xz): "
      f"{isf_wall:.2f} s wall, {isf_rss_kib / 1024:.0f} MiB peak RSS, {isf_bytes / 1e6:.2f} MB (goal: at most 2 s and 300 MiB)")
PY
