#!/usr/bin/env bash
# The stylesheet: one file per area in style/ (NN-area.css), linted by
# stylelint (style/.stylelintrc.json), then concatenated in name order into
# target/style/stackyard.css, the one file cargo-leptos minifies and serves
# (Cargo.toml: style-file). Called by `make build`; `scripts/test.sh` calls it
# with --check.
#
#   scripts/style.sh           lint, then write target/style/stackyard.css
#                              (rewritten only when its content changes)
#   scripts/style.sh --check   lint only, write nothing
#
# The concatenation is linted too, so a selector repeated in two area files
# is caught as well as one repeated within a file. There
# no-descending-specificity is off: it holds within each area file, and
# across areas it would only ask to reorder unrelated rules (".host-card h2 a"
# before ".main-nav a:hover").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/end2end/node_modules/.bin:$PATH"
# Name order is byte order, whatever the locale.
export LC_ALL=C

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

out=target/style/stackyard.css
config=style/.stylelintrc.json

if ! command -v stylelint >/dev/null; then
  echo "style.sh: stylelint not found in end2end/node_modules; run scripts/setup.sh (npm ci in end2end)" >&2
  exit 1
fi

shopt -s nullglob
files=(style/*.css)
shopt -u nullglob
if [ ${#files[@]} -eq 0 ]; then
  echo "style.sh: no style/*.css files" >&2
  exit 1
fi

# --config-basedir: the config extends stylelint-config-standard, which is
# installed in end2end/node_modules rather than next to the config.
lint() { stylelint --config "$config" --config-basedir "$root/end2end" --max-warnings 0 "$@"; }
lint_concat() { stylelint --config "$concat_config" --config-basedir "$root/end2end" --max-warnings 0 "$@"; }

# Each area file on its own: an unclosed brace is reported with its file and
# line, and cannot run on into the next area.
lint "${files[@]}"

tmp=$(mktemp)
concat_config=$(mktemp --suffix=.json)
trap 'rm -f "$tmp" "$concat_config"' EXIT
node -e '
  const fs = require("fs");
  const config = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  config.rules = { ...config.rules, "no-descending-specificity": null };
  fs.writeFileSync(process.argv[2], JSON.stringify(config));
' "$config" "$concat_config"
starts=()
line=1
for f in "${files[@]}"; do
  starts+=("$line: $f")
  line=$((line + 2 + $(wc -l < "$f")))
  [ -z "$(tail -c 1 "$f")" ] || line=$((line + 1))
  printf '/* from %s */\n' "$f"
  cat "$f"
  # A file without a final newline must not glue its last line to the next
  # file's first.
  [ -z "$(tail -c 1 "$f")" ] || echo
  echo
done > "$tmp"

if ! lint_concat --stdin-filename "$out" < "$tmp"; then
  echo "style.sh: line numbers above are in the concatenation, where each file starts at:" >&2
  printf '  line %s\n' "${starts[@]}" >&2
  exit 1
fi

if $check; then
  exit 0
fi

mkdir -p "$(dirname "$out")"
if cmp -s "$tmp" "$out"; then
  echo "style.sh: $out unchanged"
else
  chmod 644 "$tmp"
  # Written beside the target and renamed, so a reader never sees half a file.
  cp "$tmp" "$out.tmp"
  mv "$out.tmp" "$out"
  echo "style.sh: wrote $out from ${#files[@]} files"
fi
