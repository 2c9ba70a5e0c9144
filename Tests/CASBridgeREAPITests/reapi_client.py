"""A REAPI client independent of CASBridge's Swift code (BuildGrid's Python protos and grpcio).

check: recomputes the documented Action digest of a Go ActionID, checks that the Command and
Action blobs are in the CAS, that GetActionResult returns a proper ActionResult with one output
file of the given digest, and reads the output blob through ByteStream and checks its hash.

write: stores a blob and an ActionResult for an ActionID the way any REAPI client would, for the
Swift side to read.

Run with .tools/venv/bin/python; prints a JSON summary, exits 1 on a failed check.
"""
import argparse
import hashlib
import json
import sys

import grpc
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as re
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2_grpc as re_grpc
from buildgrid._protos.google.bytestream import bytestream_pb2 as bs
from buildgrid._protos.google.bytestream import bytestream_pb2_grpc as bs_grpc

SALT = b"casbridge/v1"


def digest_of(data):
    return re.Digest(hash=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def action_for(action_id):
    command = re.Command(arguments=["casbridge-go-action", action_id]).SerializeToString(deterministic=True)
    action = re.Action(
        command_digest=digest_of(command), input_root_digest=digest_of(b""), salt=SALT
    ).SerializeToString(deterministic=True)
    return command, action


def fail(message):
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


def check(channel, instance, action_id, output, size):
    cas = re_grpc.ContentAddressableStorageStub(channel)
    ac = re_grpc.ActionCacheStub(channel)
    command, action = action_for(action_id)
    missing = cas.FindMissingBlobs(
        re.FindMissingBlobsRequest(instance_name=instance, blob_digests=[digest_of(command), digest_of(action)])
    ).missing_blob_digests
    if missing:
        fail(f"Command/Action blobs missing from the CAS: {[d.hash for d in missing]}")
    read = cas.BatchReadBlobs(re.BatchReadBlobsRequest(instance_name=instance, digests=[digest_of(action)]))
    if read.responses[0].data != action:
        fail("the Action blob in the CAS differs from the documented encoding")
    try:
        result = ac.GetActionResult(re.GetActionResultRequest(instance_name=instance, action_digest=digest_of(action)))
    except grpc.RpcError as e:
        fail(f"GetActionResult({digest_of(action).hash}): {e.code()} {e.details()}")
    if len(result.output_files) != 1:
        fail(f"expected one output file, got {len(result.output_files)}")
    f = result.output_files[0]
    if f.path != "output" or f.digest.hash != output or f.digest.size_bytes != size:
        fail(f"wrong output file: {f.path} {f.digest.hash}/{f.digest.size_bytes}")
    if result.exit_code != 0 or result.output_directories:
        fail("unexpected exit code or output directories")
    meta = result.execution_metadata
    if meta.worker != "casbridge" or not meta.HasField("worker_completed_timestamp"):
        fail("execution_metadata lacks the worker or its completed timestamp")
    stream = bs_grpc.ByteStreamStub(channel)
    name = f"blobs/{output}/{size}"
    if instance:
        name = f"{instance}/{name}"
    data = b"".join(r.data for r in stream.Read(bs.ReadRequest(resource_name=name)))
    if hashlib.sha256(data).hexdigest() != output or len(data) != size:
        fail("the output blob read through ByteStream does not match its digest")
    print(json.dumps({
        "ok": True,
        "action_digest": f"{digest_of(action).hash}/{len(action)}",
        "time": meta.worker_completed_timestamp.ToJsonString(),
    }))


def write(channel, instance, action_id, content):
    cas = re_grpc.ContentAddressableStorageStub(channel)
    ac = re_grpc.ActionCacheStub(channel)
    command, action = action_for(action_id)
    blobs = [command, action, content]
    cas.BatchUpdateBlobs(re.BatchUpdateBlobsRequest(
        instance_name=instance,
        requests=[re.BatchUpdateBlobsRequest.Request(digest=digest_of(b), data=b) for b in blobs],
    ))
    result = re.ActionResult(output_files=[re.OutputFile(path="output", digest=digest_of(content))])
    result.execution_metadata.worker = "python"
    result.execution_metadata.worker_completed_timestamp.FromSeconds(1_600_000_000)
    ac.UpdateActionResult(re.UpdateActionResultRequest(
        instance_name=instance, action_digest=digest_of(action), action_result=result))
    print(json.dumps({"ok": True, "output": digest_of(content).hash, "size": len(content)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["check", "write"])
    p.add_argument("--target", required=True, help="host:port")
    p.add_argument("--instance", default="")
    p.add_argument("--action-id", required=True)
    p.add_argument("--output", help="check: expected output hash")
    p.add_argument("--size", type=int, help="check: expected output size")
    p.add_argument("--content", help="write: the output's content")
    a = p.parse_args()
    with grpc.insecure_channel(a.target) as channel:
        if a.mode == "check":
            check(channel, a.instance, a.action_id, a.output, a.size)
        else:
            write(channel, a.instance, a.action_id, a.content.encode())


if __name__ == "__main__":
    main()
