"""The checks of tests/cli/89-output-contract.sh: the output contract of
PRODUCT.md §2.2 and §2.3 on every case the matrix ran.

    output_contract.py MXDIR N

MXDIR/1 .. MXDIR/N each hold meta (expect, config variant, format, the
arguments), out, err and rc. Prints one line per violation; nothing when
every case keeps the contract.
"""
import concurrent.futures
import json
import re
import subprocess
import sys

# health's Nagios words are its run status (PRODUCT.md §3.1)
NAGIOS_WORDS = {"OK": 0, "WARNING": 1, "DEGRADED": 1, "CRITICAL": 2,
                "UNAVAILABLE": 2, "UNKNOWN": 3}
NAGIOS_LINE = re.compile(r"^([^|\n]* )?(%s) - " % "|".join(NAGIOS_WORDS))
# promtool's lint on a name that PRODUCT.md §3.5 fixes: not ours to change
PROM_LINT_OK = re.compile(r'^mercury_backup_count non-histogram and '
                          r'non-summary metrics should not have "_count" '
                          r'suffix$')
# the output of the programs the cases run (89-output-contract.sh)
JOB_STDOUT = {"job run j": "job-says-hello\n", "job run bad": "bad-job-out\n"}
EXEC_CASE = "oauth exec cc -- /bin/echo exec-out"
TOKEN = re.compile(r"^[A-Za-z0-9_.~+/=-]+\n$")


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def load(mx, i):
    d = "%s/%d" % (mx, i)
    expect, variant, fmt, args = read(d + "/meta").split("\n")[:4]
    return {"dir": d, "expect": expect, "variant": variant, "format": fmt,
            "args": args, "out": read(d + "/out"), "err": read(d + "/err"),
            "rc": int(read(d + "/rc"))}


def check_json(c, bad):
    try:
        doc = json.loads(c["out"])
    except ValueError as e:
        bad("stdout is not one JSON document (%s): %r" % (e, c["out"][:200]))
        return
    if not isinstance(doc, dict):
        bad("the document is not an object")
        return
    rc = c["rc"]
    if rc != 0:
        if doc.get("exit_code") != rc:
            bad("exit %d but exit_code is %r" % (rc, doc.get("exit_code")))
        st = doc.get("status")
        if not isinstance(doc.get("error"), str) and \
                not (isinstance(st, str) and st != "ok"):
            bad("exit %d without an error or a status: %s" % (rc, c["out"][:200]))
    elif "error" in doc:
        bad("exit 0 with an error: %s" % c["out"][:200])


def check_nagios(c, bad):
    rc, out = c["rc"], c["out"]
    lines = out.split("\n")
    if rc > 3:
        bad("exit %d with -o nagios" % rc)
    # one line; health alone adds the long output its man page documents
    if not out.endswith("\n") or (len(lines) != 2 and
                                  not c["args"].startswith("health")):
        bad("not one line: %r" % out[:300])
    m = NAGIOS_LINE.match(lines[0])
    if m is None:
        bad("not NAME STATUS - summary: %r" % lines[0][:200])
    elif NAGIOS_WORDS[m.group(2)] != rc:
        bad("exit %d does not match the line: %s" % (rc, lines[0][:200]))
    # a run that went wrong says what went wrong, as its -q line does
    if c["expect"] == "fail" and lines[0].endswith(" - no check result"):
        bad("a failure said as no check result: %s" % lines[0][:200])


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


# A sample's value, as the exposition format writes a float.
PROM_VALUE = re.compile(r"^([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?"
                        r"|NaN|[-+]Inf)$")


def prom_shape(text):
    """The exposition with every sample's value 0, and the values that are
    not floats: expositions of one shape need promtool once (it costs a
    tenth of a CPU-second a run), the values are checked here."""
    lines, bad_values = [], []
    for line in text.split("\n"):
        if line.startswith("#") or line == "":
            lines.append(line)
            continue
        series, _, value = line.rpartition(" ")
        if not PROM_VALUE.match(value):
            bad_values.append(line)
        lines.append(series + " 0")
    return "\n".join(lines), bad_values


def check_prom(c, bad, result):
    if c["out"] == "":
        return
    for line in prom_shape(c["out"])[1]:
        bad("not a float: %r" % line[:200])
    code, said = result
    lint = [l for l in said.splitlines() if l and not PROM_LINT_OK.match(l)]
    if code not in (0, 3) or (code == 3 and lint):
        bad("promtool check metrics: %s" % said[:300])


def check_quiet(c, bad):
    rc, out, err = c["rc"], c["out"], c["err"]
    if c["args"] == "oauth token cc":
        if not TOKEN.match(out):
            bad("stdout is not the token alone")
    elif c["args"] not in JOB_STDOUT and out != "":
        bad("stdout not empty: %r" % out[:200])
    if rc == 0 and err != "":
        bad("stderr not empty on success: %r" % err[:200])
    # a failed job's own stderr passes through, before our one line
    if rc != 0 and c["args"] != "job run bad" and err.count("\n") != 1:
        bad("stderr is not one line: %r" % err[:400])


def check(c, bad, prom):
    rc, fmt, args = c["rc"], c["format"], c["args"]
    if c["expect"] == "0" and rc != 0 and not (
            fmt == "nagios" and rc == 3 and
            c["out"].endswith("UNKNOWN - no check result\n")):
        bad("exit %d, expected 0: %s" % (rc, c["err"][:300]))
    if c["expect"] == "fail" and rc == 0:
        bad("exit 0, expected a failure")
    ran = c["variant"] == "ok"
    # stdout that is another program's (see 89-output-contract.sh)
    if args == EXEC_CASE:
        if c["out"] != "exec-out\n":
            bad("stdout is not the command's alone: %r" % c["out"][:200])
        return
    if args in JOB_STDOUT and ran:
        if fmt == "q":
            if c["out"] != JOB_STDOUT[args]:
                bad("stdout is not the job's output: %r" % c["out"][:200])
        elif JOB_STDOUT[args] not in c["err"]:
            bad("the job's stdout is not on stderr: %r" % c["err"][:200])
    if fmt == "json":
        check_json(c, bad)
    elif fmt == "nagios":
        check_nagios(c, bad)
    elif fmt == "prom":
        check_prom(c, bad, prom)
    elif fmt == "q":
        check_quiet(c, bad)


def main():
    mx, n = sys.argv[1], int(sys.argv[2])
    cases = [load(mx, i) for i in range(1, n + 1)]
    shapes = {}
    for c in cases:
        if c["format"] == "prom" and c["out"]:
            shapes.setdefault(prom_shape(c["out"])[0], []).append(c["dir"])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        said = dict(zip(shapes, pool.map(promtool, shapes)))
    results = {d: said[shape] for shape, dirs in shapes.items()
               for d in dirs}
    for c in cases:
        flag = "-q" if c["format"] == "q" else "-o " + c["format"]
        what = "[%s %s%s]" % (flag, "" if c["variant"] in ("ok", "usage") else
                              "@%s " % c["variant"], c["args"])
        check(c, lambda msg: print("%s: %s" % (what, msg)),
              results.get(c["dir"]))


main()
