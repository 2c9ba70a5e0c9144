# nginx backend for the remote benchmarks (sourced; needs $work, free_port and wait_port from bench/lib.sh):
# the bazel-remote HTTP layout served by nginx's WebDAV PUT and static GET on loopback, one worker, blobs
# under $work/nginx/root. Any path prefix is accepted (http://127.0.0.1:PORT/NAME keeps its blobs under
# root/NAME), so a benchmark can give a run an empty remote of its own. Sets server_pid, server_port,
# remote_url, backend_version.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/nginx.sh"
start_nginx() {
    server_port=$(free_port)
    local d=$work/nginx
    write_nginx_conf "$d" "$server_port"
    /usr/sbin/nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
    server_pid=$!
    wait_port "$server_port"
    remote_url=http://127.0.0.1:$server_port
    backend_version=$(/usr/sbin/nginx -v 2>&1)
}
