#!/usr/bin/env bash
# Builds cacheprog_<version>_<arch>.deb with dpkg-deb: /usr/bin/cacheprog (stripped) and /usr/bin/casbridge-ci.
#
#   rules/ci/build-deb.sh [--binary PATH] [--version V] [--out DIR] [--compress xz|gzip|zstd|none]
#
# --binary defaults to .build/release/cacheprog (`swift build -c release`). The version is --version, else the
# VERSION file, else `git describe --tags` of a vX.Y.Z tag, else 0.0~git<commit time>.<commit>. Depends names the
# Debian 12 packages of every library the binary links (read with objdump) and of the two it opens with dlopen
# (libcurl, libxml2); the build fails if a linked library comes from a package the list does not name.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

die() {
    echo "build-deb: $*" >&2
    exit 1
}
binary=$repo/.build/release/cacheprog version="" out=. compress=xz
while (($#)); do
    case $1 in
    --binary) binary=${2:?--binary needs a path} && shift 2 ;;
    --version) version=${2:?--version needs a value} && shift 2 ;;
    --out) out=${2:?--out needs a directory} && shift 2 ;;
    --compress) compress=${2:?--compress needs xz, gzip, zstd or none} && shift 2 ;;
    *) die "unknown argument '$1' (usage: build-deb.sh [--binary PATH] [--version V] [--out DIR] [--compress xz|gzip|zstd|none])" ;;
    esac
done
# Paths are the caller's; the rest runs at the repository root.
[[ $binary == /* ]] || binary=$PWD/$binary
[[ $out == /* ]] || out=$PWD/$out
cd "$repo"
[[ -x $binary ]] || die "no executable cacheprog at $binary (swift build -c release, or pass --binary)"
case $compress in xz | gzip | zstd | none) ;; *) die "--compress: '$compress' is not xz, gzip, zstd or none" ;; esac
for tool in dpkg-deb objdump strip dpkg-query; do
    command -v $tool >/dev/null 2>&1 || die "$tool is missing (apt-get install dpkg binutils)"
done

if [[ -z $version && -s VERSION ]]; then version=$(tr -d ' \n' <VERSION); fi
if [[ -z $version ]] && described=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
    # v1.2.3 -> 1.2.3; v1.2.3-4-gabcdef -> 1.2.3+4.gabcdef
    version=${described#v}
    version=${version/-/+}
    version=${version//-/.}
fi
if [[ -z $version ]]; then
    version="0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short HEAD)"
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "version '$version' is not a Debian version (it must start with a digit)"
arch=$(dpkg --print-architecture)

# Library sonames -> the Debian 12 package that ships each. dlopen'ed ones are named in Sources/CCurl/shim.h and
# Sources/CLibXML2/shim.h; rules/ci/tests/run.sh checks this list against them.
declare -A package_of=(
    [libc.so.6]=libc6 [libm.so.6]=libc6 [ld-linux-x86-64.so.2]=libc6 [ld-linux-aarch64.so.1]=libc6
    [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1 [libz.so.1]=zlib1g [libzstd.so.1]=libzstd1
    [libcrypto.so.3]=libssl3 [libcurl.so.4]=libcurl4 [libxml2.so.2]=libxml2
)
dlopened=(libcurl.so.4 libxml2.so.2)
mapfile -t needed < <(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }')
((${#needed[@]})) || die "objdump found no NEEDED libraries in $binary: is it a dynamically linked ELF?"
depends=()
for soname in "${needed[@]}" "${dlopened[@]}"; do
    package=${package_of[$soname]:-}
    [[ -n $package ]] || die "$binary needs $soname, which Depends does not cover: add its package to build-deb.sh"
    # Where this machine's copy comes from must agree (a Debian 12 build machine).
    if owner=$(dpkg-query -S "*/$soname" 2>/dev/null | grep -v -- '-dev' | head -1 | cut -d: -f1) && [[ -n $owner ]]; then
        [[ $owner == "$package" ]] || die "$soname comes from $owner on this machine, but build-deb.sh names $package"
    fi
    [[ " ${depends[*]} " == *" $package "* ]] || depends+=("$package")
done
# The newest glibc symbol version the binary uses is the libc6 it needs.
glibc=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
depends_line=$(printf '%s\n' "${depends[@]}" | sort | sed "s/^libc6\$/libc6 (>= ${glibc:-2.36})/" | paste -sd, - | sed 's/,/, /g')

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/cacheprog
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/doc/cacheprog"
strip -o "$root/usr/bin/cacheprog" "$binary"
install -m 0755 rules/ci/casbridge-ci "$root/usr/bin/casbridge-ci"
install -m 0644 rules/ci/README.md "$root/usr/share/doc/cacheprog/README.ci.md"
chmod 0755 "$root/usr/bin/cacheprog"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: cacheprog
Version: $version
Architecture: $arch
Maintainer: CASBridge maintainers <casbridge@localhost>
Installed-Size: $installed_size
Depends: $depends_line
Section: devel
Priority: optional
Description: GOCACHEPROG helper keeping Go's build cache in a content-addressed store
 cacheprog serves the go command's build and test cache (GOCACHEPROG) from a local
 content-addressed store, with optional HTTP (bazel-remote), S3 and REAPI gRPC remotes.
 casbridge-ci sets it up in a CI job and sums up its hits at the end.
EOF
mkdir -p "$out"
deb="$out/cacheprog_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compress" --build "$root" "$deb" >/dev/null
echo "build-deb: $deb (Depends: $depends_line)" >&2
echo "$deb"
