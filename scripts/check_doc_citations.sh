#!/usr/bin/env bash
# Checks that comments and docs cite only documents inside the repository.
#
#   scripts/check_doc_citations.sh
#
# Scans every file git knows about (tracked, or untracked and not ignored; binary files
# skipped) and fails, listing file:line and the reason, when a file
#   1. points outside the repository: a relative path whose `../` steps climb above the
#      repository root (resolved from the citing file's folder);
#   2. names one of the old design notes (ARCHITECTURE, CONVENTIONS, GPT-OSS, DISTRIBUTED .md)
#      without the `docs/` prefix, unless it is a sibling reference inside docs/ to a file
#      that exists there;
#   3. cites `docs/X.md` that does not exist;
#   4. cites `docs/X.md, "Section"` where docs/X.md has no heading starting with Section;
#   5. (Markdown files) links to a relative `.md` path that does not exist.
#
# Exit status: 0 when nothing offends, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
self=scripts/check_doc_citations.sh

design='(ARCHITECTURE|CONVENTIONS|GPT-OSS|DISTRIBUTED)\.md'

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | tr '\0' '\n' | sort -u
  else
    find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||' | sort
  fi
}

# Whether docs/$1 (a file name) has a heading whose text starts with $2.
has_heading() {
  local doc=$1 section=$2
  awk -v s="$section" '
    /^#+[ \t]/ { t = $0; sub(/^#+[ \t]+/, "", t); if (index(tolower(t), tolower(s)) == 1) found = 1 }
    END { exit found ? 0 : 1 }' "$root/docs/$doc"
}

failures=0
report() {  # file line reason
  echo "OFFENDER: $1:$2: $3"
  failures=$((failures + 1))
}

while IFS= read -r f; do
  # (Only text files with a "../" or ".md" reach this loop: nothing else can offend.)

  # 1. paths outside the repository: ../ steps that climb above the root.
  dir=$(dirname "$f")
  while IFS=: read -r line token; do
    resolved=$(realpath -m "$root/$dir/$token")
    [[ $resolved == "$root" || $resolved == "$root"/* ]] ||
      report "$f" "$line" "cites $token, a path outside the repository"
  done < <(grep -noE '(^|[^A-Za-z0-9_./-])(\.\./)+[A-Za-z0-9_.-]*' "$f" | sed -E 's/:[^.]*(\.\.\/)/:\1/' || true)

  # 2. old design-note names without docs/.
  while IFS=: read -r line token; do
    case "$token" in
      docs/*) continue ;;  # checked by 3
    esac
    name=${token##*/}
    if [[ $f == docs/* && $token == "$name" && -f docs/$name ]]; then continue; fi
    report "$f" "$line" "cites '$token', which is not in the repository (use docs/<FILE>.md, \"Section\")"
  done < <(grep -noE "[A-Za-z0-9_./-]*$design" "$f" | grep -E ":([A-Za-z0-9_./-]*/)?$design\$" || true)

  # 3. docs/X.md that does not exist; 4. docs/X.md, "Section" without that heading.
  while IFS=: read -r line token; do
    doc=${token#*docs/}
    if [ ! -f "docs/$doc" ]; then
      report "$f" "$line" "cites docs/$doc, which does not exist"
    fi
  done < <(grep -noE '(^|[^A-Za-z0-9_./-])docs/[A-Za-z0-9_-]+\.md' "$f" || true)
  while IFS=: read -r line cite; do
    doc=$(echo "$cite" | sed -E 's/^docs\/([A-Za-z0-9_-]+\.md).*/\1/')
    section=$(echo "$cite" | sed -E 's/^[^"]*"([^"]+)"$/\1/')
    [ -f "docs/$doc" ] || continue  # reported by 3
    has_heading "$doc" "$section" ||
      report "$f" "$line" "cites docs/$doc, \"$section\", but docs/$doc has no such heading"
  done < <(grep -noE 'docs/[A-Za-z0-9_-]+\.md, "[^"]+"' "$f" || true)

  # 5. relative Markdown links to .md files.
  if [[ $f == *.md ]]; then
    dir=$(dirname "$f")
    while IFS=: read -r line link; do
      target=$(echo "$link" | sed -E 's/^\]\(([^)#]+)(#[^)]*)?\)$/\1/')
      [ -f "$dir/$target" ] || report "$f" "$line" "links to $target, which does not exist"
    done < <(grep -noE '\]\([^):# ]+\.md(#[^)]*)?\)' "$f" || true)
  fi
done < <(list_files | grep -vxF "$self" | tr '\n' '\0' |
          xargs -0 -r grep -lIE '\.\./|\.md' -- 2>/dev/null || true)

if [ "$failures" -gt 0 ]; then
  echo "check_doc_citations: $failures citation(s) of documents outside the repository or missing from it" >&2
  exit 1
fi
echo "check_doc_citations: ok"
