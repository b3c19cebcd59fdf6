"""The man page (docs/uvcrawl.1) and the bash completion
(docs/uvcrawl.bash-completion) name exactly the options `uvcrawl --help`
lists, and `meson install` puts them where man(1) and bash-completion look:
share/man/man1/uvcrawl.1 and share/bash-completion/completions/uvcrawl.

--help's options are read from its left column (the lines that start with
a dash after at most six spaces, up to the first run of two spaces); the
man page's from the .B/.BI line after each .TP of its OPTIONS section; the
completion's from its `opts` word list.
"""
import argparse
import os
import re
import shutil
import subprocess
import tempfile

from uvtest import Failure, check, main

OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9.-]*[a-z0-9]|-[a-zA-Z])(?![\w-])")


def help_options(uvcrawl):
    out = subprocess.run([uvcrawl, "--help"], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    opts = set()
    for line in out.splitlines():
        if re.match(r"^ {2,6}-", line):
            left = re.split(r"\s{2,}", line.strip())[0]
            opts.update(OPTION.findall(left))
    return opts


def man_options(path):
    with open(path) as f:
        lines = f.read().splitlines()
    start = lines.index(".SH OPTIONS")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(".SH "))
    opts = set()
    for i in range(start, end - 1):
        if lines[i] == ".TP":
            head = lines[i + 1]
            if not head.startswith((".B ", ".BI ", ".BR ")):
                raise Failure(f"{path}:{i + 2}: .TP not followed by .B/.BI: {head!r}")
            m = re.match(r'\.B[IR]? "([^"]*)"', head)
            names = m.group(1) if m else head.split(" ", 1)[1]
            opts.update(OPTION.findall(names.replace("\\-", "-")))
    return opts


def completion_options(path):
    with open(path) as f:
        text = f.read()
    m = re.search(r'local opts="([^"]*)"', text)
    if m is None:
        raise Failure(f"{path}: no opts list")
    return set(m.group(1).split())


def test():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvcrawl", required=True)
    ap.add_argument("--man", required=True)
    ap.add_argument("--completion", required=True)
    ap.add_argument("--build-root", required=True)
    a = ap.parse_args()
    want = help_options(a.uvcrawl)
    check(len(want) > 40 and "--sitemap" in want and "-c" in want and "--http1.1" in want,
          f"--help lists {len(want)} options")
    man = man_options(a.man)
    check(man == want, f"the man page lists --help's {len(want)} options "
                       f"(missing {sorted(want - man)}, extra {sorted(man - want)})")
    comp = completion_options(a.completion)
    check(comp == want, f"the bash completion lists --help's {len(want)} options "
                        f"(missing {sorted(want - comp)}, extra {sorted(comp - want)})")
    lint = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", a.man], capture_output=True,
                          text=True, timeout=30, env=dict(os.environ, LC_ALL="C"))
    check(lint.returncode == 0 and lint.stderr == "",
          f"groff reads the man page without a warning ({lint.stderr.strip()[:200]!r})")
    bash = subprocess.run(["bash", "-c", f"source {a.completion}; COMP_WORDS=(uvcrawl --si); "
                           "COMP_CWORD=1; _uvcrawl; echo ${COMPREPLY[*]}"],
                          capture_output=True, text=True, timeout=30)
    check(bash.stdout.split() == ["--sitemaps", "--sitemap"] or
          sorted(bash.stdout.split()) == ["--sitemap", "--sitemaps"],
          f"the completion completes --si to --sitemap and --sitemaps ({bash.stdout.strip()})")
    dest = tempfile.mkdtemp(prefix="uvtest-install-")
    try:
        inst = subprocess.run(["meson", "install", "-C", a.build_root, "--no-rebuild",
                               "--destdir", dest], capture_output=True, text=True, timeout=120)
        found = {os.path.relpath(os.path.join(d, f), dest)
                 for d, _, files in os.walk(dest) for f in files}
        man_at = [p for p in found if p.endswith("share/man/man1/uvcrawl.1")]
        comp_at = [p for p in found if p.endswith("share/bash-completion/completions/uvcrawl")]
        check(inst.returncode == 0 and man_at and comp_at,
              f"meson install puts {man_at} and {comp_at} ({inst.stderr.strip()[-200:]})")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


main(test)
