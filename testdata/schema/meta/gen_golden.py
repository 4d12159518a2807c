#!/usr/bin/env python3
"""Regenerates jsonschema_golden.json: the errors Python's jsonschema
(Draft7Validator, as the Python dvp runs it) reports for random schema.json
documents validated against internal/schema/plugin_meta.schema.json.

Messages are normalized to jsonschema 4.17 wording (the version dvp pins)
where later versions reworded them, and an "additional properties" error
naming several keys is split into one error per key, as dvp-in-Go reports
them. Usage: python3 gen_golden.py [N [SEED]] > jsonschema_golden.json
"""
import json
import os
import random
import re
import sys

from jsonschema import Draft7Validator

HERE = os.path.dirname(os.path.abspath(__file__))
META = json.load(open(os.path.join(HERE, "..", "..", "..", "internal", "schema", "plugin_meta.schema.json")))
DEFS = ["repositoryDefinition", "sourceConfigDefinition", "virtualSourceDefinition",
        "linkedSourceDefinition", "snapshotDefinition", "snapshotParametersDefinition"]
KEYWORDS = ["type", "properties", "required", "additionalProperties", "items", "enum", "const",
            "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
            "maxLength", "pattern", "format", "minItems", "maxItems", "uniqueItems", "allOf", "anyOf",
            "oneOf", "not", "if", "then", "else", "dependencies", "propertyNames", "contains",
            "definitions", "patternProperties", "$ref", "title", "description", "default", "examples",
            "readOnly", "$comment", "nameField", "identityFields", "prettyName", "ordering",
            "minProperties", "maxProperties", "additionalItems", "$schema", "contentMediaType"]


def rand_scalar(r):
    return r.choice([None, True, False, 0, 1, -1, 2, 1.5, -0.5, 0.0, 3.0, "", "x", "string", "integer",
                     "object", "array", "strings", "name", "^a+$", "#/definitions/a",
                     "https://delphix.com/platform/api#/definitions/credentialsSupplier"])


def rand_value(r, depth):
    k = r.random()
    if depth > 1 or k < 0.45:
        return rand_scalar(r)
    if k < 0.6:
        return [rand_value(r, depth + 1) for _ in range(r.randint(0, 3))]
    if k < 0.75:
        return [r.choice(["string", "integer", "object", "array", "x", "number"]) for _ in range(r.randint(0, 3))]
    return rand_schema(r, depth + 1)


def rand_schema(r, depth):
    if depth > 1:
        return r.choice([{}, {"type": "string"}, True, False, 1, "x"])
    s = {}
    for _ in range(r.randint(0, 4)):
        kw = r.choice(KEYWORDS)
        if kw in ("properties", "definitions", "patternProperties", "dependencies") and r.random() < 0.7:
            s[kw] = {r.choice(["a", "b", "recordSizeInKB", "name"]): rand_value(r, depth + 1)
                     for _ in range(r.randint(0, 2))}
        elif kw in ("allOf", "anyOf", "oneOf") and r.random() < 0.7:
            s[kw] = [rand_schema(r, depth + 1) for _ in range(r.randint(0, 2))]
        else:
            s[kw] = rand_value(r, depth)
    return s


TEMPLATE = {
    "repositoryDefinition": {"type": "object", "properties": {"name": {"type": "string"}},
                             "nameField": "name", "identityFields": ["name"]},
    "sourceConfigDefinition": {"type": "object", "required": ["name"], "additionalProperties": False,
                               "properties": {"name": {"type": "string"}}, "nameField": "name",
                               "identityFields": ["name"]},
    "virtualSourceDefinition": {"type": "object", "additionalProperties": False,
                                "properties": {"recordSizeInKB": {"type": "integer", "default": 8}}},
    "linkedSourceDefinition": {"type": "object", "additionalProperties": False, "properties": {}},
    "snapshotDefinition": {"type": "object", "additionalProperties": False, "properties": {}},
    "snapshotParametersDefinition": {"type": "object", "additionalProperties": False, "properties": {}},
}


def near_valid(r):
    doc = json.loads(json.dumps(TEMPLATE))
    for _ in range(r.randint(0, 2)):
        d = doc[r.choice(DEFS)]
        kw = r.choice(KEYWORDS)
        if r.random() < 0.5:
            d[kw] = rand_value(r, 1)
        elif isinstance(d.get("properties"), dict):
            d["properties"][r.choice(["a", "name", "recordSizeInKB"])] = rand_schema(r, 1)
    return doc


def rand_doc(r):
    if r.random() < 0.4:
        return near_valid(r)
    if r.random() < 0.05:
        return rand_value(r, 0)
    doc = {}
    for d in DEFS:
        if r.random() < 0.9:
            doc[d] = rand_schema(r, 0) if r.random() < 0.8 else rand_value(r, 1)
    if r.random() < 0.1:
        doc[r.choice(["additionalDefinition", "repositorydefinition", "x"])] = {}
    return doc


def normalize(msg):
    msg = re.sub(r" should be non-empty$", " is too short", msg)
    msg = re.sub(r" is expected to be empty$", " is too long", msg)
    return msg


def errors(inst):
    out = []
    for e in Draft7Validator(META).iter_errors(inst):
        path = [str(p) for p in e.path]
        m = re.match(r"Additional properties are not allowed \((.*) (was|were) unexpected\)$", e.message)
        if m and e.validator == "additionalProperties":
            keys = [k for k in e.instance if k not in e.schema.get("properties", {})]
            for k in keys:
                out.append({"path": path, "message": "Additional properties are not allowed (%r was unexpected)" % k})
            continue
        ctx = sorted(normalize(c.message) for c in e.context)
        out.append({"path": path, "message": normalize(e.message), "context": ctx})
    out.sort(key=lambda x: (x["path"], x["message"]))
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 4711)
    cases = []
    for _ in range(n):
        doc = rand_doc(r)
        cases.append({"doc": json.dumps(doc), "errors": errors(doc)})
    json.dump({"cases": cases}, sys.stdout, indent=0, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
