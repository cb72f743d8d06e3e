# CPython's struct module as a test oracle for src/protocol/struct. Reads one JSON request on stdin
# ({"jobs": [...]}) and writes one JSON reply ({"results": [...]}), so a test file spawns python3
# once for thousands of cases.
#
# Values arrive tagged, because JSON cannot carry Python's types exactly:
#   ["i", "123"]  int (decimal text)      ["f", "3ff0000000000000"]  float (big-endian IEEE bits)
#   ["b", true]   bool                    ["y", "6162"]              bytes (hex)
import json
import struct
import sys


def value(tagged):
    tag, v = tagged
    if tag == "i":
        return int(v)
    if tag == "f":
        return struct.unpack(">d", bytes.fromhex(v))[0]
    if tag == "b":
        return bool(v)
    if tag == "y":
        return bytes.fromhex(v)
    raise ValueError(f"unknown tag {tag!r}")


def error(e):
    return {"type": type(e).__name__, "message": str(e)}


def unpack_repr(fmt, data):
    try:
        return {"repr": repr(struct.unpack(fmt, data))}
    except Exception as e:  # '0p' makes CPython raise SystemError
        return {"error": error(e)}


def job_pack(job):
    # Packs with CPython; unpacks CPython's bytes and, when given, ours.
    fmt = job["fmt"]
    out = {}
    try:
        packed = struct.pack(fmt, *[value(v) for v in job["values"]])
    except Exception as e:
        out["error"] = error(e)
    else:
        out["packed"] = packed.hex()
        out["unpacked"] = unpack_repr(fmt, packed)
    if job.get("ours") is not None:
        out["oursUnpacked"] = unpack_repr(fmt, bytes.fromhex(job["ours"]))
    return out


def job_unpack(job):
    return unpack_repr(job["fmt"], bytes.fromhex(job["data"]))


def job_calcsize(job):
    fmt = job["fmt"]
    try:
        size = struct.calcsize(fmt)
    except Exception as e:
        return {"error": error(e)}
    fields = None
    if size <= 1 << 16:
        try:
            fields = len(struct.unpack(fmt, bytes(size)))
        except SystemError:
            pass
    return {"size": size, "fields": fields}


def job_pack_each(job):
    # One single-value format applied to many values: hex, or the error message.
    out = []
    for v in job["values"]:
        try:
            out.append(struct.pack(job["fmt"], value(v)).hex())
        except Exception as e:
            out.append("error: " + str(e))
    return out


def job_repr_floats(job):
    return [repr(value(["f", h])) for h in job["values"]]


JOBS = {
    "pack": job_pack,
    "unpack": job_unpack,
    "calcsize": job_calcsize,
    "packEach": job_pack_each,
    "reprFloats": job_repr_floats,
}

request = json.load(sys.stdin)
json.dump({"results": [JOBS[job["kind"]](job) for job in request["jobs"]]}, sys.stdout)
