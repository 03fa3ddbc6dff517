"""Prints the parts of a SARIF 2.1.0 log that code scanning reads, one line
per result and one per related location, failing on a missing field.

sarif_summary.py LOG [SCHEMA]: with SCHEMA, the log is first validated
against it (the SARIF 2.1.0 JSON schema, draft 4) with jsonschema."""
import json
import sys

log = json.load(open(sys.argv[1]))
if len(sys.argv) > 2:
    import jsonschema
    schema = json.load(open(sys.argv[2]))
    jsonschema.Draft4Validator(schema).validate(log)
    print("valid against", schema["title"])
root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
assert root.startswith("file:///") and root.endswith("/"), root
assert log["$schema"].endswith("sarif-2.1.0.json"), log["$schema"]
run = log["runs"][0]
rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
print("version", log["version"], "rules", " ".join(rules))


def where(location):
    physical = location["physicalLocation"]
    artifact = physical["artifactLocation"]
    assert artifact.get("uriBaseId") == "%SRCROOT%", artifact
    region = physical["region"]
    return "%s:%d:%d" % (artifact["uri"], region["startLine"],
                         region["startColumn"])


for result in run["results"]:
    assert rules[result["ruleIndex"]] == result["ruleId"]
    assert result["message"]["text"]
    fingerprints = result["partialFingerprints"]
    assert len(fingerprints) == 1, fingerprints
    print("result", result["ruleId"], result["level"],
          where(result["locations"][0]), "related",
          len(result.get("relatedLocations", [])), "fingerprint",
          next(iter(fingerprints.values())))
    for related in result.get("relatedLocations", []):
        print(" ", where(related), related["message"]["text"])
