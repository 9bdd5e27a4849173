#!/usr/bin/env bash
# The collection's docs site, built with antsibull-docs as docs.ansible.com
# builds collections' docs. The guides are written in Markdown (README.md,
# docs/**/*.md), which GitHub shows; the site takes them as RST under
# docs/docsite/rst, made from that one source by pandoc and
# scripts/docsite/md2rst.lua, and committed so that the tarball carries them.
#   scripts/docsite.sh rst          write docs/docsite/rst from the Markdown
#   scripts/docsite.sh fresh        fail if docs/docsite/rst is not what rst writes
#   scripts/docsite.sh build DIR    build the site from the tarball in .build/dist
#                                   into DIR/site, then check it has every page
# Needs scripts/setup.sh done (pandoc, the venv, the tarball).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The guides, and their pages' names under docs/docsite/rst.
guides() {
    echo "README.md readme"
    for md in docs/*.md docs/modes/*.md; do
        rel=${md#docs/}
        echo "$md ${rel%.md}"
    done
}

# rst OUT: every guide as RST into OUT.
rst() {
    local out=$1 md page
    rm -rf "$out"
    mkdir -p "$out/modes"
    guides | while read -r md page; do
        pandoc -f gfm -t rst --wrap=none -M docpath="$md" --lua-filter=scripts/docsite/md2rst.lua "$md" |
            # pandoc writes a label right above its title, and a paragraph right
            # below a raw block; RST wants a blank line between each.
            awk '{
                if ((lab && $0 !~ /^\.\. _/ && $0 != "") || (raw && $0 ~ /^[^ ]/ && prev != "")) print ""
                if ($0 ~ /^[^ ]/) raw = 0
                print
                lab = ($0 ~ /^\.\. _ansible_collections\..*:$/); raw = raw || ($0 == ".. raw:: html"); prev = $0
            }' >"$out/$page.rst"
    done
}

case ${1:-} in
    rst)
        rst docs/docsite/rst
        ;;
    fresh)
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        rst "$tmp/rst"
        if ! diff -ru docs/docsite/rst "$tmp/rst"; then
            echo "docs/docsite/rst is not what the Markdown guides make: run scripts/docsite.sh rst" >&2
            exit 1
        fi
        ;;
    build)
        work=$(realpath -m "${2:?usage: scripts/docsite.sh build DIR}")
        rm -rf "$work"
        mkdir -p "$work/collections" "$work/site"
        # The collection as a user gets it: from its tarball.
        ansible-galaxy collection install --offline --no-deps --force -p "$work/collections" .build/dist/lvs-ipvs-*.tar.gz \
            2>&1 >/dev/null | grep -v 'is not part of the configured Ansible collections paths' >&2 || true
        export ANSIBLE_COLLECTIONS_PATH=$work/collections:$ROOT/.build/bundled
        antsibull-docs sphinx-init --use-current --dest-dir "$work/site" lvs.ipvs >/dev/null
        cd "$work/site"
        antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --use-current --dest-dir rst lvs.ipvs
        # Offline, intersphinx cannot fetch docs.ansible.com's inventory: its
        # warnings are expected, so no -W; check_site.py allows only those.
        sphinx-build -M html rst build -c . -q --keep-going -w "$work/sphinx-warnings.log" -j 2 2>/dev/null || true
        python3 "$ROOT/scripts/docsite/check_site.py" "$work/collections/ansible_collections/lvs/ipvs" \
            build/html "$work/sphinx-warnings.log"
        echo "site: $work/site/build/html/collections/lvs/ipvs/index.html"
        ;;
    *)
        sed -n '2,11p' "$0" >&2
        exit 2
        ;;
esac
