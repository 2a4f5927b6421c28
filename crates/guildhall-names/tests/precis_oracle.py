"""Independent PRECIS results for tests/precis_agreement.rs, from python precis_i18n.

Usage: precis_oracle.py CORPUS.json

CORPUS.json holds a JSON list of strings. Prints one JSON object on stdout:

* "results": per corpus string, in order, an object with keys "nickname"
  (NicknameCasePreserved), "nickname_lower" (NicknameCaseMapped:ToLower) and
  "username" (UsernameCaseMapped), each {"ok": enforced} or {"err": reason}, and,
  when NicknameCasePreserved accepts, "nickname_key": NicknameCaseMapped:ToLower of
  that enforced form (what a stored display name is compared by);
* "categories": the general category Python's unicodedata gives every code point
  that occurs in the corpus or in an accepted result ("%04X" keys), so the Rust side
  can tell a code point Python knows from one nobody has assigned;
* "control_or_format": every code point of category Cc or Cf;
* "unicode_version" and "precis_i18n_version".

Only rejections by the profile (UnicodeEncodeError) count as "err": any other
exception is a bug here or in precis_i18n and must fail the test, so it propagates.
"""

import json
import sys
import unicodedata
from importlib import metadata

from precis_i18n import get_profile

PROFILES = (
    ("nickname", "NicknameCasePreserved"),
    ("nickname_lower", "NicknameCaseMapped:ToLower"),
    ("username", "UsernameCaseMapped"),
)


def enforce(profile, value):
    try:
        return {"ok": profile.enforce(value)}
    except UnicodeEncodeError as err:
        return {"err": err.reason}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        corpus = json.load(f)
    profiles = [(key, get_profile(name)) for key, name in PROFILES]

    results = []
    seen = set()
    for value in corpus:
        row = {key: enforce(profile, value) for key, profile in profiles}
        if "ok" in row["nickname"]:
            row["nickname_key"] = enforce(profiles[1][1], row["nickname"]["ok"])
        results.append(row)
        seen.update(value)
        for outcome in row.values():
            seen.update(outcome.get("ok", ""))

    json.dump(
        {
            "unicode_version": unicodedata.unidata_version,
            "precis_i18n_version": metadata.version("precis-i18n"),
            "results": results,
            "categories": {"%04X" % ord(c): unicodedata.category(c) for c in seen},
            "control_or_format": [
                cp
                for cp in range(0x110000)
                if unicodedata.category(chr(cp)) in ("Cc", "Cf")
            ],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
