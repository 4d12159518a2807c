# Regenerates the golden files of internal/artifact's Python-JSON tests:
#   python3 gen.py
# For each case-N.json input it writes case-N.compact (json.dumps(v)) and
# case-N.indent4 (json.dumps(v, indent=4)), as dvp's Python code would.
import glob, json
for path in sorted(glob.glob("case-*.json")):
    with open(path, "rb") as f:
        v = json.load(f)
    base = path[:-len(".json")]
    with open(base + ".compact", "w") as f:
        f.write(json.dumps(v))
    with open(base + ".indent4", "w") as f:
        f.write(json.dumps(v, indent=4))
