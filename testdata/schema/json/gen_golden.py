#!/usr/bin/env python3
"""Regenerates pyjson_golden.json: what Python 3.11's json.loads (the parser
the Python dvp reads schema.json with) makes of random JSON-like texts:
the decoded value, or the error message with its line, column and char
position. Usage: python3 gen_golden.py [N [SEED]] > pyjson_golden.json
"""
import json
import math
import random
import sys

HANDPICKED = [
    "", " ", "{", '{"a"', '{"a":', '{"a":1', '{"a":1,}', '{"a" 1}', "{a:1}", "[1,]", "[1 2]", "[", "]",
    '"abc', '"a\x01"', '"\\x"', '"\\u12G4"', '"\\ud800"', '"\\ud834\\udd1e"', '"\\ud834\\u0041"', "01",
    "-", "1.", ".5", "1e", "1e+", "NaN", "-Infinity", "Infinity", "nan", "tru", '{"a":1}x',
    '{"a":1}\n  x', "\ufeff{}", "[1,\n 2,\n x]", '{"a":\n\n   }', '"\t"', '{"a":1,"a":2}', "true false",
    "[-]", "[1e999, -1e999, 1e-999]", '{"\u00e9": "\u00fc", "x": [1.0, 2.50, 1E5, 1e+16, 1.5e300]}',
    "[1,\r\n2,\r x]", '{"a": [1, {"b": null}], "c": "\\n\\t\\"\\\\\\/"}', "  [ ]  ", "{ }", '"\\u00e9"',
    '"\\u12"', '"\\u123"', '"abc\\', "[1.5e", "-0", "-0.0", "0.0e0", "1E-2", "[1,2", '{"a":1 "b":2}',
]
FRAGMENTS = ['{', '}', '[', ']', ',', ':', ' ', '\n', '\r\n', '\t', '"a"', '"b"', '"', '\\', '1', '0', '-',
             '.', 'e', '+', 'true', 'null', 'false', 'NaN', 'Infinity', '-Infinity', 'x', '\u00e9',
             '"\\u00e9"', '"\\n"', '\x01', '1.5', '2e3', '"\\ud800"']


def encode(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"$int": str(v)}
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, list):
        return [encode(x) for x in v]
    return {k: encode(x) for k, x in v.items()}


def run(text):
    # dvp opens schema.json in text mode: universal newlines turn \r\n and
    # \r into \n before json sees the text.
    try:
        v = json.loads(text.replace("\r\n", "\n").replace("\r", "\n"))
    except json.JSONDecodeError as e:
        return {"error": e.msg, "line": e.lineno, "col": e.colno, "char": e.pos}
    except ValueError as e:
        return {"error": str(e)}
    except RecursionError:
        return {"error": "RecursionError"}
    return {"value": encode(v)}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 99)
    cases = list(HANDPICKED)
    for _ in range(n):
        cases.append("".join(r.choice(FRAGMENTS) for _ in range(r.randint(1, 14))))
    out = []
    for c in cases:
        res = run(c)
        res["in"] = c
        out.append(res)
    json.dump({"cases": out}, sys.stdout, indent=0, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
