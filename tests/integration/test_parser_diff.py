"""Parser differences (issue 13): --parser gumbo and --parser libxml2 crawl
testweb to the same records, and over the fuzz corpus and the tricky pages
(tests/parser/tricky) every page whose links differ is listed in
tests/parser/differences.txt with a kind that docs/parsers.md explains.
Each difference is printed."""
import glob
import json
import os
import subprocess

import uvtest
from uvtest import Testweb, check, run_crawl


def crawl(a, tw, parser):
    rc, recs, stats, err = run_crawl(a.uvcrawl, [
        "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "200", "--per-host", "8",
        "--rate", "0", "-q", "--parser", parser, tw.url()], a.engine)
    check(rc == 0, f"--parser {parser}: crawl exits 0 (got {rc}; stderr: {err.strip()[-300:]})")
    return {r["url"]: (r.get("status"), r.get("links"), r.get("error")) for r in recs}


def links_of(a, files):
    """{file: {parser: row}} from parser_links."""
    out = subprocess.run([a.parser_links] + files, check=True, capture_output=True, text=True,
                         timeout=120)
    pages = {}
    for line in out.stdout.splitlines():
        row = json.loads(line)
        pages.setdefault(row["file"], {})[row["parser"]] = row
    return pages


def differs(g, x):
    keys = ("rc", "links", "found", "skipped", "nofollow", "noindex")
    return any(g[k] != x[k] for k in keys)


def show(name, g, x):
    only_g = [u for u in g["links"] if u not in x["links"]]
    only_x = [u for u in x["links"] if u not in g["links"]]
    print(f"  {name}: only gumbo {only_g}, only libxml2 {only_x}; found {g['found']} vs "
          f"{x['found']}, skipped {g['skipped']} vs {x['skipped']}, rc {g['rc']} vs {x['rc']}")


def read_manifest(root):
    listed = {}
    with open(os.path.join(root, "tests", "parser", "differences.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                page, kind = line.split()
                listed[page] = kind
    return listed


def documented_kinds(root):
    with open(os.path.join(root, "docs", "parsers.md")) as f:
        return {line[4:].strip().split()[0] for line in f if line.startswith("### ")}


def test():
    a = uvtest.parse_args({"--parser-links": {"required": True},
                           "--root": {"required": True}})
    site = ["--seed", "5", "--hosts", "10", "--pages", "60", "--links", "10",
            "--page-bytes", "1500"]
    with Testweb(a.testweb, site, log=False) as tw:
        gumbo = crawl(a, tw, "gumbo")
        libxml2 = crawl(a, tw, "libxml2")
    check(len(gumbo) > 300, f"the crawl is large enough to matter ({len(gumbo)} records)")
    diff = sorted(u for u in set(gumbo) | set(libxml2) if gumbo.get(u) != libxml2.get(u))
    check(not diff, f"testweb: the same records with either parser ({len(gumbo)} vs "
          f"{len(libxml2)}; differing {[(u, gumbo.get(u), libxml2.get(u)) for u in diff[:3]]})")

    tests_dir = os.path.join(a.root, "tests")
    files = sorted(glob.glob(os.path.join(tests_dir, "parser", "tricky", "*.html")) +
                   glob.glob(os.path.join(tests_dir, "fuzz", "corpus", "extract*", "*")))
    check(len(files) >= 20, f"tricky pages and corpus to compare ({len(files)})")
    listed = read_manifest(a.root)
    kinds = documented_kinds(a.root)
    undocumented = sorted(k for k in set(listed.values()) if k not in kinds)
    check(not undocumented, f"every kind listed is a section of docs/parsers.md ({undocumented})")
    pages = links_of(a, files)
    found = {}
    print("pages whose links differ between the parsers:")
    for path, rows in sorted(pages.items()):
        name = os.path.relpath(path, tests_dir)
        if differs(rows["gumbo"], rows["libxml2"]):
            found[name] = listed.get(name, "UNLISTED")
            print(f"- {name} ({found[name]})")
            show(name, rows["gumbo"], rows["libxml2"])
    unlisted = sorted(n for n, k in found.items() if k == "UNLISTED")
    check(not unlisted, f"every difference is a documented kind (unlisted: {unlisted})")
    stale = sorted(n for n in listed if n not in found)
    check(not stale, f"every page listed still differs (stale: {stale})")


uvtest.main(test)
