# SeaweedFS backend for bench/remote-build.sh (sourced): master, volume, filer and S3
# gateway in one `weed server` on loopback, signatures checked, bucket created with a
# signed CreateBucket (boto3 from the test venv). Sets server_pid, server_port, remote_url.
start_seaweedfs() {
    local d=$work/seaweedfs weed=$PWD/.tools/venv/bin/weed
    [ -x "$weed" ] || { echo "missing $weed: run scripts/install-deps.sh" >&2; exit 1; }
    mkdir -p "$d/data"
    export AWS_ACCESS_KEY_ID=casbridge-bench AWS_SECRET_ACCESS_KEY=casbridge-bench-secret
    export AWS_CONFIG_FILE=$d/no-config AWS_SHARED_CREDENTIALS_FILE=$d/no-credentials
    cat >"$d/identities.json" <<JSON
{"identities":[{"name":"bench","credentials":[{"accessKey":"$AWS_ACCESS_KEY_ID","secretKey":"$AWS_SECRET_ACCESS_KEY"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
    local p=() i
    for i in 1 2 3 4 5 6 7 8; do p+=("$(free_port)"); done
    server_port=${p[6]}
    "$weed" server -dir="$d/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="${p[0]}" -master.port.grpc="${p[1]}" -volume.port="${p[2]}" -volume.port.grpc="${p[3]}" \
        -volume.max=0 -master.volumeSizeLimitMB=256 \
        -filer -filer.port="${p[4]}" -filer.port.grpc="${p[5]}" \
        -s3 -s3.port="$server_port" -s3.port.grpc="${p[7]}" -s3.port.iceberg=0 -s3.port.lance=0 \
        -s3.config="$d/identities.json" >"$d/weed.log" 2>&1 &
    server_pid=$!
    wait_port "$server_port"
    local endpoint=http://127.0.0.1:$server_port
    for _ in $(seq 100); do
        if "$PWD/.tools/venv/bin/python" - "$endpoint" <<'PY' 2>/dev/null; then break; fi
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    s3.create_bucket(Bucket="casbridge")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
PY
        sleep 0.2
    done
    remote_url="s3://casbridge/bench?endpoint=$endpoint"
    backend_version=$("$weed" version 2>/dev/null | head -1)
}
