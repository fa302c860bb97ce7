# Sourced by the setup scripts: what each setup step does, on one line, with its time.
#   step "what it does" command [args...]
# prints "[setup] what it does ... " before the command runs and, when it ends, its
# time ("12.3 s") or "failed after 12.3 s" on the same line; returns the command's
# status. pip and apt run quietly inside the steps: these lines are the progress a
# user sees. `note "text"` prints a line of its own.

_now_us() {  # microseconds since the epoch (whole seconds where bash has no EPOCHREALTIME)
  if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/[.,]/}"; else echo "$(( $(date +%s) * 1000000 ))"; fi
}

_seconds_since() {  # the time since $1 (a _now_us value) in seconds, with one decimal
  local tenths=$(( ($(_now_us) - $1) / 100000 ))
  echo "$(( tenths / 10 )).$(( tenths % 10 ))"
}

step() {
  local what="$1" start rc=0
  shift
  start=$(_now_us)
  printf '[setup] %s ... ' "$what"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    printf '%s s\n' "$(_seconds_since "$start")"
  else
    printf 'failed after %s s\n' "$(_seconds_since "$start")"
  fi
  return "$rc"
}

note() {
  printf '[setup] %s\n' "$*"
}

apt_usable() {  # Debian's packages can be installed here: apt-get exists and we are root
  command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]
}

apt_install() {  # install Debian packages quietly, refreshing the package lists only if needed
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; }
}
