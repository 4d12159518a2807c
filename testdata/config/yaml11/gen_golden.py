#!/usr/bin/env python3
"""Regenerates pyyaml_golden.json: what PyYAML 6 (the parser the Python dvp
uses) makes of each input, so the Go port in internal/config/yaml11 can be
checked against it without Python at test time.

Usage: python3 gen_golden.py > pyyaml_golden.json   (needs PyYAML 6.x)
"""
import json
import math
import random
import sys

import yaml

HANDPICKED = [
    "random: yaml\n\nNOT YAML",
    "a: 1\n\tb: 2\n",
    "a:\n\t- x\n",
    "a: 1\n b: 2\n",
    "a: 1\nb: c: d\n",
    "a: 'unterminated\nb: 2\n",
    "a: \"bad \\q escape\"\n",
    "a: [1, 2\nb: 3\n",
    "a: {x: 1\nb: 3\n",
    "a:\n  - 1\n  b: 2\n",
    "a: 1\n- 2\n",
    "a: *nope\n",
    "a: &x 1\nb: *y\n",
    "a: @foo\n",
    "a: `foo\n",
    "- a\nb: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n  - 2\n",
    "key: value\n  other: x\n",
    "a: |\n  text\n b: 1\n",
    "a:\n  b: 1\n c: 2\n",
    "a: 1\n\n\n  : x\n",
    "[1, 2]]\n",
    "a: 'x'y\n",
    "a: \"x\" y\n",
    "? a\n",
    "a: &\n",
    "a: !<tag\n",
    "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
    "%YAML 2.0\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n",
    "a: b\n\x01\n",
    "a: {b: 1, c}\n",
    "{a: 1, b: 2\n",
    "a:\n- b\n -c\n",
    "name: foo: bar\n",
    "hostTypes:\n- UNIX\n  - WINDOWS\n",
    "id: x\nname: \"a\nb\n",
    "a: 1\nb: 2\n\tc: 3\n",
    "a: 1 # ok\nb: [a, b, ]]\n",
    "",
    "# only a comment\n",
    "---\n",
    "...\n",
    "--- a\n",
    "a\n",
    "- a\n- b\n",
    "\ufeffa: 1\n",
    "a: 0o17\nb: -.5\nc: .5\nd: 1.0e5\ne: 1.0e+5\nf: 09\ng: 1_000\nh: 190:20:30\ni: 1:2.5\n",
    "a: .inf\nb: -.INF\nc: .NaN\nd: 0x_1F\ne: 1e5\nf: yes\ng: Yes\nh: yEs\ni: ON\nj: y\nk: n\n",
    "a: ~\nb:\nc: NULL\nd: 0_\ne: !!str 1\nf: !!int '12'\ng: !!bool 'yes'\nh: !!float 1\n",
    "a: !foo x\n",
    "a: =\n",
    "a: 2001-12-14\n",
    "a: 2001-12-14t21:59:43.10-05:00\n",
    "a: !!binary aGVsbG8=\n",
    "{1: a, 1.5: b, true: c, null: d}\n",
    "{1: a, 2: b, false: c, ~: d, .inf: e, -.inf: f}\n",
    "a: !!int 0o17\nb: +.inf\nc: 00\nd: -0\ne: 0.\nf: 1:60\ng: 1:59\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
    "b1: &b1 {x: 1}\nb2: &b2 {x: 2, z: 3}\nd:\n  <<: [*b1, *b2]\n  w: 0\n",
    "d:\n  <<: 1\n",
    "d:\n  <<: [1]\n",
    "a: 1\na: 2\n",
    "a: &x [1, 2]\nb: *x\n",
    "a: |\n  line1\n  line2\n",
    "a: |-\n  line1\n\n",
    "a: |+\n  line1\n\n",
    "a: >\n  folded\n  text\n\n  para\n",
    "a: |2\n   indented\n",
    "a: |0\n  x\n",
    "a: >x\n",
    "a: \"esc \\x41 \\u00e9 \\U0001F600 \\n \\t \\\\ \\\" \\/ \\N \\_ \\L \\P \\0 \\a\"\n",
    "a: \"bad \\xZZ\"\n",
    "a: 'it''s'\n",
    "a: \"multi\n  line\n\n  text\"\n",
    "a: plain\n  continued\n\n  more\n",
    "a: [1, [2, [3, {b: c}]]]\n",
    "a: {? complex : x}\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    "a: !!str\n",
    "a: !!int\n",
    "a: !!bool maybe\n",
    "a: !!float abc\n",
    "a: !!int abc\n",
    "a: !!null abc\n",
    "a: !!seq x\n",
    "a: !!map [1]\n",
    "a: !!str [1]\n",
    "a: !!set {x, y}\n",
    "a: !!omap [x: 1]\n",
    "a: !!python/name:os.system\n",
    "a: &a [*a]\n",
    "a: \"\\ud800\"\n",
    "a:\tb\n",
    "a: b\t# c\n",
    "a: b # c\n",
    "a: b#c\n",
    "a: [a, b]: c\n",
    "- - - x\n",
    "-\n-\n",
    "a:\n  -\n  - x\n",
    "a: - b\n",
    "a: ? b\n",
    "a: 'x\n\n---\ny'\n",
    "'a': 1\n\"b\": 2\n",
    "a: 1\n...\n",
    "a: 1\n...\n---\nb: 2\n",
    "---\na: 1\n--- \n",
    "%FOO bar\n---\na: 1\n",
    "a: !<tag:yaml.org,2002:str> 5\n",
    "a: !! 5\n",
    "a: ! 5\n",
    "a: ! '5'\n",
    "!!map\na: 1\n",
    "&anchor\na: 1\n",
    "a: 1\nb: &c\n",
    "a: [*x]\n",
    "a: *x1 \n",
    "[a, b]: 1\n",
    "a: 'x' # comment\n",
    "a:    \n  b: 1\n",
    "\r\na: 1\r\nb: 2\r\n",
    "a: 1\rb: 2\r",
    "a: \u00e9t\u00e9\n",
    "a: \u2028b\n",
    "a: {b}\n",
    "a: [b: c, d]\n",
    "a: [? b : c]\n",
    "a: -\n",
    "a: - \n",
    "a: [-]\n",
    "a: [- x]\n",
    "a: [x, -y]\n",
    "a: {x: -}\n",
    "a: :x\n",
    "a: x:y\n",
    "a: [x:y]\n",
    "a: {x:y}\n",
    "a: http://x.com/a?b=c\n",
    "a: [http://x.com]\n",
    "entryPoint: plugin_runner:plugin\n",
    "buildNumber: 0.1.0\nexternalVersion: 1.0\n",
    "x" * 1030 + ": 1\n",
    "[" * 50 + "]" * 50 + "\n",
    "{a: " * 20 + "1" + "}" * 20 + "\n",
]

FRAGMENTS = [
    '0b101', '1_0', '.nan', '&a ', '*a', '<<', '!!int ', '!!float ', '!!bool ', '!!null ',
    '"\\x41"', '\r\n', '\r', '\u2028', 'é', '!!omap ', '!!pairs ', '!!set ', '%TAG ! tag:x,1:\n',
    '1:2', '+.inf', '-', '0o7', '=', '\ufeff', '  - ', '\n  ', '\n    ', '2001-12-14 1:2:3',
    '!<x> ', 'a', 'b', 'x1', ':', ': ', ' ', '  ', '\n', '- ', '-', '[', ']', '{', '}', ', ', ',',
    "'", '"', '# c', '&x ', '*x', '!!str ', '!t ', '| ', '>', '? ', 'yes', '1.0', '0x1F', '---',
    '...', '\t', '%YAML 1.1\n', '<<: ', '\\', '~', '2001-01-01', '"q"', "'s'", '|-\n  t\n',
]


def encode(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"$int": str(v)}
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    raise TypeError(type(v))


def run(text):
    try:
        data = yaml.safe_load(text.encode("utf-8", "surrogatepass"))
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark
        return {"error": True, "line": m.line + 1, "col": m.column + 1, "problem": e.problem}
    except yaml.YAMLError as e:
        return {"error": True, "reader": True}
    except Exception as e:  # dvp would crash: an error for us too
        return {"error": True, "crash": type(e).__name__}
    try:
        data = json.loads(json.dumps(data))
    except Exception as e:
        return {"error": True, "crash": type(e).__name__}
    try:
        return {"value": encode(data), "keys": keyorder(data)}
    except RecursionError:
        return {"error": True, "crash": "RecursionError"}


def keyorder(v, path=""):
    out = {}
    if isinstance(v, dict):
        out[path] = list(v.keys())
        for k, x in v.items():
            out.update(keyorder(x, path + "/" + k.replace("~", "~0").replace("/", "~1")))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out.update(keyorder(x, path + "/" + str(i)))
    return out


def main():
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20240601)
    cases = list(HANDPICKED)
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
        cases.append("".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randint(1, 16))))
    out = []
    for c in cases:
        r = run(c)
        r["in"] = c
        out.append(r)
    json.dump({"pyyaml": yaml.__version__, "cases": out}, sys.stdout, indent=0, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
