#!/usr/bin/env bash
# The whole test suite as an ordinary user, from a clone under a private (0700) folder (issue 14).
#
#   make test-nonroot              # or: tools/test_nonroot.sh
#
# Clones this checkout's HEAD (committed work only) into <tmp>/coursekit-nonroot.*/private/coursekit
# (`private`: mode 0700, owned by the user), copies ../shared beside it and runs `CI=true make test`
# there: a fresh .venv, so it takes minutes more than `make test`. As root it runs as the user
# $COURSEKIT_TEST_USER (default coursekit-test, created with `useradd -m` when missing); as an
# ordinary user, as yourself. Root-only tests skip and say why (the JupyterHub class, the attack
# corpus, root-mode sandbox isolation). The folder is removed after a passing run and kept
# (its path printed) after a failing one. Not part of `make test`.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" = 0 ]; then
    user=${COURSEKIT_TEST_USER:-coursekit-test}
    id -u "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
    home=$(getent passwd "$user" | cut -d: -f6)
    # a clean login-like environment; registry settings (proxy, index, certificates) carried over
    pass=(HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8)
    while IFS= read -r v; do pass+=("$v=${!v}"); done < <(compgen -e | grep -E '^(PIP_|(HTTPS?|NO|ALL)_PROXY$|(https?|no|all)_proxy$|SSL_CERT_(FILE|DIR)$|REQUESTS_CA_BUNDLE$|NODE_EXTRA_CA_CERTS$)' || true)
    as=(runuser -u "$user" -- env -i "${pass[@]}")
else
    user=$(id -un)
    as=(env)
fi

base=$(mktemp -d "${TMPDIR:-/tmp}/coursekit-nonroot.XXXXXX")
chmod 755 "$base"
private=$base/private
mkdir -m 0700 "$private"
git clone -q "$src" "$private/coursekit"   # as the caller: the user may not be able to read $src
if [ -d "$src/../shared" ]; then cp -rL "$src/../shared" "$private/shared"; fi
[ "$(id -u)" != 0 ] || chown -R "$user:" "$private"

echo "make test as $user (uid $(id -u "$user")) in $private/coursekit (folder mode $(stat -c %a "$private"))"
start=$(date +%s)
if (cd "$private/coursekit" && "${as[@]}" CI=true make test); then
    echo "make test as $user passed in $(( $(date +%s) - start )) s"
    chmod -R u+w "$base" && rm -rf "$base"   # the copy of shared/ is read-only, as the original
else
    rc=$?
    echo "make test as $user FAILED (exit $rc) after $(( $(date +%s) - start )) s; the clone is kept: $private/coursekit" >&2
    exit "$rc"
fi
