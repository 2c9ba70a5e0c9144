# nginx backend for the remote benchmarks (sourced; needs $work, free_port and wait_port from bench/lib.sh):
# the bazel-remote HTTP layout served by nginx's WebDAV PUT and static GET on loopback, one worker, blobs
# under $work/nginx/root. Any path prefix is accepted (http://127.0.0.1:PORT/NAME keeps its blobs under
# root/NAME), so a benchmark can give a run an empty remote of its own. Sets server_pid, server_port,
# remote_url, backend_version.
start_nginx() {
    server_port=$(free_port)
    local d=$work/nginx
    mkdir -p "$d/root/ac" "$d/root/cas" "$d/tmp"
    cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $d/error.log warn;
pid $d/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    log_not_found off;
    client_body_temp_path $d/tmp;
    proxy_temp_path $d/tmp;
    fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp;
    scgi_temp_path $d/tmp;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$server_port;
        location ~ "^(/[A-Za-z0-9._-]+)*/(ac|cas)/[0-9a-f]{64}\$" {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
            root $d/root;
        }
    }
}
CONF
    /usr/sbin/nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
    server_pid=$!
    wait_port "$server_port"
    remote_url=http://127.0.0.1:$server_port
    backend_version=$(/usr/sbin/nginx -v 2>&1)
}
