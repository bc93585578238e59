#!/usr/bin/env bash
# The html audit report renders in headless Chromium: render the scenario
# report (test_audit_report writes it), take a screenshot, and check the PNG
# is a real 1280x2000 image with content.  Skipped (77) without chromium;
# install it with `apt-get install chromium` to run this check.
set -euo pipefail
build=${ZV_BUILD_DIR:?}
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "SKIP: chromium not installed"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ZV_AUDIT_HTML_OUT="$tmp/report.html" "$build/tests/test_audit_report" >/dev/null
grep -q "Rapportage gegevensminimalisatie" "$tmp/report.html"
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
  --screenshot="$tmp/out.png" --window-size=1280,2000 "file://$tmp/report.html" \
  >"$tmp/chromium.log" 2>&1 || { cat "$tmp/chromium.log"; exit 1; }
[ -s "$tmp/out.png" ] || { echo "no screenshot"; cat "$tmp/chromium.log"; exit 1; }
# PNG signature, size from the IHDR chunk, and enough bytes to hold a page
# of text and charts rather than a blank one (a blank 1280x2000 PNG is ~10 KB).
python3 - "$tmp/out.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 2000), f"size {w}x{h}"
assert len(data) > 60000, f"only {len(data)} bytes: blank page?"
print(f"ok: {w}x{h}, {len(data)} bytes")
PY
if [ -n "${ZV_SCREENSHOT_KEEP:-}" ]; then cp "$tmp/out.png" "$ZV_SCREENSHOT_KEEP"; fi
