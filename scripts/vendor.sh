#!/usr/bin/env bash
# Copies the browser libraries of the consoles (frontend/package.json, put
# in frontend/node_modules by scripts/setup.sh) into the site, under
# target/site/pkg/vendor/, with brotli and gzip copies beside each file as
# the server sends them (like the bundle's). They are loaded only when a
# console is opened (app/js/console.js), never with the main bundle:
#   novnc/   noVNC's ES modules (core/, and the pako it imports), MPL-2.0
#   xterm/   xterm.js (ESM build and stylesheet) and its fit add-on, MIT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
modules="$root/frontend/node_modules"
out="$root/target/site/pkg/vendor"
for need in "@novnc/novnc/core/rfb.js" "@xterm/xterm/lib/xterm.mjs" "@xterm/addon-fit/lib/addon-fit.mjs"; do
  [ -f "$modules/$need" ] || { echo "missing $modules/$need: run scripts/setup.sh" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/novnc/vendor/pako" "$out/xterm"
cp -r "$modules/@novnc/novnc/core" "$out/novnc/core"
cp -r "$modules/@novnc/novnc/vendor/pako/lib" "$out/novnc/vendor/pako/lib"
cp "$modules/@novnc/novnc/LICENSE.txt" "$out/novnc/LICENSE.txt"
cp "$modules/@novnc/novnc/vendor/pako/LICENSE" "$out/novnc/vendor/pako/LICENSE"
cp "$modules/@xterm/xterm/lib/xterm.mjs" "$modules/@xterm/xterm/css/xterm.css" \
   "$modules/@xterm/addon-fit/lib/addon-fit.mjs" "$out/xterm/"
cp "$modules/@xterm/xterm/LICENSE" "$out/xterm/LICENSE"
# Source maps are not served: strip their references.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/xterm/*.mjs
# Precompressed copies, as the server prefers them (node's zlib: brotli
# at quality 11, gzip at 9), with the files' own times so the server's
# revalidation sees them as one.
node - "$out" <<'JS'
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
for (const file of walk(process.argv[2])) {
  if (!/\.(m?js|css)$/.test(file)) continue;
  const data = fs.readFileSync(file);
  fs.writeFileSync(file + '.br', zlib.brotliCompressSync(data, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
  fs.writeFileSync(file + '.gz', zlib.gzipSync(data, { level: 9 }));
}
JS
echo "vendor: $(find "$out" -type f ! -name '*.br' ! -name '*.gz' | wc -l) files in $out"
