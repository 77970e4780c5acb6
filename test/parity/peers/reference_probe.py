#!/usr/bin/env python3
"""Independent reference probe for session.iterate.v1 (SPEC section 5), for `npm run parity -- --peer`.

Reads one fixture on stdin, prints the row with timestamp/daemon pinned. It mirrors what
serde_json does: schema key order, compact separators, raw UTF-8, artifact keys sorted by code
point (Python sorts str by code point) at every depth, prompt cut at 4000 code points.
"""
import json
import sys


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def main():
    try:
        fx = json.loads(sys.stdin.read())
        parts = [
            ("schema", "session.iterate.v1"),
            ("session_id", fx["session_id"]),
            ("timestamp", "2026-01-01T00:00:00+00:00"),
            ("daemon", "gateway"),
            ("kind", fx["kind"]),
            ("model", fx["model"]),
            ("provider", fx["provider"]),
            ("prompt", fx["prompt"][:4000]),
            ("iterations", int(fx["iterations"])),
            ("max_iterations", int(fx["max_iterations"])),
            ("final_verdict", fx["final_verdict"]),
        ]
        attempts = []
        for a in fx["attempts"]:
            items = [("iteration", a["iteration"]), ("verdict_kind", a["verdict_kind"])]
            if a.get("error") is not None:
                items.append(("error", a["error"]))
            if a.get("span_id") is not None:
                items.append(("span_id", a["span_id"]))
            attempts.append("{" + ",".join(dumps(k) + ":" + dumps(v) for k, v in items) + "}")
        out = "{" + ",".join(dumps(k) + ":" + dumps(v) for k, v in parts)
        out += ',"attempts":[' + ",".join(attempts) + "]"
        if fx.get("artifact") is not None:
            out += ',"artifact":' + dumps(fx["artifact"])
        out += ',"grounded_in_roster":' + dumps(fx["grounded_in_roster"])
        out += ',"duration_ms":' + dumps(int(fx["duration_ms"])) + "}\n"
    except (ValueError, KeyError, TypeError) as error:
        sys.stderr.write("reference_probe: bad fixture: %r\n" % (error,))
        return 1
    sys.stdout.buffer.write(out.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
