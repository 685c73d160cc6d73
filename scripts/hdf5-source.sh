# shellcheck shell=bash
# Sourced by setup-hdf5.sh and setup-mpi.sh: both builds of HDF5 (serial and parallel) come from
# the one source tree this fetches and unpacks once into $WORK/src.
#
# hdf5_source: sets HDF5_VERSION, WORK and SRC, installs the packages named in its arguments
# that are missing, and leaves the unpacked source in $SRC.
HDF5_VERSION=1.14.5
DEB_VERSION=1.14.5+repack-3
CACHE=${RUSTVOL_CACHE:-$HOME/.cache/rustvol}
WORK=$CACHE/hdf5-src-$HDF5_VERSION
SRC=$WORK/src

hdf5_source() {
  local need_pkgs=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
  done
  if [ ${#need_pkgs[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"
  fi

  mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
  local tarball=$WORK/hdf5_$HDF5_VERSION+repack.orig.tar.gz
  if [ ! -f "$tarball" ]; then
    # Debian 12 has no HDF5 >= 1.14, so the source comes from Debian 13's source package,
    # fetched with a private apt state so the system's apt configuration is untouched.
    local uri
    uri=$(apt-cache policy | awk '/bookworm\/main/ {print $2; exit}')
    if [ -z "$uri" ]; then
      apt-get update -qq
      uri=$(apt-cache policy | awk '/bookworm\/main/ {print $2; exit}')
    fi
    echo "deb-src $uri trixie main" > "$WORK/apt/sources.list"
    local a=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State=$WORK/apt" -o "Dir::Cache=$WORK/apt/cache")
    apt-get "${a[@]}" update -qq
    (cd "$WORK" && apt-get "${a[@]}" source --download-only "hdf5=$DEB_VERSION")
  fi

  if [ ! -f "$SRC/CMakeLists.txt" ]; then
    rm -rf "$SRC" && mkdir -p "$SRC"
    tar -xzf "$tarball" -C "$SRC" --strip-components=1
  fi
}
