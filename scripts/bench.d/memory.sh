#!/usr/bin/env bash
# The memory streamer against the sample's pipeline, on the same data in the same run.
#
#   sample: dd if=IMAGE bs=1M | tee >(gzip) >(md5sum) | sha256sum      (every stage waited for)
#   irf:    irf-memdump stream --source file:IMAGE --plan-file PLAN    (SHA-256 while streaming
#           16 MiB parts over HTTP to a local sink that discards them; the host computes no MD5)
#
# Also measured: one core's SHA-256 and MD5 rates (openssl, SHA-NI where the CPU has it). The
# streamer's hashing ceiling per core is the rate of the digests it computes per byte (one
# SHA-256 pass: the host computes no MD5); the goal is 80 % of it per busy core. The image is
# IRF_BENCH_MIB MiB (default 1024) of alternating 1 MiB random and zero blocks (memory images
# are partly empty), read from the page cache in both runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mib="${IRF_BENCH_MIB:-1024}"
cargo build --locked -q --release -p irf-memdump --manifest-path "$root/Cargo.toml"
tool="${CARGO_TARGET_DIR:-$root/target}/release/irf-memdump"
work="$(mktemp -d)"
sink_pid=""
cleanup() {
  if [[ -n "$sink_pid" ]]; then kill "$sink_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/image" "$mib" <<'PY'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
zero = bytes(1 << 20)
with open(path, "wb") as f:
    for i in range(mib):
        f.write(os.urandom(1 << 20) if i % 2 == 0 else zero)
PY
cat "$work/image" > /dev/null

# A sink that accepts part PUTs and discards them.
python3 - "$work/port" <<'PY' &
import http.server, socketserver, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            left -= len(chunk)
        self.send_response(200)
        self.send_header("ETag", '"sink"')
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = Server(("127.0.0.1", 0), Sink)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
sink_pid=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port="$(cat "$work/port")"
python3 - "$work/plan.json" "$port" "$mib" <<'PY'
import json, sys
path, port, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
parts = mib // 16 + 1
json.dump({"version": 1, "case_id": "BENCH", "object_key": "bench.lime", "part_size": 16 << 20,
           "parts": [{"number": n, "url": f"http://127.0.0.1:{port}/bench.lime?partNumber={n}"} for n in range(1, parts + 1)]},
          open(path, "w"))
PY

seconds() { python3 -c 'import sys; print(f"{float(sys.argv[1]):.3f}")' "$1"; }
timed() { # prints "wall user+sys" of a command
  local t
  t="$( { /usr/bin/time -f '%e %U %S' "$@" > /dev/null 2> /dev/null; } 2>&1 | tail -1 )"
  echo "$t"
}
rate() { python3 -c 'import sys; print(f"{int(sys.argv[1]) / float(sys.argv[2]):.0f}")' "$mib" "$1"; }

mkfifo "$work/to-gzip" "$work/to-md5"
sample_start=$(date +%s.%N)
gzip -c < "$work/to-gzip" > /dev/null &
g=$!
md5sum < "$work/to-md5" > /dev/null &
m=$!
dd if="$work/image" bs=1M status=none | tee "$work/to-gzip" "$work/to-md5" | sha256sum > /dev/null
wait "$g" "$m"
sample_end=$(date +%s.%N)
sample_s="$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$sample_start" "$sample_end")"

read -r irf_wall irf_user irf_sys < <(/usr/bin/time -f '%e %U %S' "$tool" stream --source "file:$work/image" --plan-file "$work/plan.json" 2>&1 >/dev/null | tail -1)
read -r sha_wall _ _ < <(/usr/bin/time -f '%e %U %S' openssl dgst -sha256 "$work/image" 2>&1 >/dev/null | tail -1)
read -r md5_wall _ _ < <(/usr/bin/time -f '%e %U %S' openssl dgst -md5 "$work/image" 2>&1 >/dev/null | tail -1)

irf_cores="$(python3 -c 'import sys; print(f"{(float(sys.argv[2]) + float(sys.argv[3])) / float(sys.argv[1]):.2f}")' "$irf_wall" "$irf_user" "$irf_sys")"
sample_rate="$(rate "$sample_s")"
irf_rate="$(rate "$irf_wall")"
sha_rate="$(rate "$sha_wall")"
md5_rate="$(rate "$md5_wall")"
echo "memory streamer benchmark: ${mib} MiB image (half random, half zero), $(nproc) cores"
echo "  sample pipeline (dd | tee >(gzip) >(md5sum) | sha256sum): $(seconds "$sample_s") s, ${sample_rate} MiB/s"
echo "  irf-memdump (SHA-256, HTTP parts):                         $(seconds "$irf_wall") s, ${irf_rate} MiB/s, ${irf_cores} cores busy"
echo "  one core's SHA-256 (openssl dgst -sha256):                 $(seconds "$sha_wall") s, ${sha_rate} MiB/s"
echo "  one core's MD5 (openssl dgst -md5, not computed by irf):    $(seconds "$md5_wall") s, ${md5_rate} MiB/s"
python3 - "$irf_rate" "$sample_rate" "$sha_rate" "$irf_cores" <<'PY'
import sys
irf, sample, sha, cores = map(float, sys.argv[1:])
print(f"  ratio irf / sample: {irf / sample:.1f}x (goal: at least 3x)")
print(f"  irf per busy core / its hashing ceiling (one SHA-256 pass per byte, {sha:.0f} MiB/s): "
      f"{irf / max(cores, 1.0) / sha * 100:.0f}% (goal: at least 80%)")
PY
