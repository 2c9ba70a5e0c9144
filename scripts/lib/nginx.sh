# nginx as a bazel-remote-layout HTTP cache (sourced): WebDAV PUT and static GET of `/ac/<hex>` and `/cas/<hex>`
# under any path prefix (http://127.0.0.1:PORT/NAME keeps its files under root/NAME), on loopback, one worker,
# files under DIR/root. The one configuration the benchmarks and the rules/ tests start nginx with.

# write_nginx_conf DIR PORT [EXTRA]: writes DIR/nginx.conf (and the directories it names); EXTRA is added to the
# server block as it is (say, another location).
write_nginx_conf() {
    local d=$1 port=$2 extra=${3:-}
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
        listen 127.0.0.1:$port;
        location ~ "^(/[A-Za-z0-9._-]+)*/(ac|cas)/[0-9a-f]{64}\$" {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
            root $d/root;
        }
$extra
    }
}
CONF
}
