#!/usr/bin/env bash
# Runs the whole test suite: installs prerequisites (deploy/test-prereqs.txt), builds ExposureIndex.sln once in
# Release, runs every test project under tests/ and prints, as the very last line:
#     N passed, N failed, N skipped
# Failed and skipped tests (with reasons) are listed above it. Exit status is non-zero when the build failed, a
# prerequisite could not be installed, or any test failed.
#
# Usage: ./test.sh [--no-install] [--filter <expr>] [--jobs <n>] [--results <dir>] [--no-skip]
#   --no-install   skip the apt step (quick local runs)
#   --filter expr  passed to every `dotnet test --filter` (e.g. "FullyQualifiedName~Daemons")
#   --jobs n       test projects run at once (default 1; each project already runs its tests in parallel)
#   --results dir  where TRX files and logs go (default TestResults/test.sh, emptied first)
#   --no-skip      export EXPOSUREINDEX_NO_SKIP=1: a test missing a prerequisite fails instead of skipping
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

INSTALL=1
FILTER=""
JOBS=1
RESULTS="$ROOT/TestResults/test.sh"
PREREQS="$ROOT/deploy/test-prereqs.txt"
PROJECT_TIMEOUT="${EXPOSUREINDEX_PROJECT_TIMEOUT:-45m}"
HANG_TIMEOUT="${EXPOSUREINDEX_HANG_TIMEOUT:-15m}"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
        --no-install) INSTALL=0 ;;
        --filter) FILTER="${2:?--filter needs an expression}"; shift ;;
        --filter=*) FILTER="${1#--filter=}" ;;
        --jobs) JOBS="${2:?--jobs needs a number}"; shift ;;
        --results) RESULTS="${2:?--results needs a directory}"; shift ;;
        --no-skip) export EXPOSUREINDEX_NO_SKIP=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "test.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "test.sh: --jobs must be a positive number, not '$JOBS'" >&2; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
rm -f "$RESULTS"/*.trx "$RESULTS"/*.log "$RESULTS"/*.exit
# Problems outside any TRX (install, build, crashed test hosts), one per line; each counts as a failure.
EXTRA_FAILURES="$RESULTS/extra-failures.txt"
: > "$EXTRA_FAILURES"
extra_failure() { printf '%s\n' "$*" >> "$EXTRA_FAILURES"; }
say() { printf '\n=== test.sh [%dm%02ds]: %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

CREATED_POLICY=""
cleanup() {
    # Silent on purpose: nothing may print after the summary line.
    if [[ -n "$CREATED_POLICY" ]]; then rm -f "$CREATED_POLICY"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
# 1. Prerequisites
# ---------------------------------------------------------------------------------------------------------------

# apt-get with the dpkg lock waited for (another apt run, unattended-upgrades); gives up after ~5 minutes.
apt_get() {
    local deadline=$((SECONDS + 300)) out rc
    while :; do
        set +e
        out="$(apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=3 "$@" 2>&1)"
        rc=$?
        set -e
        if ((rc == 0)); then
            printf '%s\n' "$out" | tail -n 2
            return 0
        fi
        if grep -qiE 'could not get lock|unable to acquire the dpkg|unable to lock|is another process using it' <<<"$out" \
            && ((SECONDS < deadline)); then
            echo "test.sh: apt/dpkg is locked by another process; retrying in 10 s" >&2
            sleep 10
            continue
        fi
        printf '%s\n' "$out" | tail -n 25 >&2
        return "$rc"
    done
}

install_prereqs() {
    if [[ ! -f "$PREREQS" ]]; then
        extra_failure "prerequisites: $PREREQS is missing"
        return
    fi
    local packages missing=() p status
    packages="$(sed -e 's/#.*//' "$PREREQS" | tr -s '[:space:]' '\n' | sed '/^$/d' | sort -u)"
    for p in $packages; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
        [[ "$status" == ii* ]] || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "prerequisites: all $(wc -w <<<"$packages") packages installed"
        return
    fi
    say "prerequisites: installing ${missing[*]}"
    if ((EUID != 0)); then
        extra_failure "prerequisites: not root, cannot apt-get install ${missing[*]}"
        return
    fi
    # Keep services from auto-starting during installation (invoke-rc.d honours policy-rc.d exit code 101).
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\n# Temporary, from ExposureIndex test.sh: do not start services while installing.\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        CREATED_POLICY=/usr/sbin/policy-rc.d
    fi
    if ! apt_get install -y --no-install-recommends "${missing[@]}"; then
        # A fresh machine may have no package lists yet.
        if ! { apt_get update && apt_get install -y --no-install-recommends "${missing[@]}"; }; then
            extra_failure "prerequisites: apt-get install ${missing[*]} failed"
        fi
    fi
    if [[ -n "$CREATED_POLICY" ]]; then rm -f "$CREATED_POLICY"; CREATED_POLICY=""; fi
}

if ((INSTALL)); then
    install_prereqs
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. Build
# ---------------------------------------------------------------------------------------------------------------

if ! command -v dotnet >/dev/null 2>&1; then
    for candidate in "$HOME/.dotnet" /usr/share/dotnet /usr/lib/dotnet; do
        if [[ -x "$candidate/dotnet" ]]; then export PATH="$candidate:$PATH"; break; fi
    done
fi

# All projects under tests/ whose evaluated IsTestProject is true (tests/Directory.Build.props sets it).
find_test_projects() {
    local proj value
    while IFS= read -r proj; do
        if ! value="$(dotnet msbuild "$proj" -nologo -getProperty:IsTestProject 2>&1)"; then
            extra_failure "build: cannot evaluate $proj: $(tail -n 1 <<<"$value")"
            continue
        fi
        value="$(tr -d '[:space:]' <<<"$value")"
        if [[ "${value,,}" == "true" ]]; then printf '%s\n' "$proj"; fi
    done < <(find "$ROOT/tests" -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
}

TEST_PROJECTS=()
BUILD_OK=0
if ! command -v dotnet >/dev/null 2>&1; then
    extra_failure "build: the dotnet SDK is not installed (see global.json for the version)"
else
    say "build: dotnet build ExposureIndex.sln -c Release"
    set +e
    dotnet build "$ROOT/ExposureIndex.sln" -c Release -nologo -nodeReuse:false 2>&1 | tee "$RESULTS/build.log"
    build_rc=${PIPESTATUS[0]}
    set -e
    mapfile -t TEST_PROJECTS < <(find_test_projects)
    if ((build_rc == 0)); then
        BUILD_OK=1
    else
        extra_failure "build: dotnet build ExposureIndex.sln -c Release failed (exit $build_rc); errors:"
        grep -E ': error [A-Z]+[0-9]+' "$RESULTS/build.log" | sed -E 's/^[[:space:]]+//' | sort -u | head -n 20 \
            | sed 's/^/      /' >> "$EXTRA_FAILURES" || true
    fi
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. Test
# ---------------------------------------------------------------------------------------------------------------

run_project() {
    local proj="$1" name rc
    name="$(basename "$proj" .csproj)"
    local args=(test "$proj" --no-build -c Release --nologo
        --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS"
        --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none)
    if [[ -n "$FILTER" ]]; then args+=(--filter "$FILTER"); fi
    set +e
    timeout --kill-after=60 "$PROJECT_TIMEOUT" dotnet "${args[@]}" > "$RESULTS/$name.log" 2>&1
    rc=$?
    set -e
    echo "$rc" > "$RESULTS/$name.exit"
    # The runner's own summary lines ("Passed!  - Failed: 0, Passed: 12, ...") and any failure headlines.
    grep -E '^(Passed!|Failed!|  Failed |No test |Test Run Aborted|The active test run was aborted)' "$RESULTS/$name.log" \
        | sed "s|^|[$name] |" || true
}

if ((${#TEST_PROJECTS[@]} == 0)) && command -v dotnet >/dev/null 2>&1; then
    extra_failure "test: no test projects found under tests/"
fi

RUNNABLE=()
for proj in "${TEST_PROJECTS[@]}"; do
    name="$(basename "$proj" .csproj)"
    # MSBuild keeps building what it can after an error; each project it did build prints "  Name -> .../Name.dll".
    # A test project without that line failed itself or has a failed reference: its bin/ may hold a stale build.
    if grep -qE "^[[:space:]]*${name//./\\.} -> .*\.dll\$" "$RESULTS/build.log" 2>/dev/null; then
        RUNNABLE+=("$proj")
    else
        extra_failure "build: $name was not built (it or a project it references failed to compile)"
    fi
done

if ((${#RUNNABLE[@]})); then
    say "test: ${#RUNNABLE[@]} project(s), $JOBS at a time${FILTER:+, filter '$FILTER'}"
    running=0
    for proj in "${RUNNABLE[@]}"; do
        echo "--- $(basename "$proj" .csproj)"
        if ((JOBS == 1)); then
            run_project "$proj"
        else
            run_project "$proj" &
            running=$((running + 1))
            if ((running >= JOBS)); then wait -n || true; running=$((running - 1)); fi
        fi
    done
    wait || true
fi

# ---------------------------------------------------------------------------------------------------------------
# 4. Report
# ---------------------------------------------------------------------------------------------------------------

PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3 || true)"
if [[ -z "$PYTHON" ]]; then
    echo "test.sh: python3 is needed to read the TRX files (apt-get install python3)" >&2
    passed=0; failed=$(( $(grep -c '^[^ ]' "$EXTRA_FAILURES" || true) + 1 )); skipped=0
    echo "$passed passed, $failed failed, $skipped skipped"
    exit 1
fi

PROJECT_NAMES=()
for proj in "${RUNNABLE[@]}"; do PROJECT_NAMES+=("$(basename "$proj" .csproj)"); done

say "results (TRX and logs in $RESULTS)"
set +e
"$PYTHON" - "$RESULTS" "$EXTRA_FAILURES" "${PROJECT_NAMES[@]}" <<'PY'
import os
import sys
import xml.etree.ElementTree as ET

results_dir, extra_path, projects = sys.argv[1], sys.argv[2], sys.argv[3:]
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}

# VSTest TRX outcomes. xunit.v3 (through xunit.runner.visualstudio) marks a skipped test "NotExecuted" with the
# skip reason in Output/ErrorInfo/Message; the <Counters> element then has it only as total - executed (its
# notExecuted counter stays 0), so each UnitTestResult is counted instead.
FAILED = {"Failed", "Error", "Timeout", "Aborted"}
PASSED = {"Passed", "PassedButRunAborted"}

passed = failed = skipped = 0
failures, skips = [], []
run_problems = []  # project-level problems (crash, timeout, unreadable TRX) that no test result covers

def first_line(text, limit=300):
    text = (text or "").strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[:limit] + "..."

for name in projects:
    trx = os.path.join(results_dir, name + ".trx")
    exit_file = os.path.join(results_dir, name + ".exit")
    rc = int(open(exit_file).read().strip() or "0") if os.path.exists(exit_file) else 0
    if not os.path.exists(trx):
        if rc != 0:
            run_problems.append(f"{name}: dotnet test exited {rc} without a TRX file (see {name}.log)")
        continue
    try:
        root = ET.parse(trx).getroot()
    except ET.ParseError as e:
        run_problems.append(f"{name}: unreadable TRX ({e})")
        continue
    project_failed = 0
    for r in root.iterfind(".//t:Results/t:UnitTestResult", ns):
        outcome = r.get("outcome", "")
        test = r.get("testName", "?")
        message = r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns)
        if outcome in PASSED:
            passed += 1
        elif outcome in FAILED:
            failed += 1
            project_failed += 1
            # The first frame with a source line says which assertion failed (a test may have several alike).
            stack = r.findtext("t:Output/t:ErrorInfo/t:StackTrace", default="", namespaces=ns)
            where = next((l.strip() for l in stack.splitlines() if ":line " in l), "")
            failures.append(f"{name}: {test}\n      {first_line(message)}" + (f"\n      {where}" if where else ""))
        else:
            skipped += 1
            reason = first_line(message) or "(no reason in the TRX; xunit reports none for [Fact(Explicit = true)] tests)"
            skips.append(f"{name}: {test}\n      {reason}")
    summary = root.find("t:ResultSummary", ns)
    run_outcome = summary.get("outcome", "") if summary is not None else ""
    if rc != 0 and project_failed == 0:
        # Non-zero exit with no failed test: the host crashed, hung (blame) or timed out.
        run_problems.append(f"{name}: test run ended abnormally (exit {rc}, outcome '{run_outcome}'; see {name}.log)")

extra = []
if os.path.exists(extra_path):
    for line in open(extra_path):
        line = line.rstrip("\n")
        if not line:
            continue
        if line.startswith(" ") and extra:
            extra[-1] += "\n" + line  # indented detail lines belong to the entry above
        else:
            extra.append(line)

if skips:
    print(f"\nSkipped ({len(skips)}):")
    for s in skips:
        print("  " + s)
all_failures = extra + run_problems + failures
if all_failures:
    print(f"\nFailed ({len(all_failures)}):")
    for f in all_failures:
        print("  " + f)
# Failures outside any test (install, build, crashed or hung hosts) count too, so a broken run never reads as green.
total_failed = failed + len(extra) + len(run_problems)
print()
print(f"{passed} passed, {total_failed} failed, {skipped} skipped")
sys.exit(1 if total_failed else 0)
PY
status=$?
exit "$status"
