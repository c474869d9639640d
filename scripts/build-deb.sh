#!/bin/sh
# `make deb`: builds build/deb/vdp-agent_<version>_amd64.deb with debhelper (packaging/debian/) from the
# compiled tree (`make build` runs first), then checks it with lintian (errors fail the build).
#
# Staged into build/deb/vdp-agent-<version>/ and installed by dh_install:
#   usr/lib/vdp-agent/  bin/run.js, dist/src + dist/commands (no tests, benchmarks or source maps),
#                       oclif.manifest.json, package.json, the AF_PACKET addon, and node_modules
#                       with production dependencies only (better-sqlite3 without its sources);
#   etc/vdp-agent/agent.ini (a conffile), man pages and bash completion generated from the oclif manifest
#   and the config schema (scripts/write-package-docs.mjs), README.md as the package's documentation.
# The unit, sysusers and tmpfiles entries come from packaging/ (dh_installsystemd, dh_installsysusers,
# dh_installtmpfiles write the maintainer scripts).
set -eu
cd "$(dirname "$0")/.."

version=$(node -p 'require("./package.json").version')
changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$version" != "$changelog_version" ]; then
  echo "build-deb: package.json says $version but packaging/debian/changelog says $changelog_version" >&2
  exit 1
fi
# Reproducible: file times and the man pages' date come from the changelog entry.
export SOURCE_DATE_EPOCH="$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp)"
for f in oclif.manifest.json build/Release/afpacket.node node_modules/better-sqlite3/build/Release/better_sqlite3.node; do
  [ -e "$f" ] || { echo "build-deb: $f is missing: run make build first" >&2; exit 1; }
done

out=build/deb
src=$out/vdp-agent-$version
app=$src/usr/lib/vdp-agent
rm -rf "$out"
mkdir -p "$app/dist" "$app/build/Release" "$src/etc/vdp-agent"

cp -R packaging/debian "$src/debian"
cp packaging/vdp-agent.service packaging/vdp-agent.sysusers packaging/vdp-agent.tmpfiles "$src/debian/"
cp README.md "$src/"
cp agent.ini "$src/etc/vdp-agent/agent.ini"

# The program. binding.gyp marks the package root, where the addon loader looks for build/Release.
cp package.json package-lock.json oclif.manifest.json binding.gyp "$app/"
cp -R bin "$app/bin"
sed -i '1s|^#!/usr/bin/env node$|#!/usr/bin/node|' "$app/bin/run.js"
# Only the modules the commands and the fast path can reach, by the TypeScript compiler's own import graph:
# what only tests and benchmarks use (dist/test, dist/bench) stays out.
entries=$(find commands -name '*.ts' | sort)
npx tsc --ignoreConfig --listFilesOnly --module nodenext --moduleResolution nodenext --target es2022 --types node \
  --skipLibCheck $entries src/cli/fast-path.ts |
  sed "s|^$PWD/||" | grep -E '^(src|commands)/.*\.ts$' | sort -u > "$out/modules.txt"
while read -r module; do
  mkdir -p "$app/dist/$(dirname "$module")"
  cp "dist/${module%.ts}.js" "$app/dist/${module%.ts}.js"
done < "$out/modules.txt"
echo "left out (not reachable from a command):" $(find src commands -name '*.ts' | sort | comm -23 - "$out/modules.txt")
cp build/Release/afpacket.node "$app/build/Release/"

# Production dependencies only, from the already built tree (no network, same native build).
# node_modules/. copies the contents: a symlinked node_modules must never be pruned in place.
mkdir -p "$app/node_modules" && cp -R node_modules/. "$app/node_modules/"
(cd "$app" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
rm -f "$app/package-lock.json" "$app/node_modules/.package-lock.json"
bs3=$app/node_modules/better-sqlite3
rm -rf "$bs3/deps" "$bs3/src" "$bs3/binding.gyp"
find "$bs3/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$bs3/build/Release" -mindepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
# What a module needs only in its repository: tests, docs, type declarations, source maps, build leftovers.
find "$app/node_modules" -mindepth 2 -type d \( -name .bin -o -name .github -o -name .husky -o -name test -o -name tests -o -name docs -o -name benchmarks -o -name example -o -name examples \) -prune -exec rm -rf {} +
find "$app/node_modules" -type f -name '*.sh' -delete
find "$app" -type f \( -name '.*' -o -name '*.ts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' -o -name '*.html' \) -delete
find "$app" -depth -type d -empty -delete
# Plain files 0644 (some modules ship an executable LICENSE); debian/rules makes #! scripts 0755 again.
find "$app" -type f -exec chmod 0644 {} +
node scripts/write-deb-copyright.mjs "$src"

node scripts/write-package-docs.mjs "$src" "$app/oclif.manifest.json"

(cd "$src" && dpkg-buildpackage -b --no-sign)
deb=$out/vdp-agent_${version}_amd64.deb
echo "built $deb ($(du -k "$deb" | cut -f1) KiB, installed $(dpkg-deb -f "$deb" Installed-Size) KiB)"
lintian --fail-on error --display-info "$deb"
