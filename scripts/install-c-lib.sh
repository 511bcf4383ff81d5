#!/usr/bin/env bash
# Builds lwsec's C library and installs it under PREFIX, like `make install`:
#
#   PREFIX/include/lwsec.h
#   PREFIX/lib/liblwsec.a                    static library
#   PREFIX/lib/liblwsec.so.X.Y.Z             shared library, SONAME liblwsec.so.X
#   PREFIX/lib/liblwsec.so.X -> liblwsec.so.X.Y.Z   (what programs load)
#   PREFIX/lib/liblwsec.so   -> liblwsec.so.X       (what `-llwsec` finds)
#   PREFIX/lib/pkgconfig/lwsec.pc            shared: pkg-config --cflags --libs lwsec
#   PREFIX/lib/pkgconfig/lwsec-static.pc     static: pkg-config --cflags --libs lwsec-static
#
# Usage: scripts/install-c-lib.sh [--libdir DIR] [--features LIST] [--strip] PREFIX
#
#   --libdir DIR      install the libraries in DIR (default PREFIX/lib)
#   --strip           strip debugging symbols from the installed libraries
#                     (liblwsec.a holds the Rust standard library's: about
#                     24 MB -> 15 MB; a program pulls in only what it uses)
#   --features LIST   extra Cargo features, e.g. aws-lc (the faster provider;
#                     needs a C compiler)
#
# The library is built with `--no-default-features --features ffi`: the C
# API needs no async runtime, so tokio is not compiled in.
#
# Environment: DESTDIR (staged install for packagers: files go to
# DESTDIR/PREFIX, the .pc files still say PREFIX), CARGO (default cargo),
# CARGO_TARGET_DIR (default target/), LWSEC_PROFILE (Cargo profile,
# default release).
#
# Linux and other ELF systems (GNU ld or lld). After installing to a
# directory the dynamic loader does not search, either run `ldconfig` (as
# root, with the directory in /etc/ld.so.conf.d/) or link programs with
# -Wl,-rpath,PREFIX/lib; see README.md, "Using lwsec from C".
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-2}"; }

libdir=""
features=""
prefix=""
strip=0
while [ $# -gt 0 ]; do
  case "$1" in
    --libdir) libdir="${2:?--libdir needs a directory}"; shift 2 ;;
    --features) features="${2:?--features needs a list}"; shift 2 ;;
    --strip) strip=1; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "install-c-lib.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$prefix" ] || usage; prefix="$1"; shift ;;
  esac
done
[ -n "$prefix" ] || usage
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
prefix="${prefix%/}"
libdir="${libdir:-$prefix/lib}"
case "$libdir" in /*) ;; *) libdir="$(pwd)/$libdir" ;; esac
destdir="${DESTDIR:-}"

cd "$(dirname "$0")/.."
root="$(pwd)"
cargo="${CARGO:-cargo}"
profile="${LWSEC_PROFILE:-release}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$profile" in dev|test) out_dir="$target_dir/debug" ;; *) out_dir="$target_dir/$profile" ;; esac

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
major="${version%%.*}"
soname="liblwsec.so.$major"

echo "== building liblwsec $version (C API, no tokio; profile $profile)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# SONAME for the shared library; the list of system libraries a static link
# needs, printed by rustc (Cargo replays it when the build is up to date).
"$cargo" rustc --lib --profile "$profile" --no-default-features --features "ffi${features:+,$features}" \
  --crate-type staticlib,cdylib --target-dir "$target_dir" \
  -- -C "link-arg=-Wl,-soname,$soname" --print native-static-libs 2>&1 | tee "$log" >&2
native="$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n 1)"
# rustc's usual list on glibc Linux, should the note be missing.
native="${native:--lgcc_s -lutil -lrt -lpthread -lm -ldl -lc}"

for f in liblwsec.a liblwsec.so; do
  [ -f "$out_dir/$f" ] || { echo "install-c-lib.sh: $out_dir/$f was not built (an ELF system is needed)" >&2; exit 1; }
done

echo "== installing into ${destdir}${prefix} (libraries in ${destdir}${libdir})"
install -d "$destdir$prefix/include" "$destdir$libdir/pkgconfig"
install -m 644 include/lwsec.h "$destdir$prefix/include/lwsec.h"
install -m 644 "$out_dir/liblwsec.a" "$destdir$libdir/liblwsec.a"
install -m 755 "$out_dir/liblwsec.so" "$destdir$libdir/liblwsec.so.$version"
if [ $strip = 1 ]; then
  strip --strip-debug "$destdir$libdir/liblwsec.a"
  strip --strip-unneeded "$destdir$libdir/liblwsec.so.$version"
fi
ln -sfn "liblwsec.so.$version" "$destdir$libdir/$soname"
ln -sfn "$soname" "$destdir$libdir/liblwsec.so"

if [ "$libdir" = "$prefix/lib" ]; then pc_libdir='${exec_prefix}/lib'; else pc_libdir="$libdir"; fi
pc_head() {
  cat <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=$pc_libdir
includedir=\${prefix}/include

EOF
}
{
  pc_head
  cat <<EOF
Name: lwsec
Description: Secure transport for instant messaging: Noise NK/IK, AEAD records, messages (C API)
URL: https://github.com/lwsec/lwsec
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -llwsec
Libs.private: $native
EOF
} > "$destdir$libdir/pkgconfig/lwsec.pc"
{
  pc_head
  cat <<EOF
Name: lwsec-static
Description: lwsec's C API, linked statically (no run-time dependency on liblwsec.so)
URL: https://github.com/lwsec/lwsec
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/liblwsec.a $native
EOF
} > "$destdir$libdir/pkgconfig/lwsec-static.pc"
chmod 644 "$destdir$libdir/pkgconfig/lwsec.pc" "$destdir$libdir/pkgconfig/lwsec-static.pc"

cat <<EOF
== installed lwsec $version:
   $destdir$prefix/include/lwsec.h
   $destdir$libdir/liblwsec.a
   $destdir$libdir/liblwsec.so.$version (SONAME $soname), $soname, liblwsec.so
   $destdir$libdir/pkgconfig/lwsec.pc, lwsec-static.pc
Compile and link:
   export PKG_CONFIG_PATH=$libdir/pkgconfig   # unless pkg-config already looks there
   cc app.c \$(pkg-config --cflags --libs lwsec) -Wl,-rpath,$libdir   # shared
   cc app.c \$(pkg-config --cflags --libs lwsec-static)                # static
(-Wl,-rpath is not needed once $libdir is known to the loader: ldconfig.)
EOF
