"""Counts of an h5py test-suite run (forked_plugin's --rv-results file) against the list of
expected failures.  Usage: suite_summary.py RESULTS EXPECTED_LIST MIN_PASSED [rustvol|native|subset]

Prints the failures by category, unexpected failures, expected failures that now pass, and a
last line "N passed, N failed" where failed counts only the failures not in the list.
Exit status 1 if fewer than MIN_PASSED tests passed or a failure was unexpected.
"""
import re
import sys
from collections import Counter


def load_expected(path):
    entries = []
    previous = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                sys.exit(f"{path}:{lineno}: an entry needs a pattern and a reason")
            pattern, reason = parts
            if reason == "same" or reason.startswith("same:"):
                if previous is None:
                    sys.exit(f"{path}:{lineno}: 'same' needs an entry before it")
                reason = previous
            previous = reason
            rx = re.compile("^" + re.escape(pattern).replace(r"\*", ".*") + "$")
            entries.append((pattern, rx, reason))
    return entries


def main():
    results_path, expected_path, min_passed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "rustvol"
    native = mode == "native"     # a run without rustvol
    subset = mode == "subset"     # a part of the suite (-k ...): list entries may match nothing
    expected = load_expected(expected_path)
    outcomes = {}
    messages = {}
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                outcomes[parts[1]] = parts[0]
                messages[parts[1]] = parts[2] if len(parts) > 2 else ""
    counts = Counter(outcomes.values())
    passed = counts["passed"] + counts["xpassed"]
    used = Counter()
    unexpected, expected_fail, fixed = [], Counter(), []
    for nodeid, outcome in sorted(outcomes.items()):
        match = next((e for e in expected if e[1].match(nodeid)), None)
        if match:
            used[match[0]] += 1
        if outcome in ("failed", "error"):
            if match:
                expected_fail[match[2].split(":", 1)[0].split()[0]] += 1
            else:
                unexpected.append(nodeid)
        elif outcome in ("passed", "xpassed") and match:
            fixed.append((nodeid, match[2]))

    total_failed = counts["failed"] + counts["error"]
    print(f"{len(outcomes)} tests: {passed} passed, {counts['skipped'] + counts['xfailed']} "
          f"skipped, {total_failed} failed or errors ({total_failed - len(unexpected)} "
          f"expected, {len(unexpected)} unexpected)")
    if expected_fail:
        print("expected failures by category: " +
              ", ".join(f"{k} {v}" for k, v in sorted(expected_fail.items())))
    stale = [p for p, _, _ in expected if not used[p]]
    if stale and not native and not subset:
        print("entries of the expected-failure list that match no test: " + ", ".join(stale))
    if fixed and native:
        print(f"({len(fixed)} tests listed as expected failures through rustvol pass natively)")
    elif fixed:
        print(f"listed as expected failures but passed now ({len(fixed)}; trim the list?):")
        for nodeid, reason in fixed:
            print(f"  {nodeid}  [{reason[:60]}]")
    if unexpected:
        print("UNEXPECTED failures:")
        for nodeid in unexpected:
            print(f"  {outcomes[nodeid]}: {nodeid}: {messages[nodeid][:200]}")
    ok = passed >= min_passed and not unexpected
    if passed < min_passed:
        print(f"FAIL: {passed} passed, fewer than the required {min_passed}")
    print(f"{passed} passed, {len(unexpected)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
